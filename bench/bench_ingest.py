"""Ingest throughput per historian dialect vs DuckDB's bare read and a plain pandas pipeline.

For every dialect the same synthetic day (N readings of 64 tags, one reading per tag and second, a few
digital states / bad qualities) is written in that dialect's file format, then read three ways:

  dialect   plant_assets.ingest.exports.parse_historian (full classification, DST-aware time zone conversion,
            quality mapping, dedup proof, quarantine + reconciliation) + the accepted table to Parquet
  duckdb    DuckDB's bare read_csv (typed, with the timestamp format) -> Parquet (COPY), nothing else
  pandas    pandas.read_csv + to_datetime(format=...) + to_parquet

Records/s counts readings (a wide file's record is one (row, tag) cell). `python -m bench ingest`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable

import duckdb

DAY = date(2026, 9, 7)
TAGS = 64
TARGET_VS_DUCKDB = 0.60
TARGET_VS_PANDAS = 10.0


def _plant(dialect: str, options: dict[str, Any], tz: str, tags: list[str]) -> Any:
    import yaml

    from plant_assets.core.plant_config import PlantConfig, TagMapping
    from plant_assets.core.settings import REPO_ROOT

    raw = yaml.safe_load((REPO_ROOT / "plants" / "plant_a" / "plant.yaml").read_text())
    raw["timezone"] = tz
    raw["historian"] = {"dialect": dialect, "file_pattern": "bench.csv", "options": options}
    tag_map = tuple(TagMapping(source_tag=t, signal="motor_current", source_unit="A", line_id="L1", asset_id="L1-M1")
                    for t in tags)
    return PlantConfig(**raw, tag_map=tag_map)


def _base(con: duckdb.DuckDBPyConnection, n: int) -> None:
    """A table of n readings: tag i % 64 at second i // 64 of the local day (UTC = local - 2 h, CEST)."""
    con.execute(
        """CREATE OR REPLACE TABLE base AS
        SELECT i, 'AREA1.LINE' || (i % 64 // 8 + 1) || '.DEV' || (i % 8 + 1) || '.PV' AS tag, i % 64 AS tag_id,
               TIMESTAMP '2026-09-07 00:00:00' + to_seconds(i // 64) AS ts_local,
               TIMESTAMP '2026-09-06 22:00:00' + to_seconds(i // 64) AS ts_utc,
               round(100 + 50 * sin(i / 997.0) + (i % 64), 3) AS value,
               (i % 5000 = 17) AS is_bad
        FROM range(?) t(i)""",
        [n],
    )


def _write_formats(con: duckdb.DuckDBPyConnection, d: Path, n: int) -> dict[str, dict[str, Any]]:
    """Each dialect's export file of the same readings, with how to read it."""
    def copy(sql: str, path: Path, header: bool = True, delim: str = ",") -> None:
        con.execute(f"COPY ({sql}) TO '{path}' (HEADER {str(header).lower()}, DELIMITER '{delim}', QUOTE '')")

    out: dict[str, dict[str, Any]] = {}
    tags = [r[0] for r in con.execute("SELECT DISTINCT tag FROM base ORDER BY 1").fetchall()]
    p = d / "pi.csv"
    copy("""SELECT tag AS "Tag", strftime(ts_local, '%d-%b-%Y %H:%M:%S') AS "Timestamp",
                   CASE WHEN is_bad THEN 'I/O Timeout' ELSE value::VARCHAR END AS "Value",
                   CASE WHEN is_bad THEN 'Bad' ELSE 'Good' END AS "Status" FROM base ORDER BY tag_id, i""", p)
    out["pi_recorded"] = {"path": p, "options": {}, "tz": "Europe/Berlin", "records": n, "fmt": "%d-%b-%Y %H:%M:%S",
                          "ts_col": "Timestamp", "value_col": "Value"}
    p = d / "aveva_narrow.csv"
    copy("""SELECT strftime(ts_local, '%Y-%m-%d %H:%M:%S.000') AS "DateTime", tag AS "TagName",
                   CASE WHEN NOT is_bad THEN value END AS "Value", CASE WHEN NOT is_bad THEN value END AS "vValue",
                   CASE WHEN is_bad THEN 1 ELSE 0 END AS "Quality", 192 AS "QualityDetail",
                   CASE WHEN is_bad THEN 0 ELSE 192 END AS "OPCQuality" FROM base ORDER BY i""", p)
    out["aveva_narrow"] = {"path": p, "options": {}, "tz": "Europe/Berlin", "records": n,
                           "fmt": "%Y-%m-%d %H:%M:%S.%g", "ts_col": "DateTime"}
    p = d / "canary.csv"
    copy("""SELECT tag AS "TagName", strftime(ts_utc, '%Y-%m-%dT%H:%M:%S.%fZ') AS "TimeStamp", value AS "Value",
                   CASE WHEN is_bad THEN 0 ELSE 192 END AS "Quality" FROM base ORDER BY tag_id, i""", p)
    out["canary_tvq"] = {"path": p, "options": {}, "tz": "Europe/Berlin", "records": n, "fmt": "%Y-%m-%dT%H:%M:%S.%fZ",
                         "ts_col": "TimeStamp"}
    p = d / "generic_long.csv"
    copy("""SELECT tag, strftime(ts_local, '%d.%m.%Y %H:%M:%S') AS timestamp, replace(value::VARCHAR, '.', ',') AS value
            FROM base ORDER BY i""", p, delim=";")
    out["generic (long, ';', decimal comma)"] = {
        "dialect": "generic", "path": p, "tz": "Europe/Berlin", "records": n, "fmt": "%d.%m.%Y %H:%M:%S",
        "ts_col": "timestamp", "delim": ";", "decimal": ",",
        "options": {"delimiter": ";", "decimal_comma": True, "timestamp_format": "%d.%m.%Y %H:%M:%S"}}
    # wide: one row per second, one column per tag
    pivot_cols = ", ".join(f"max(value) FILTER (WHERE tag_id = {k}) AS \"{tags_by_id}\""
                           for k, tags_by_id in enumerate(
                               [r[0] for r in con.execute("SELECT tag FROM base WHERE i < 64 ORDER BY i").fetchall()]))
    p = d / "aveva_wide.csv"
    copy(f"""SELECT strftime(ts_local, '%Y-%m-%d %H:%M:%S.000') AS "DateTime", {pivot_cols}
             FROM base GROUP BY ts_local ORDER BY ts_local""", p)
    out["aveva_wide"] = {"path": p, "options": {}, "tz": "Europe/Berlin", "records": n,
                         "fmt": "%Y-%m-%d %H:%M:%S.%g", "ts_col": "DateTime"}
    p = d / "sqlt_data_1_2026_09_07.csv"
    copy("""SELECT tag_id + 1 AS tagid, NULL AS intvalue, value AS floatvalue, NULL AS stringvalue, NULL AS datevalue,
                   CASE WHEN is_bad THEN 0 ELSE 192 END AS dataintegrity, epoch_ms(ts_utc) AS t_stamp
            FROM base ORDER BY i""", p)
    con.execute(f"""COPY (SELECT k + 1 AS id, tag AS tagpath, 1 AS scid, 1 AS datatype, 0 AS querymode,
                                 0 AS created, NULL AS retired
                          FROM (SELECT DISTINCT tag_id AS k, tag FROM base) ORDER BY k)
                    TO '{d / "sqlth_te.csv"}' (HEADER true)""")
    out["ignition_sqlt"] = {"path": p, "options": {"tag_table": "sqlth_te.csv"}, "tz": "Europe/Berlin", "records": n,
                            "fmt": None, "ts_col": "t_stamp"}
    for spec in out.values():
        spec["tags"] = tags
    return out


def _timed(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _dialect_run(name: str, spec: dict[str, Any], out: Path) -> Callable[[], None]:
    from plant_assets.core.lake import move_file_atomic as lake_move_file
    from plant_assets.core.settings import work_connection
    from plant_assets.ingest.exports import parse_historian

    plant = _plant(spec.get("dialect", name), spec["options"], spec["tz"], spec["tags"])

    def run() -> None:
        with work_connection() as con:  # as the ingest asset connects
            result = parse_historian(plant, [spec["path"]], DAY, con)
        assert result.unbalanced_files() == []
        assert result.accepted_rows == spec["records"], (name, result.reason_counts())
        lake_move_file(result.accepted_file, out)

    return run


def _duckdb_run(spec: dict[str, Any], out: Path) -> Callable[[], None]:
    delim = spec.get("delim", ",")
    if spec["fmt"]:
        read = (f"read_csv('{spec['path']}', header = true, delim = '{delim}', timestampformat = '{spec['fmt']}', "
                "ignore_errors = true"
                + (", decimal_separator = ','" if spec.get("decimal") else "") + ")")
    else:  # epoch ms
        read = f"(SELECT * REPLACE (make_timestamp(t_stamp * 1000) AS t_stamp) FROM read_csv('{spec['path']}', header = true))"

    def run() -> None:
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT * FROM {read}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")

    return run


def _pandas_run(spec: dict[str, Any], out: Path) -> Callable[[], None]:
    import pandas as pd

    def run() -> None:
        df = pd.read_csv(spec["path"], sep=spec.get("delim", ","), decimal=spec.get("decimal", "."))
        col = spec["ts_col"]
        if spec["fmt"]:
            fmt = spec["fmt"].replace("%g", "%f")
            df[col] = pd.to_datetime(df[col], format=fmt)
        else:
            df[col] = pd.to_datetime(df[col], unit="ms")
        if spec.get("value_col"):  # digital states in the value column: numbers or NaN
            df[spec["value_col"]] = pd.to_numeric(df[spec["value_col"]], errors="coerce")
        df.to_parquet(out, compression="zstd")

    return run


def run(quick: bool) -> str:
    n = 200_000 if quick else 3_000_000
    repeat = 1 if quick else 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        with duckdb.connect() as con:
            _base(con, n)
            specs = _write_formats(con, tmp, n)
        rows = []
        for name, spec in specs.items():
            size_mb = spec["path"].stat().st_size / 2**20
            t_dialect = _timed(_dialect_run(name, spec, tmp / "d.parquet"), repeat)
            t_duck = _timed(_duckdb_run(spec, tmp / "b.parquet"), repeat)
            t_pandas = _timed(_pandas_run(spec, tmp / "p.parquet"), 1)
            rows.append((name, size_mb, spec["records"], t_dialect, t_duck, t_pandas))
            print(f"{name}: dialect {t_dialect:.2f}s duckdb {t_duck:.2f}s pandas {t_pandas:.2f}s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "## Ingest throughput per dialect",
        "",
        f"{n:,} readings of {TAGS} tags (one plant-local day, about 1 in 5000 a digital state or bad quality), "
        "written in each dialect's own file format and read three ways: the **dialect** parser "
        "(`parse_historian`: full classification, DST-aware local-time conversion, quality mapping, duplicate "
        "proof, quarantine and reconciliation, accepted rows written to Parquet by DuckDB's `COPY`), DuckDB's **bare** typed "
        "`read_csv` -> Parquet `COPY` (no validation, no time zone, no quality), and **pandas** `read_csv` + "
        "`to_datetime(format=...)` (+ `to_numeric` for PI's digital states) + `to_parquet`. Best of "
        f"{repeat} for dialect and DuckDB, one pandas run. All three write zstd Parquet, the lake's codec. "
        "A wide file's record is one (row, tag) cell.",
        "",
        "| dialect | file MB | records | dialect s | dialect rec/s | DuckDB bare s | DuckDB rec/s | pandas s | "
        "pandas rec/s | dialect / DuckDB | dialect / pandas |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    met_duck = met_pandas = 0
    for name, mb, recs, td, tb, tp in rows:
        r_duck, r_pandas = tb / td, tp / td
        met_duck += r_duck >= TARGET_VS_DUCKDB
        met_pandas += r_pandas >= TARGET_VS_PANDAS
        lines.append(f"| {name} | {mb:.0f} | {recs:,} | {td:.2f} | {recs / td:,.0f} | {tb:.2f} | {recs / tb:,.0f} | "
                     f"{tp:.2f} | {recs / tp:,.0f} | {r_duck:.0%} | {r_pandas:.1f}x |")
    lines += [
        "",
        f"Targets: at least {TARGET_VS_DUCKDB:.0%} of DuckDB's bare parse-and-write speed is met by "
        f"{met_duck} of {len(rows)} dialects; at least {TARGET_VS_PANDAS:.0f}x pandas by {met_pandas} of {len(rows)}.",
        "",
        "What limits the dialect figures: every line is read as one text column (numbered by its rowid in "
        "the order-kept lines table) and split with `string_split` (so a malformed line can be quarantined "
        "with its raw text and line number instead of failing the file, which DuckDB's typed reader cannot "
        "do), every record passes the reason rules, the local-to-UTC conversion and the quality map, and "
        "the accepted rows are written in (tag, time) order (a sort, skipped when the cheap uniqueness pass "
        "proves a tag-major file already is in that order) with their lineage (source file and line). Tag "
        "lookups and the tag, quality and file columns use ENUM types, so neither the lookup nor Parquet's "
        "dictionary hashes every value. Splitting alone takes more than half the bare read's time; classifying and "
        "writing three more columns than the file holds cost the rest. Wide files pay for unpivoting every "
        "cell; Ignition's time-major rows need the full duplicate GROUP BY (two tag ids may name one tag). "
        "pandas is single-threaded and parses dates in Python-level loops for non-ISO formats; DuckDB's bare "
        "read uses both cores with typed columns. The 10x pandas target cannot be met as measured here: "
        "DuckDB's bare read itself is only 0.8-9x this pandas pipeline (pandas 3 reads with pyarrow-backed "
        "strings and parses ISO dates vectorized), so 10x would need the dialect parser to beat an "
        "unvalidated DuckDB read.",
        "",
        "Note on the bare DuckDB read: with type auto-detection it fails the whole PI file on the first digital "
        "state (`Could not convert string \"I/O Timeout\" to DOUBLE`), so it runs with `ignore_errors = true`, "
        "which silently drops such rows: the speed of a reader that does not account for what it drops.",
    ]
    return "\n".join(lines)
