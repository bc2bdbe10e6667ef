"""Crash recovery: `plant-assets run` (one demo plant, 5 days, training included) killed with SIGKILL, each time
simply started again (a power cut, then the operator or the schedule restarting it; no manual step between), then
run once to completion; the final state is compared with an uninterrupted run in another home.

Two kinds of kill: at the named steps of ml/crash_points.py (dbt writing the warehouse, training right after
MLflow registered its version, the publish with its temp copy on disk: narrow windows a random moment rarely
hits), then at random moments drawn uniformly over the uninterrupted run's duration (seeded: BENCH_CRASH_SEED
repeats a trial), the whole process group killed from outside. After each kill the analysts' file, when it
exists, must open and hold KPIs. Figures: per kill the moment, the step, the analysts' file, the recovery lines
the next start printed; what differs from the uninterrupted run (nothing is the target). Quick: the training
kill and 3 random kills. The reduced version is tests/e2e/test_crash_recovery.py."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

from plant_assets.core.settings import REPO_ROOT

FIRST, LAST = "2026-09-07", "2026-09-11"
KILL_POINTS = ("dbt", "training.registered", "publish.copied")
RANDOM_KILLS, QUICK_RANDOM_KILLS = 20, 3
SEED_ENV = "BENCH_CRASH_SEED"
CLI = "from plant_assets.cli import app; app()"
RECOVERY_LINES = ("recovered run", "removed ", "marked MLflow run", "deleted model version")


def _home(root: Path) -> tuple[Path, dict[str, str]]:
    home, plants = root / "home", root / "plants"
    shutil.copytree(REPO_ROOT / "plants" / "plant_a", plants / "plant_a")
    config = yaml.safe_load((plants / "plant_a" / "plant.yaml").read_text())
    config["energy_baseline"] = {"start": FIRST, "end": "2026-09-10"}
    # An energy waste on the last day, after the baseline, so there are alerts to compare. Simulator days count
    # from 0: day 4 is the 5th and last day (day 5 was outside the window, and the reference raised no alert).
    config["simulation"]["faults"] = [{"type": "energy_waste", "start_day": 4, "end_day": 4, "base_load_factor": 2.5}]
    (plants / "plant_a" / "plant.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "dagster_home").mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANT_ASSETS_", "MLFLOW_", "DAGSTER_"))}
    env |= {"PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants), "DAGSTER_HOME": str(root / "dagster_home"),
            "PLANT_ASSETS_DAGSTER_STORAGE": str(root / "dagster_storage"), "PYTHONPATH": str(REPO_ROOT),
            "GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    return home, env


def _cli(env: dict[str, str], *args: str, crash_at: str | None = None) -> tuple[int, float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, *args], env=env | ({"PLANT_ASSETS_CRASH_AT": crash_at} if crash_at else {}),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, start_new_session=True)
    return done.returncode, time.perf_counter() - started, done.stdout


def _kill_after(command: list[str], env: dict[str, str], moment: float, out: Path) -> tuple[int, bool, int]:
    """Start `command` in its own session and SIGKILL its whole process group `moment` seconds later (unless it
    ended first). Returns the exit code, whether it was killed, and how many of its processes outlived the kill
    by 10 s (0 is the target: a power cut leaves none)."""
    with out.open("w") as stdout:
        proc = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=stdout,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return proc.wait(timeout=moment), False, 0
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # probe: does any process of the group remain?
        except ProcessLookupError:
            return code, True, 0
        time.sleep(0.2)
    return code, True, len([p for p in Path("/proc").glob("[0-9]*") if _pgid(p) == proc.pid])


def _pgid(proc_dir: Path) -> int | None:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def _runs_db(storage: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{storage / 'history' / 'runs.db'}?mode=ro", uri=True)


def _last_run_id(storage: Path) -> int:
    try:
        with _runs_db(storage) as con:
            return con.execute("select coalesce(max(id), 0) from runs").fetchone()[0]
    except sqlite3.Error:  # no instance storage yet
        return 0


def _step(storage: Path, after: int) -> str:
    """What the killed start was doing: its latest Dagster run (job, partition; the runs after id `after` are its
    own) and the last step that run started."""
    try:
        with _runs_db(storage) as con:
            row = con.execute("select run_id, pipeline_name, partition from runs where id > ? order by id desc limit 1",
                              [after]).fetchone()
        if row is None:
            return "no Dagster run yet (start-up, recovery)"
        run_id, job, partition = row
        partition = (partition or "").replace("|", " ")  # a table cell
        with sqlite3.connect(f"file:{storage / 'history' / 'runs' / f'{run_id}.db'}?mode=ro", uri=True) as con:
            step = con.execute("select step_key from event_logs where dagster_event_type = 'STEP_START' "
                               "order by id desc limit 1").fetchone()
        return f"{job}{f' {partition}' if partition else ''}{f' / {step[0]}' if step else ''}"
    except (sqlite3.Error, OSError) as exc:
        return f"? ({type(exc).__name__})"


def _analyst_file(home: Path) -> str:
    """The analysts' file must, whenever it exists, open and hold KPIs (the publish swaps in a complete copy)."""
    path = home / "analyst.duckdb"
    if not path.exists():
        return "absent"
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute("select count(*) from marts.kpi_daily").fetchone()[0]
    except Exception as exc:  # any failure to read it is the finding
        return f"**UNREADABLE** ({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:80]})"
    return f"ok, {rows} KPI rows" if rows > 0 else "**EMPTY marts.kpi_daily**"


def _recovery(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.splitlines() if line.startswith(RECOVERY_LINES)]


def _state(home: Path, env: dict[str, str]) -> dict:
    """What must equal an uninterrupted run: KPIs, alerts, live model versions; and what must be empty."""
    with duckdb.connect(str(home / "analyst.duckdb"), read_only=True) as con:
        kpis = [tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in row)
                for row in con.execute("select * from marts.kpi_daily order by all").fetchall()]
        alerts = con.execute("select plant_id, production_date, asset_path, kind, severity, status, revision "
                             "from actions.alerts order by all").fetchall()
    from mlflow import MlflowClient

    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    versions = {m.name: len(client.search_model_versions(f"name = '{m.name}'")) for m in client.search_registered_models()}
    experiments = [e.experiment_id for e in client.search_experiments()]
    running = len(client.search_runs(experiments, "attributes.status = 'RUNNING'")) if experiments else 0
    return {"kpis": kpis, "alerts": alerts, "versions": versions, "running_mlflow_runs": running,
            "temp_files": sorted(p.name for p in home.glob(".analyst.duckdb.*"))}


def _exit(outcome: dict) -> str:
    code = "SIGKILL" if outcome["killed"] and outcome["code"] == -9 else f"exit {outcome['code']}"
    return code + (f", **{outcome['survivors']} process(es) survived**" if outcome["survivors"] else "")


def _short(line: str) -> str:
    """A recovery line (plant_assets/defs/recovery.py) in a few words, for a table cell."""
    if match := re.match(r"recovered run \S+ \((\w+), process", line):
        return f"{match.group(1)} run marked failed"
    if line.startswith("recovered run"):
        return "pool slot freed"
    if line.startswith("removed "):
        return "publish temp removed"
    if line.startswith("marked MLflow run"):
        return "MLflow run marked FAILED"
    if match := re.match(r"deleted model version ([^:]+):", line):
        return f"version {match.group(1)} deleted"
    return line[:60]


def _summary_of(lines: list[str]) -> str:
    return "; ".join(_short(line) for line in lines).replace("|", "/") if lines else "none"


def run(quick: bool = False) -> str:
    points = ("training.registered",) if quick else KILL_POINTS
    kills = QUICK_RANDOM_KILLS if quick else RANDOM_KILLS
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(10**6))
    print(f"bench crash: {SEED_ENV}={seed}", flush=True)
    run_args = ("run", "--from", FIRST, "--to", LAST, "--plant", "plant_a")
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as tmp:
        reference_home, reference_env = _home(Path(tmp) / "reference")
        crashed_home, crashed_env = _home(Path(tmp) / "crashed")
        storage = Path(crashed_env["PLANT_ASSETS_DAGSTER_STORAGE"])
        for env in (reference_env, crashed_env):
            assert _cli(env, "simulate", "--start", FIRST, "--days", "5")[0] == 0
        code, reference_seconds, _ = _cli(reference_env, *run_args)
        assert code == 0, "the uninterrupted run failed"
        reference = _state(reference_home, reference_env)
        # An empty comparison proves nothing: the bench's fault must make the reference raise an alert.
        assert reference["alerts"], "the uninterrupted run raised no alert: the alerts comparison would be empty"

        named_rows = []
        for point in points:
            code, seconds, _ = _cli(crashed_env, *run_args, crash_at=point)
            named_rows.append(f"| killed at `{point}` | {'SIGKILL' if code == -9 else f'exit {code} (not killed!)'} "
                              f"| {seconds:.0f} s | {_analyst_file(crashed_home)} |")

        # Started again, the run completes: the analysts' file exists from here on, as after any earlier night,
        # so the random kills below can catch it half-written (the publish swaps in a complete copy).
        code, seconds, out = _cli(crashed_env, *run_args)
        named_rows.append(f"| re-run, no manual step | {'completed' if code == 0 else f'**FAILED (exit {code})**'}; "
                          f"recovery: {_summary_of(_recovery(out))} | {seconds:.0f} s | {_analyst_file(crashed_home)} |")
        rng = random.Random(seed)
        moments = [rng.uniform(0, reference_seconds) for _ in range(kills)]
        outcomes, outputs = [], []
        for number, moment in enumerate(moments, 1):
            out = Path(tmp) / f"kill-{number}.out"
            before = _last_run_id(storage)
            code, killed, survivors = _kill_after([sys.executable, "-c", CLI, *run_args], crashed_env, moment, out)
            outputs.append(out.read_text(errors="replace"))
            outcomes.append({"moment": moment, "code": code, "killed": killed, "survivors": survivors,
                             "step": _step(storage, before) if killed else "completed before the kill",
                             "analyst": _analyst_file(crashed_home)})
            print(f"kill {number}/{kills} at {moment:.1f} s: {outcomes[-1]}", flush=True)
        code, final_seconds, final_out = _cli(crashed_env, *run_args)
        outputs.append(final_out)
        crashed = _state(crashed_home, crashed_env)
    # the recovery lines printed at a start belong to the kill before it
    random_rows = [
        f"| {n} | {o['moment']:.1f} s | {o['step']} | "
        f"{_exit(o)} | {o['analyst']} | "
        f"{_summary_of(_recovery(outputs[n]))} |"
        for n, o in enumerate(outcomes, 1)
    ]
    unreadable = sum(not (o["analyst"] == "absent" or o["analyst"].startswith("ok")) for o in outcomes)
    survived = sum(o["survivors"] > 0 for o in outcomes)
    differs = [key for key in reference if reference[key] != crashed[key]]
    return "\n".join([
        "## Crash recovery (kill -9 during the nightly, re-run with no manual step)", "",
        f"One demo plant (plant_a), {FIRST}..{LAST}, training included, an energy waste injected on the last day; "
        f"uninterrupted reference run {reference_seconds:.0f} s.", "",
        "Kills at named steps (ml/crash_points.py), each start killing itself there:", "",
        "| step | outcome | wall time | analysts' file after the kill |", "|---|---|---|---|", *named_rows, "",
        f"Then {kills} kills of the whole process group from outside (SIGKILL) at random moments, uniform over the "
        f"reference run's {reference_seconds:.0f} s (seed {seed}: `{SEED_ENV}={seed}` repeats the moments), "
        "each start simply the same command again; step = the latest Dagster run and the last step it started; a start "
        "killed before its recovery leaves that to the next one (recovery lines: none):", "",
        "| # | killed after | step | exit | analysts' file after the kill | recovery lines the next start printed |",
        "|---|---|---|---|---|---|", *random_rows, "",
        f"Final run, no manual step: {'completed' if code == 0 else f'**FAILED (exit {code})**'} in {final_seconds:.0f} s. "
        f"{sum(o['killed'] for o in outcomes)} of {kills} random starts were killed "
        f"({kills - sum(o['killed'] for o in outcomes)} completed first); analysts' file unreadable or empty after "
        f"{unreadable} kill(s); processes outliving the kill after {survived} kill(s).", "",
        f"Compared with the uninterrupted run: KPIs ({len(reference['kpis'])} rows), alerts "
        f"({len(reference['alerts'])}), live model versions {reference['versions']}, MLflow runs left RUNNING "
        f"({crashed['running_mlflow_runs']}), publish temp files ({len(crashed['temp_files'])}): "
        + ("**identical**." if not differs else f"**differ: {', '.join(differs)}** (crashed: "
           f"{ {k: crashed[k] for k in differs if k != 'kpis'} }; reference: "
           f"{ {k: reference[k] for k in differs if k != 'kpis'} })."),
    ])
