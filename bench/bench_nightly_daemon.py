"""Nightly under dagster-daemon: the path users run, for 10 and 50 plants x 1 day x ~500 tags.

`dagster-daemon run -w workspace.yaml` on a DAGSTER_HOME holding the repo's dagster.yaml (QueuedRunCoordinator,
max_concurrent_runs 4, dequeue every 5 s, DefaultRunLauncher: a new process per run, in-process executor in it,
SQLite storage). The fleet is bench/fleet.py's (copies of the three demo dialects, ~490 historian tags at 1-minute
data, ~690k readings a plant-day), every plant in one time zone (Europe/Berlin) so that one tick asks every plant
for the same day, and the day's standardize run follows after one tick. Setup (not timed): three baseline days
with a few tags per plant, ingested, built and trained (bench_nightly's setup), so every plant has an @champion;
then the day the schedule asks for at the real now (a plant's previous local day, an hour after its midnight) is
simulated at full size. Each fleet size gets its own Dagster storage and a daemon started for it; the schedule
ticks every minute (PLANT_ASSETS_NIGHTLY_CRON) and the measured tick is the first one after the daemon is up
(ticks after it skip the plant-days already launched); the standardize sensor looks every 10 s
(PLANT_ASSETS_STANDARDIZE_SENSOR_SECONDS; the default, 120 s, adds up to 110 s more).

Times come from the Dagster event log of each run: RUN_ENQUEUED (the tick or sensor created it), RUN_STARTING (the
queue daemon dequeued it and the launcher starts its process), RUN_START (the new process has imported the code
location and begins), STEP_START/STEP_SUCCESS, RUN_SUCCESS. Per run: queue = ENQUEUED -> STARTING (the dequeue
interval and, beyond 4 runs, the wait for a free slot), start-up = STARTING -> START (a new Python process importing
Dagster and plant_assets.definitions), in-run overhead = START -> SUCCESS minus the time inside its steps.
Orchestration share = (queue + start-up + in-run overhead) / (ENQUEUED -> SUCCESS), each summed over the runs:
the time a run exists without running a step; "without queue" leaves the queue out of both (process time only,
STARTING -> SUCCESS). dbt's own start-up and manifest load are inside its step and count as work here
(bench_nightly subtracts them). Not in the share: the tick's own latency and the sensor's wait (columns of
their own).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from plant_assets.core.settings import REPO_ROOT

BASELINE = (date(2026, 9, 8), date(2026, 9, 10))
SMALL_TAGS = 12
TAGS = 500
TIME_ZONE = "Europe/Berlin"
CRON = "* * * * *"
SENSOR_SECONDS = os.environ.get("PLANT_ASSETS_BENCH_DAEMON_SENSOR_SECONDS", "10")
# The fleet sizes measured; PLANT_ASSETS_BENCH_NIGHTLY_DAEMON_PLANTS="2" gives a smoke run.
SCENARIOS = tuple(int(n) for n in os.environ.get("PLANT_ASSETS_BENCH_NIGHTLY_DAEMON_PLANTS", "10,50").split(","))
TIMEOUT_SECONDS = 1800
NIGHTLY_FIGURES = "113 s at 50 plants, 55 s at 10 (bench_nightly: two long-lived processes, no queue)"


def asked_day(at: datetime) -> date:
    """The day the nightly asks a plant in TIME_ZONE for at `at`: its previous local day, an hour after midnight."""
    return (at.astimezone(ZoneInfo(TIME_ZONE)) - timedelta(hours=1)).date() - timedelta(days=1)


def _one_zone(plants_dir: Path) -> None:
    for plant_yaml in plants_dir.glob("*/plant.yaml"):
        config = yaml.safe_load(plant_yaml.read_text())
        config["timezone"] = TIME_ZONE
        plant_yaml.write_text(yaml.safe_dump(config, sort_keys=False))


def _setup(home: Path) -> tuple[list[str], list[date]]:
    """bench_nightly's setup, every plant in one zone: trained baselines, then the asked day(s) at full size."""
    from bench.fleet import make_fleet
    from plant_assets.core.plant_config import load_plants
    from plant_assets.scaleout.window import run_window_distributed
    from plant_assets.simulator import simulate_plants

    plants_dir, landing = home / "plants", home / "landing"
    baseline = tuple(d.isoformat() for d in BASELINE)
    ids = make_fleet(plants_dir, max(SCENARIOS), tags=SMALL_TAGS, baseline=baseline)
    _one_zone(plants_dir)
    simulate_plants(load_plants(plants_dir), BASELINE[0], (BASELINE[1] - BASELINE[0]).days + 1, landing,
                    home / "truth_baseline")
    report = run_window_distributed(ids, BASELINE[0], BASELINE[1], train=True, parallel_runs=2)
    if not report.ok:
        raise RuntimeError(f"baseline setup failed: {report}")
    make_fleet(plants_dir, max(SCENARIOS), tags=TAGS, baseline=baseline, sample_prefix="N")
    _one_zone(plants_dir)
    # the day asked now, and the next one should the day turn while the benchmark runs
    now = datetime.now(timezone.utc)
    days = sorted({asked_day(now), asked_day(now + timedelta(hours=1))})
    simulate_plants(load_plants(plants_dir), days[0], (days[-1] - days[0]).days + 1, landing, home / "truth")
    return ids, days


def _events(instance, run_id: str) -> dict:
    """First timestamp of each run-level event and each step's duration."""
    marks, starts, steps = {}, {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if event.step_key:
            if kind == "STEP_START":
                starts[event.step_key] = entry.timestamp
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
                steps[event.step_key] = entry.timestamp - starts[event.step_key]
        elif kind in ("PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_START", "PIPELINE_SUCCESS", "PIPELINE_FAILURE"):
            marks.setdefault(kind.replace("PIPELINE_", "RUN_"), entry.timestamp)
    return {"marks": marks, "steps": steps}


def _scenario(home: Path, n: int, ids: list[str]) -> dict:
    import dagster as dg
    from dagster._core.scheduler.instigation import TickStatus

    from plant_assets.core.lake import registry_path, write_table_atomic
    from plant_assets.core.plant_config import load_plants
    from plant_assets.ingest.plant_tables import registry_tables
    from plant_assets.scaleout.daemon import Daemon, write_dagster_yaml

    plants_dir = home / f"plants_{n}"
    shutil.rmtree(plants_dir, ignore_errors=True)
    for plant_id in ids[:n]:
        shutil.copytree(home / "plants" / plant_id, plants_dir / plant_id)
    # the registry dbt joins: every plant of the fleet, as bench_nightly's refresh_plant_registry (the warehouse
    # holds every plant's baseline days; a registry of fewer plants fails dbt's relationship tests on them).
    # Onboarding runs refresh_plant_registry; here it is written directly.
    for name, table in registry_tables(load_plants(home / "plants")).items():
        write_table_atomic(table, registry_path(home / "lake", name))
    dagster_home, storage = home / f"dagster_home_{n}", home / f"dagster_storage_{n}"
    write_dagster_yaml(dagster_home)  # the repo's, unchanged
    env = {**os.environ, "PLANT_ASSETS_PLANTS": str(plants_dir), "DAGSTER_HOME": str(dagster_home),
           "PLANT_ASSETS_DAGSTER_STORAGE": str(storage), "PLANT_ASSETS_NIGHTLY_CRON": CRON,
           "PLANT_ASSETS_STANDARDIZE_SENSOR_SECONDS": SENSOR_SECONDS}
    os.environ["PLANT_ASSETS_DAGSTER_STORAGE"] = str(storage)  # this process reads the same instance
    log = home / f"daemon_{n}.log"
    started = time.time()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance, Daemon(env, log) as daemon:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        tick = None
        while True:
            if not daemon.alive():
                raise RuntimeError(f"dagster-daemon exited: {log.read_text()[-3000:]}")
            if tick is None:
                states = [s for s in instance.all_instigator_state() if s.instigator_name == "nightly_ingest_schedule"]
                ticks = [t for s in states for t in instance.get_ticks(s.instigator_origin_id, s.selector_id)
                         if t.status == TickStatus.SUCCESS]
                tick = min(ticks, key=lambda t: t.timestamp) if ticks else None
            ingests = [r.dagster_run for r in instance.get_run_records(dg.RunsFilter(job_name="ingest_plant_day"))]
            standardizes = [r.dagster_run for r in instance.get_run_records(dg.RunsFilter(job_name="standardize_and_act"))]
            if (tick and len(ingests) >= n and all(r.is_finished for r in ingests) and standardizes
                    and all(r.is_finished for r in standardizes)):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{n} plants not done in {TIMEOUT_SECONDS} s: {len(ingests)} ingest runs, "
                                   f"{[r.status.value for r in standardizes]} standardize\n{log.read_text()[-3000:]}")
            time.sleep(2)
        runs = {"ingest": [{"run_id": r.run_id, "status": r.status.value, "partition": r.tags.get("dagster/partition"),
                            **_events(instance, r.run_id)} for r in ingests],
                "standardize": [{"run_id": r.run_id, "status": r.status.value, "partition": r.tags.get("dagster/partition"),
                                 **_events(instance, r.run_id)} for r in standardizes]}
        return {"plants": n, "daemon_started": started, "tick": tick.timestamp, "tick_end": tick.tick_data.end_timestamp,
                "tick_runs": len(tick.run_ids), "runs": runs}


def child(home: str) -> dict:
    """Runs in a process whose environment names the temp home (see measure())."""
    home_dir = Path(home)
    t0 = time.perf_counter()
    ids, days = _setup(home_dir)
    setup_seconds = time.perf_counter() - t0
    return {"setup_seconds": setup_seconds, "days": [d.isoformat() for d in days],
            "scenarios": [_scenario(home_dir, n, ids) for n in SCENARIOS]}


def _env(home: Path) -> dict[str, str]:
    from plant_assets.scaleout.daemon import write_dagster_yaml
    from plant_assets.scaleout.demo import home_env

    env = home_env(home, home / "plants", None)
    write_dagster_yaml(Path(env["DAGSTER_HOME"]))
    return {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}


def measure(home: Path) -> dict:
    code = "import json, sys; from bench.bench_nightly_daemon import child; print('RESULT ' + json.dumps(child(sys.argv[1])))"
    done = subprocess.run([sys.executable, "-c", code, str(home)], env=_env(home), cwd=REPO_ROOT, capture_output=True,
                          text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"daemon nightly benchmark failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-5000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def summarize(scenario: dict) -> dict:
    """The figures of one fleet size (see the module docstring for the definitions)."""
    tick = scenario["tick"]
    totals = {"queue": 0.0, "startup": 0.0, "overhead": 0.0, "steps": 0.0}
    per_kind = {}
    for kind, runs in scenario["runs"].items():
        rows = []
        for run in runs:
            m, steps = run["marks"], sum(run["steps"].values())
            end = m.get("RUN_SUCCESS", m.get("RUN_FAILURE"))
            row = {"queue": m["RUN_STARTING"] - m["RUN_ENQUEUED"], "startup": m["RUN_START"] - m["RUN_STARTING"],
                   "overhead": end - m["RUN_START"] - steps, "steps": steps, "enqueued": m["RUN_ENQUEUED"], "end": end}
            rows.append(row)
            for key in totals:
                totals[key] += row[key]
        per_kind[kind] = rows
    ingest, standardize = per_kind["ingest"], per_kind["standardize"]
    last_ingest = max(r["end"] for r in ingest)
    orchestration = totals["startup"] + totals["overhead"]
    process = orchestration + totals["steps"]

    def mean(rows: list[dict], key: str) -> float:
        return sum(r[key] for r in rows) / len(rows)

    return {
        "plants": scenario["plants"],
        "runs": len(ingest) + len(standardize),
        "ok": all(r["status"] == "SUCCESS" for runs in scenario["runs"].values() for r in runs),
        "to_last_ingest": last_ingest - tick,
        "to_standardize": max(r["end"] for r in standardize) - tick,
        "tick_to_first_enqueued": min(r["enqueued"] for r in ingest) - tick,
        "tick_seconds": (scenario["tick_end"] or tick) - tick,
        "sensor_wait": min(r["enqueued"] for r in standardize) - last_ingest,
        "startup_mean": mean(ingest + standardize, "startup"),
        "startup_max": max(r["startup"] for r in ingest + standardize),
        "queue_mean": mean(ingest, "queue"),
        "ingest_overhead_mean": mean(ingest, "overhead"),
        "ingest_steps_mean": mean(ingest, "steps"),
        "standardize": {k: standardize[0][k] for k in ("queue", "startup", "overhead", "steps")},
        "share": orchestration / process,
        "share_with_queue": (orchestration + totals["queue"]) / (process + totals["queue"]),
        "totals": totals,
    }


def report(result: dict) -> str:
    figures = [summarize(s) for s in result["scenarios"]]
    imports = result.get("import_seconds", {})
    gx = imports.get("great_expectations", 0.0)
    for f in figures:  # every ingest run is a new process: its gate step imports GX again
        t = f["totals"]
        n_ingest = f["runs"] - 1
        outside = t["startup"] + t["overhead"] + n_ingest * gx
        f["share_with_gx"] = (outside + t["queue"]) / (t["queue"] + t["startup"] + t["overhead"] + t["steps"])
    rows = ["| plants | runs | tick -> last ingest done s | tick -> standardize done s | sensor wait s | "
            "start-up per run s (mean / max) | queue per ingest run s | ingest run: steps / overhead s | "
            "orchestration share | without queue |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for f in figures:
        rows.append(
            f"| {f['plants']} | {f['runs']} | {f['to_last_ingest']:.0f} | {f['to_standardize']:.0f} | "
            f"{f['sensor_wait']:.0f} | {f['startup_mean']:.1f} / {f['startup_max']:.1f} | {f['queue_mean']:.1f} | "
            f"{f['ingest_steps_mean']:.1f} / {f['ingest_overhead_mean']:.1f} | {f['share_with_queue']:.0%} | "
            f"{f['share']:.0%} |")
    detail = ["| plants | tick evaluated in s | tick -> first run enqueued s | standardize run: queue / start-up / "
              "overhead / steps s | process time: start-up / in-run overhead / steps s |",
              "|---:|---:|---:|---|---|"]
    for f in figures:
        s, t = f["standardize"], f["totals"]
        detail.append(
            f"| {f['plants']} | {f['tick_seconds']:.1f} | {f['tick_to_first_enqueued']:.1f} | "
            f"{s['queue']:.1f} / {s['startup']:.1f} / {s['overhead']:.1f} / {s['steps']:.1f} | "
            f"{t['startup']:.0f} / {t['overhead']:.0f} / {t['steps']:.0f} |")
    by_n = {f["plants"]: f for f in figures}
    scaling = ""
    if len(by_n) >= 2:
        small, large = sorted(by_n)[0], sorted(by_n)[-1]
        scaling = (f"T({large})/T({small}), tick to standardize done: "
                   f"{by_n[large]['to_standardize'] / by_n[small]['to_standardize']:.2f} "
                   f"({by_n[large]['to_standardize']:.0f} s / {by_n[small]['to_standardize']:.0f} s).")
    failed = [f"{f['plants']} plants" for f in figures if not f["ok"]]
    gx_line = ""
    if imports:
        gx_line = ("Counting the GX import each ingest run's gate pays in its new process "
                   f"({gx:.1f} s, measured in a fresh process) as orchestration too: "
                   + ", ".join(f"{f['share_with_gx']:.0%} at {f['plants']} plants" for f in figures) + ".\n\n"
                   "Import time a fresh process pays (s): "
                   + ", ".join(f"{name} {seconds:.1f}" for name, seconds in imports.items()) + ".")
    return f"""## Nightly under dagster-daemon: {', '.join(str(f['plants']) for f in figures)} plants x 1 day

{__doc__.split(chr(10), 2)[2].strip()}

Day asked: {', '.join(result['days'])} ({TIME_ZONE}).

{chr(10).join(rows)}

{chr(10).join(detail)}

{scaling}
For comparison, the same fleet launched from two long-lived processes: {NIGHTLY_FIGURES}.

{gx_line}

Setup (not timed): {result['setup_seconds']:.0f} s. {'Every run succeeded.' if not failed else 'Failed runs at ' + ', '.join(failed)}
"""


def run(quick: bool = False) -> str:
    if quick:
        return "## Nightly under dagster-daemon\n\n_Skipped in quick mode (it builds a 50-plant fleet)._\n"
    from bench.bench_nightly import _import_seconds

    with tempfile.TemporaryDirectory(prefix="plant-assets-bench-daemon-") as tmp:
        result = measure(Path(tmp))
    result["import_seconds"] = _import_seconds()
    (REPO_ROOT / "docs" / "benchmarks" / "nightly_daemon.json").write_text(json.dumps(result, indent=1, default=str))
    return report(result)


if __name__ == "__main__":
    print(run())
