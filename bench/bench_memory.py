"""Peak memory of ingest and of the data-quality gates as one plant-day's export grows, up to 5 GB.

Each size is a PI recorded-values export of one local day (as many tags as needed for one reading per tag
and second, a digital state every 5000th row). Each stage runs in its own fresh process, as a Dagster step
would, and reports its peak resident set (VmHWM): **ingest** = parse + classify + quarantine +
reconcile + move the Parquet into the lake (the `raw_historian` asset's work); **gates** = the raw and
canonical metrics and both GX suites (the blocking checks' work). Both run with the production DuckDB
settings (`work_duckdb_config`: 1 GB cap, spill to disk). `python -m bench memory`.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from plant_assets.core.settings import REPO_ROOT

DAY = "2026-09-07"
SECONDS_PER_DAY = 86_400
TARGET_GIB = 2.0
BYTES_PER_ROW = 51.4  # of the export below, measured


def write_export(path: Path, rows: int) -> int:
    """A PI export of `rows` readings; returns the tag count."""
    tags = math.ceil(rows / SECONDS_PER_DAY)
    with duckdb.connect(config={"memory_limit": "2GB", "temp_directory": str(path.parent / "gen_spill")}) as con:
        con.execute(
            f"""COPY (SELECT 'AREA' || (i % {tags} // 100) || '.DEV' || lpad((i % {tags})::VARCHAR, 5, '0') || '.PV' AS "Tag",
                   strftime(TIMESTAMP '{DAY} 00:00:00' + to_seconds(i // {tags}), '%d-%b-%Y %H:%M:%S') AS "Timestamp",
                   CASE WHEN i % 5000 = 17 THEN 'I/O Timeout' ELSE round(100 + 50 * sin(i / 997.0), 3)::VARCHAR END AS "Value",
                   CASE WHEN i % 5000 = 17 THEN 'Bad' ELSE 'Good' END AS "Status"
                FROM range({rows}) t(i) ORDER BY i % {tags}, i) TO '{path}' (HEADER, QUOTE '')"""
        )
    return tags


def _plant(tags: int):
    from bench.bench_ingest import _plant as bench_plant

    return bench_plant("pi_recorded", {}, "Europe/Berlin", [f"AREA{k // 100}.DEV{k:05d}.PV" for k in range(tags)])


def child(stage: str, export: str, lake: str, tags: int) -> dict:
    """One stage in this (fresh) process; returns its seconds and peak RSS."""
    from datetime import date

    from plant_assets.core import lake as lake_paths

    plant, day, lake_dir = _plant(tags), date.fromisoformat(DAY), Path(lake)
    accepted = lake_paths.accepted_path(lake_dir, "historian", plant.plant_id, day)
    reconciliation = lake_paths.reconciliation_path(lake_dir, "historian", plant.plant_id, day)
    started = time.perf_counter()
    if stage == "ingest":
        from plant_assets.core.settings import work_connection
        from plant_assets.ingest.exports import parse_historian

        with work_connection() as con:
            parsed = parse_historian(plant, [Path(export)], day, con)
        lake_paths.move_file_atomic(parsed.accepted_file, accepted)
        lake_paths.move_file_atomic(parsed.quarantine_file, lake_paths.quarantine_path(lake_dir, "historian", plant.plant_id, day))
        lake_paths.write_table_atomic(parsed.reconciliation, reconciliation)
        detail = {"accepted": parsed.accepted_rows, "quarantined": parsed.quarantined_rows}
    else:
        from plant_assets.quality import suite_parameters, validate_frame
        from plant_assets.quality.historian import historian_day_metrics

        metrics = historian_day_metrics(plant, accepted, reconciliation, None, plant.day_window_utc(day))
        raw = validate_frame("raw_historian", metrics.raw, suite_parameters("raw_historian")[0])
        canonical = validate_frame("canonical_signals", metrics.canonical, suite_parameters("canonical_signals")[0])
        detail = {"raw_passed": raw.passed, "canonical_passed": canonical.passed,
                  "failed_names": raw.failed_names + canonical.failed_names}
    return {"seconds": time.perf_counter() - started, "peak_rss_gib": peak_rss_gib(), **detail}


def peak_rss_gib() -> float:
    """This process's resident high-water mark (VmHWM). Not ru_maxrss: Linux carries that across exec, so a
    child would report its forking parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    raise RuntimeError("no VmHWM in /proc/self/status")


def _failed_child(reason: str) -> dict:
    return {"failed": reason, "seconds": float("nan"), "peak_rss_gib": float("nan"), "raw_passed": False,
            "canonical_passed": False, "failed_names": []}


def _run_child(stage: str, export: Path, lake: Path, tags: int, home: Path) -> dict:
    env = {"PLANT_ASSETS_HOME": str(home), "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin"}
    code = "import json, sys; from bench.bench_memory import child; print('RESULT ' + json.dumps(child(*sys.argv[1:4], int(sys.argv[4]))))"
    done = subprocess.run([sys.executable, "-c", code, stage, str(export), str(lake), str(tags)], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:  # recorded, so the other sizes are still measured
        errors = [line for line in done.stderr.splitlines() if "Error" in line or "Exception" in line] or ["no output"]
        return _failed_child(errors[-1][:300])
    results = [line.split("RESULT ", 1)[1] for line in done.stdout.splitlines() if "RESULT " in line]
    if not results:
        return _failed_child(f"no result ({done.stdout[-200:]!r})")
    return json.loads(results[-1])


def _gate_text(ingest: dict, gates: dict) -> str:
    for stage, outcome in (("ingest", ingest), ("gates", gates)):
        if "failed" in outcome:
            return f"{stage} failed: {outcome['failed']}"
    return "yes" if gates["raw_passed"] and gates["canonical_passed"] else "no: " + ", ".join(gates["failed_names"])


def run(quick: bool = False) -> str:
    sizes_gb = (0.02, 0.05) if quick else (0.25, 0.5, 1.0, 2.0, 5.0)
    rows_out = []
    with tempfile.TemporaryDirectory(prefix="plant-assets-bench-memory-") as tmp:
        base = Path(tmp)
        for size in sizes_gb:
            export = base / "PI_RecordedValues.csv"
            tags = max(1, round(size * 1e9 / BYTES_PER_ROW / SECONDS_PER_DAY))
            rows = tags * SECONDS_PER_DAY  # every tag complete: a clean day passes its gates
            write_export(export, rows)
            lake = base / "lake"
            ingest = _run_child("ingest", export, lake, tags, base)
            gates = _run_child("gates", export, lake, tags, base)
            rows_out.append({"export_gb": export.stat().st_size / 1e9, "rows": rows, "tags": tags,
                             "ingest": ingest, "gates": gates})
            export.unlink()
            shutil.rmtree(lake)
    table = ["| export | readings | tags | ingest s | ingest peak RSS | gates s | gates peak RSS | gates passed |",
             "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows_out:
        i, g = r["ingest"], r["gates"]
        table.append(f"| {r['export_gb']:.2f} GB | {r['rows']:,} | {r['tags']:,} | {i['seconds']:.1f} | "
                     f"{i['peak_rss_gib']:.2f} GiB | {g['seconds']:.1f} | {g['peak_rss_gib']:.2f} GiB | "
                     f"{_gate_text(i, g)} |")
    ok = [r for r in rows_out if "failed" not in r["ingest"] and "failed" not in r["gates"]]
    peak = max(max(r["ingest"]["peak_rss_gib"], r["gates"]["peak_rss_gib"]) for r in ok) if ok else float("nan")
    first, last = rows_out[0], rows_out[-1]
    growth = max(last["ingest"]["peak_rss_gib"], last["gates"]["peak_rss_gib"]) / max(
        first["ingest"]["peak_rss_gib"], first["gates"]["peak_rss_gib"])
    complete = len(ok) == len(rows_out)
    verdict = "quick mode" if quick else ("met" if complete and peak < TARGET_GIB else "missed")
    return f"""## Peak memory as exports grow (ingest and gates of one plant-day)

{__doc__.split(chr(10), 2)[2].strip()}

{chr(10).join(table)}

Target: peak memory under {TARGET_GIB:.0f} GiB for a 5 GB export, flat as exports grow. Measured: highest peak
{peak:.2f} GiB; from the smallest to the largest export ({first['export_gb']:.2f} -> {last['export_gb']:.2f} GB) the peak
grew x{growth:.2f} while the export grew x{last['export_gb'] / first['export_gb']:.0f}: **{verdict}**.

What keeps it flat: DuckDB does all the work under a 1 GB cap (`PLANT_ASSETS_INGEST_MEMORY`) and spills beyond it
to `<home>/tmp/duckdb_spill`; the parsers write accepted and quarantined rows to Parquet with DuckDB's `COPY`
(never as an Arrow table in Python), and the gates read the Parquet back in DuckDB and hand GX one row of metrics
per tag. What remains is the Python process itself (Dagster, pandas, GX imports: about 0.3-0.5 GiB) plus
DuckDB's cap. What it costs: above the cap the classified rows spill to disk, so very large exports parse at disk
speed (seconds per GB above).
"""


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
