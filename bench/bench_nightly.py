"""Nightly end to end for 1, 10 and 50 plants x 1 day x ~500 tags: where the time goes.

One temp home holds a fleet of 50 plants (bench/fleet.py: copies of the three demo plants' dialects, each
with ~160 motors, so ~490 historian tags at 1-minute data, ~690k readings a plant-day). Setup (not timed):
three baseline days per plant with a few tags (the energy template needs only the line meters) are ingested,
built and trained, so every plant has an @champion. Then the measured day is run three times, for the
first 1, 10 and 50 plants, each the full nightly of `plant_assets.scaleout.window.run_window_distributed`:
registry refresh -> plant-day ingest runs (with their blocking gates), two at a time in two orchestrating
processes -> one dbt run for the day (all plants) -> one run of scoring, alerts, notifier, scorecard and the
analysts' copy. Dagster on SQLite, in-process executor, MLflow on SQLite: the embedded defaults.

Timings come from the Dagster instance's event log: a run's wall time (RUN_START..RUN_SUCCESS), the time
inside its steps (STEP_START..STEP_SUCCESS) and the rest (run launch, event writes, resource set-up).
Orchestration = everything that is not the data work, as process time: each run's time outside its steps;
the dbt step minus the time dbt's nodes ran (run_results.json), i.e. dbt's start-up, manifest load and the
per-node events; the GX import of each orchestrating process's first gate; and wall time outside every run
(starting the orchestrating processes, launching runs) times the two run slots.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

from plant_assets.core.settings import REPO_ROOT

BASELINE = (date(2026, 9, 8), date(2026, 9, 10))  # 3 days: the shortest baseline that trains (1 holdout day)
MEASURED_DAY = date(2026, 9, 14)  # not adjacent: no meter delta spans the two separately simulated windows
SMALL_TAGS = 12
TAGS = 500
PARALLEL_RUNS = 2
# The fleet sizes measured; PLANT_ASSETS_BENCH_NIGHTLY_PLANTS="1,2,4" gives a smoke run.
SCENARIOS = tuple(int(n) for n in os.environ.get("PLANT_ASSETS_BENCH_NIGHTLY_PLANTS", "1,10,50").split(","))
TARGET_SECONDS_50 = 300
TARGET_SCALING = 5.5
TARGET_ORCHESTRATION = 0.30


class RssSampler(threading.Thread):
    """Peak resident memory of this process and all its descendants, sampled from /proc."""

    def __init__(self, interval: float = 0.2):
        super().__init__(daemon=True)
        self.interval, self.samples, self._halt = interval, [], threading.Event()

    @staticmethod
    def _tree(pid: int) -> list[int]:
        pids, todo = [], [pid]
        while todo:
            p = todo.pop()
            pids.append(p)
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    todo += [int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()]
            except OSError:
                pass
        return pids

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def run(self) -> None:
        while not self._halt.is_set():
            sizes = [self._rss(p) for p in self._tree(os.getpid())]
            self.samples.append((time.time(), sum(sizes), max(sizes)))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float, end: float) -> tuple[int, int]:
        inside = [s for s in self.samples if start <= s[0] <= end] or [(0, 0, 0)]
        return max(s[1] for s in inside), max(s[2] for s in inside)


def _runs_since(instance, since: float) -> list[dict]:
    import dagster as dg

    runs = []
    for record in instance.get_run_records(dg.RunsFilter(created_after=datetime_utc(since))):
        run = record.dagster_run
        steps, starts = {}, {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
                steps[event.step_key] = entry.timestamp - starts[event.step_key]
        step_seconds = sum(steps.values())
        selected = {key.path[0] for key in (run.asset_selection or ())}
        runs.append({"job": run.job_name, "dbt": bool(selected & {"seeds", "staging", "intermediate", "marts"}), "status": run.status.value, "start": record.start_time,
                     "end": record.end_time, "wall": (record.end_time or 0) - (record.start_time or 0),
                     "steps": steps, "step_seconds": step_seconds})
    return sorted(runs, key=lambda r: r["start"] or 0)


def _failed_gates(lake: Path, keys: list[str]) -> dict[str, list]:
    """What each failed plant-day gate reported (from its gate result files in the lake)."""
    import pyarrow.parquet as pq

    from plant_assets.core import lake as lake_paths

    details = {}
    for key in keys:
        day, plant_id = key.split("|")
        for layer in ("raw", "canonical"):
            path = lake_paths.gate_path(lake, layer, plant_id, date.fromisoformat(day))
            if path.exists():
                row = pq.read_table(path).to_pylist()[0]
                if not row["passed"]:
                    details[f"{key} {layer}"] = json.loads(row["failed_expectations"])
    return details


def datetime_utc(ts: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _dbt_node_seconds(home: Path) -> tuple[float, float]:
    """(dbt's elapsed time, the sum of its nodes' execution times) of the last dbt invocation."""
    candidates = sorted(Path(REPO_ROOT / "dbt_project" / "target").glob("**/run_results.json"),
                        key=lambda p: p.stat().st_mtime)
    candidates += sorted(home.glob("**/run_results.json"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        return 0.0, 0.0
    results = json.loads(max(candidates, key=lambda p: p.stat().st_mtime).read_text())
    return float(results.get("elapsed_time", 0.0)), float(sum(r.get("execution_time", 0.0) for r in results["results"]))


def child(home: str) -> dict:
    """Runs in a process whose environment names the temp home (see run())."""
    import dagster as dg
    import duckdb

    from bench.fleet import make_fleet
    from plant_assets.core.plant_config import load_plants
    from plant_assets.scaleout.window import run_window_distributed
    from plant_assets.simulator import simulate_plants

    home_dir = Path(home)
    plants_dir, landing = home_dir / "plants", home_dir / "landing"
    started = time.perf_counter()
    # Setup: the baseline days with a few tags per plant (the energy template needs only the line meters),
    # ingested, built and trained; then the measured day simulated at full size, on its own (a separate
    # window, days after the baseline, so no meter delta spans the two simulations).
    baseline = tuple(d.isoformat() for d in BASELINE)
    fleet = max(SCENARIOS)
    ids = make_fleet(plants_dir, fleet, tags=SMALL_TAGS, baseline=baseline)
    simulate_plants(load_plants(plants_dir), BASELINE[0], (BASELINE[1] - BASELINE[0]).days + 1, landing,
                    home_dir / "truth_baseline")
    baseline_report = run_window_distributed(ids, BASELINE[0], BASELINE[1], train=True, parallel_runs=PARALLEL_RUNS)
    make_fleet(plants_dir, fleet, tags=TAGS, baseline=baseline, sample_prefix="N")
    simulate_plants(load_plants(plants_dir), MEASURED_DAY, 1, landing, home_dir / "truth")
    setup_seconds = time.perf_counter() - started

    sampler = RssSampler()
    sampler.start()
    scenarios = []
    with dg.DagsterInstance.get() as instance:
        for n in SCENARIOS:
            since = time.time()
            t0 = time.perf_counter()
            report = run_window_distributed(ids[:n], MEASURED_DAY, MEASURED_DAY, train=False, parallel_runs=PARALLEL_RUNS)
            wall = time.perf_counter() - t0
            runs = _runs_since(instance, since)
            dbt_elapsed, dbt_nodes = _dbt_node_seconds(home_dir)
            with duckdb.connect() as con:
                lake = home_dir / "lake"
                readings = con.execute(
                    "select count(*) from read_parquet($p, hive_partitioning = true) where production_date = $d",
                    {"p": str(lake / "raw" / "*" / "*" / "readings.parquet"), "d": MEASURED_DAY}).fetchone()[0]
            stages = {}
            for r in runs:
                stage = {"ingest_plant_day": "ingest + gates", "refresh_plant_registry": "registry"}.get(r["job"])
                if stage is None:
                    stage = "dbt" if r["dbt"] else "actions"
                s = stages.setdefault(stage, {"runs": 0, "start": r["start"], "end": r["end"], "step_seconds": 0.0, "run_seconds": 0.0})
                s["runs"] += 1
                s["start"], s["end"] = min(s["start"], r["start"]), max(s["end"], r["end"])
                s["step_seconds"] += r["step_seconds"]
                s["run_seconds"] += r["wall"]
                if stage == "ingest + gates":  # the gate checks' steps against the ingest assets' steps
                    for key, seconds in r["steps"].items():
                        part = "gate_step_seconds" if "gate" in key else "ingest_step_seconds"
                        s[part] = s.get(part, 0.0) + seconds
                        if key == "raw_historian":
                            s["historian_step_seconds"] = s.get("historian_step_seconds", 0.0) + seconds
            for s in stages.values():
                s["wall"] = s["end"] - s["start"]
                s["peak_rss_total"], s["peak_rss_process"] = sampler.peak(s["start"], s["end"])
            failed_runs = [f"{r['job']} {r['status']}" for r in runs if r["status"] != "SUCCESS"]
            scenarios.append({"plants": n, "wall": wall, "ok": report.ok and not failed_runs, "failed_runs": failed_runs,
                              "gate_failures": report.gate_failures, "failed_gates": _failed_gates(lake, report.gate_failures),
                              "ingest_failures": report.ingest_failures, "readings": readings, "stages": stages,
                              "run_seconds": sum(r["wall"] for r in runs),
                              "step_seconds": sum(r["step_seconds"] for r in runs),
                              "dbt_elapsed": dbt_elapsed, "dbt_nodes": dbt_nodes,
                              "peak_rss_total": sampler.peak(since, time.time())[0]})
    sampler.stop()
    return {"setup_seconds": setup_seconds, "baseline_ok": baseline_report.ok, "scenarios": scenarios,
            "import_seconds": _import_seconds()}


def _import_seconds() -> dict[str, float]:
    """Fresh-process import times: what every newly launched run or orchestrating process pays."""
    out = {}
    for name, module in (("python + dagster", "dagster"), ("definitions (plant_assets.definitions)", "plant_assets.definitions"),
                         ("great_expectations", "great_expectations"), ("mlflow", "mlflow"), ("dbt (dbt.cli.main)", "dbt.cli.main")):
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
        out[name] = float(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else float("nan")
    return out


def _env(home: Path) -> dict[str, str]:
    from plant_assets.scaleout.demo import home_env

    env = home_env(home, home / "plants", None)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    return {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}


def measure(home: Path) -> dict:
    code = "import json, sys; from bench.bench_nightly import child; print('RESULT ' + json.dumps(child(sys.argv[1])))"
    done = subprocess.run([sys.executable, "-c", code, str(home)], env=_env(home), cwd=REPO_ROOT, capture_output=True, text=True)
    lines = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"nightly benchmark failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-5000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def report(result: dict) -> str:
    rows = ["| plants | readings | wall s | ingest + gates s | dbt s | actions s | registry s | runs | orchestration share | peak RSS (all processes) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    shares = {}
    for sc in result["scenarios"]:
        st = sc["stages"]
        # dbt's work is the time its nodes ran (at most its own elapsed time); the rest of the dbt step is
        # dbt's process start-up, manifest load and Dagster's per-node event handling.
        dbt_step = st.get("dbt", {}).get("step_seconds", 0.0)
        dbt_overhead = max(0.0, dbt_step - min(sc["dbt_nodes"], sc["dbt_elapsed"]))
        # The first gate of each orchestrating process imports GX (the rest of a gate is work).
        gx_imports = min(PARALLEL_RUNS, st.get("ingest + gates", {}).get("runs", 0)) * result["import_seconds"]["great_expectations"]
        work = sc["step_seconds"] - dbt_overhead - gx_imports
        # Wall time outside every run: starting the orchestrating processes, launching runs.
        outside_runs = max(0.0, sc["wall"] - sum(s["wall"] for s in st.values()))
        orchestration = (sc["run_seconds"] - sc["step_seconds"]) + dbt_overhead + gx_imports + outside_runs * PARALLEL_RUNS
        shares[sc["plants"]] = orchestration / (orchestration + work)
        rows.append(
            f"| {sc['plants']} | {sc['readings']:,} | {sc['wall']:.0f} | {st.get('ingest + gates', {}).get('wall', 0):.0f} | "
            f"{st.get('dbt', {}).get('wall', 0):.0f} | {st.get('actions', {}).get('wall', 0):.0f} | "
            f"{st.get('registry', {}).get('wall', 0):.0f} | {sum(s['runs'] for s in st.values())} | "
            f"{shares[sc['plants']]:.0%} | {_gib(sc['peak_rss_total'])} |")
    by_n = {sc["plants"]: sc for sc in result["scenarios"]}
    small, large = sorted(by_n)[-2:]
    t10, t50 = by_n[small]["wall"], by_n[large]["wall"]
    stage_rows = ["| plants | stage | runs | wall s | inside steps s | run overhead s | peak RSS (all processes) | peak RSS (one process) |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for sc in result["scenarios"]:
        for name, s in sc["stages"].items():
            stage_rows.append(f"| {sc['plants']} | {name} | {s['runs']} | {s['wall']:.1f} | {s['step_seconds']:.1f} | "
                              f"{s['run_seconds'] - s['step_seconds']:.1f} | {_gib(s['peak_rss_total'])} | {_gib(s['peak_rss_process'])} |")
    imports = "\n".join(f"| {k} | {v:.1f} |" for k, v in result["import_seconds"].items())
    dbt50 = by_n[large]
    ingest50 = dbt50["stages"].get("ingest + gates", {})
    # The first gate of each orchestrating process imports GX; that one-off cost is not per plant-day.
    gate_steps = ingest50.get("gate_step_seconds", 0.0) - min(PARALLEL_RUNS, ingest50.get("runs", 0)) * result[
        "import_seconds"]["great_expectations"]
    gate_share = (
        f"Gates inside Dagster at {large} plants (step times from the event log, less GX's one-off import in "
        f"each orchestrating process): the two gate checks' steps took {gate_steps:.1f} s, "
        f"{gate_steps / max(ingest50.get('historian_step_seconds', 0), 1e-9):.0%} of the historian ingest steps "
        f"({ingest50.get('historian_step_seconds', 0):.1f} s) and "
        f"{gate_steps / max(ingest50.get('ingest_step_seconds', 0), 1e-9):.0%} of all ingest steps "
        f"({ingest50.get('ingest_step_seconds', 0):.1f} s: historian, production runs, downtime, lab)."
    )
    verdicts = [
        f"{large} plants under {TARGET_SECONDS_50 // 60} minutes: {t50:.0f} s, **{'met' if t50 < TARGET_SECONDS_50 else 'missed'}**",
        f"T({large})/T({small}) <= {TARGET_SCALING}: {t50 / t10:.2f}, **{'met' if t50 / t10 <= TARGET_SCALING else 'missed'}**",
        f"orchestration under {TARGET_ORCHESTRATION:.0%} of the time at {large} plants: {shares[large]:.0%}, "
        f"**{'met' if shares[large] < TARGET_ORCHESTRATION else 'missed'}**",
    ]
    failures = [f"{sc['plants']} plants: {sc['gate_failures'] or ''} {sc['ingest_failures'] or ''} {sc['failed_runs'] or ''} "
                f"{json.dumps(sc.get('failed_gates') or '', default=str)[:600]}"
                for sc in result["scenarios"] if not sc["ok"] or sc["gate_failures"]]
    return f"""## Nightly end to end: 1, 10 and 50 plants x 1 day

{__doc__.split(chr(10), 2)[2].strip()}

| plants | readings | wall s | ingest + gates s | dbt s | actions s | registry s | runs | orchestration share | peak RSS |
{chr(10).join(rows[1:])}

Per stage:

{chr(10).join(stage_rows)}

dbt at {large} plants: {dbt50['dbt_elapsed']:.1f} s in dbt, of which its nodes ran {dbt50['dbt_nodes']:.1f} s (summed over 2 threads).
{gate_share}

Setup (not timed): {result['setup_seconds']:.0f} s. {'Every run succeeded and every gate passed.' if not failures else 'Failures: ' + '; '.join(failures)}

Start-up a fresh process pays (import time, s):

| import | seconds |
|---|---:|
{imports}

Targets:
{chr(10).join('- ' + v for v in verdicts)}
"""


def run(quick: bool = False) -> str:
    if quick:
        return "## Nightly end to end\n\n_Skipped in quick mode (it builds a 50-plant fleet, ~10 minutes)._\n"
    with tempfile.TemporaryDirectory(prefix="plant-assets-bench-nightly-") as tmp:
        result = measure(Path(tmp))
    (REPO_ROOT / "docs" / "benchmarks" / "nightly.json").write_text(json.dumps(result, indent=1, default=str))
    return report(result)


if __name__ == "__main__":
    print(run())
