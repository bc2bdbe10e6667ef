"""Plant partitions run in parallel on the embedded single-machine setup (Dagster on SQLite, in-process
executor, MLflow on SQLite) with zero DuckDB lock failures, while analysts read throughout (issue 8).

The 3 demo plants, a 2-day window, in a temp home. Day 1 runs sequentially and publishes the first
analyst state. Then two analyst processes query analyst.duckdb in a loop (one opens a fresh read-only
connection per query, one holds its connection), while day 2 runs as concurrent plant-day ingest
runs (3 orchestrating processes, Parquet only), then dbt and the actions in pool `warehouse`, which the
instance holds to one step at a time; the test checks no two warehouse steps ever overlapped. Training is
left out to keep `make test` short: contending pool steps (trainings on two workers) are covered by
tests/integration/test_scale_out.py. Both phases
run in a subprocess with the home's environment (`python -m plant_assets.scaleout run`), as a
deployment would. The SQLite storage needs nothing for the concurrent runs: Dagster opens it with a
30 s busy timeout (dagster._core.storage.sqlite.SQLITE_BUSY_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import re
import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from plant_assets.core.settings import REPO_ROOT
from plant_assets.defs.run_window import day_range
from plant_assets.scaleout.demo import home_env, prepare_inputs, run_window_subprocess
from tests.analyst_reader import logged, start_readers, stop_readers

FIRST_DAY = date(2026, 9, 7)
DAYS = 2
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
PARALLEL_RUNS = 3
STATE = "select count(*), count(distinct production_date), round(sum(value), 6) from marts.kpi_daily"
# Concurrency of the single-machine setup (orchestrating processes, the warehouse pool): with the scale-out
# test it is what `make test-fast` leaves to `make test`.
pytestmark = pytest.mark.scale
LOCK_TEXT = re.compile(r"\block(ed|s|ing)?\b|conflicting lock", re.IGNORECASE)
def _run(mode: str, env: dict[str, str], first_day: date, last_day: date, out: Path, *options: str) -> dict:
    outcome, stderr = run_window_subprocess(mode, env, first_day, last_day, out, *options)
    assert not LOCK_TEXT.search(stderr), [line for line in stderr.splitlines() if LOCK_TEXT.search(line)][:5]
    return outcome


def _plant_days(path: Path) -> set[tuple[str, date]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return set(con.execute("select distinct plant_id, production_date from marts.kpi_daily").fetchall())


def _overlapping_pairs(spans: list[tuple[float, float]]) -> int:
    return sum(1 for i, a in enumerate(spans) for b in spans[i + 1:] if a[0] < b[1] and b[0] < a[1])


def _pool_step_spans(records, logs: dict, pool: str) -> dict[tuple[str, str], tuple[float, float]]:
    """(run, step) -> (start, end) of every step of the given pool, from STEP_START to its success."""
    from plant_assets.definitions import defs

    spans, starts = {}, {}
    for record in records:
        job = defs.resolve_job_def(record.dagster_run.job_name)
        pooled = {node.name for node in job.graph.nodes if node.definition.pool == pool}
        for entry in logs[record.dagster_run.run_id]:
            key = (record.dagster_run.run_id[:8], entry.step_key)
            if entry.step_key in pooled and entry.dagster_event and entry.dagster_event.event_type_value == "STEP_START":
                starts[key] = entry.timestamp
            elif entry.step_key in pooled and entry.dagster_event and entry.dagster_event.event_type_value == "STEP_SUCCESS":
                spans[key] = (starts[key], entry.timestamp)
    return spans


def test_plant_partitions_run_in_parallel_while_analysts_read(tmp_path, monkeypatch):
    started = time.perf_counter()
    plants_dir, landing, plants = prepare_inputs(tmp_path / "inputs", None, FIRST_DAY, DAYS)
    env = home_env(tmp_path / "home", plants_dir, landing)
    dagster_home = Path(env["DAGSTER_HOME"])
    shutil.copy(REPO_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    analyst = Path(env["PLANT_ASSETS_ANALYST_DUCKDB"])

    # the first published state: day 1, sequential, too short to train
    _run("single", env, FIRST_DAY, FIRST_DAY, tmp_path / "day1.json", "--no-train")
    assert analyst.exists()
    first_phase_done = datetime.now().timestamp()

    stop = tmp_path / "stop"
    # the pause keeps two readers from taking a core from the pipeline on a 2-core machine
    readers = start_readers(analyst, stop, tmp_path, STATE, pause=0.05)
    try:
        outcome = _run("distributed", env, FIRST_DAY + timedelta(days=1), LAST_DAY, tmp_path / "parallel.json",
                       "--parallel-runs", str(PARALLEL_RUNS), "--no-train")
        time.sleep(0.3)  # the readers open the last published state
    finally:
        stop_readers(readers, stop)

    assert outcome["ok"], outcome
    assert not outcome["gate_failures"], outcome

    # the instance's record, read as the UI would (the yaml takes its storage dir from the env)
    monkeypatch.setenv("PLANT_ASSETS_DAGSTER_STORAGE", env["PLANT_ASSETS_DAGSTER_STORAGE"])
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        records = instance.get_run_records()
        logs = {r.dagster_run.run_id: instance.all_logs(r.dagster_run.run_id) for r in records}
    failed_runs = [(r.dagster_run.job_name, r.dagster_run.status) for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
    assert records and not failed_runs, failed_runs
    step_failures = [e.step_key for entries in logs.values() for e in entries if e.dagster_event and e.dagster_event.is_step_failure]
    assert not step_failures, step_failures
    lock_texts = [m.group(0) for entries in logs.values() for e in entries for m in LOCK_TEXT.finditer(dg.serialize_value(e))]
    assert not lock_texts, lock_texts

    parallel_ingest = [(r.start_time, r.end_time) for r in records
                       if r.dagster_run.job_name == "ingest_plant_day" and r.start_time >= first_phase_done]
    assert len(parallel_ingest) == len(plants) * (DAYS - 1)
    overlaps = _overlapping_pairs(parallel_ingest)
    assert overlaps >= 1, f"no two ingest runs overlapped in time: {sorted(parallel_ingest)}"
    writer_steps = _pool_step_spans(records, logs, "warehouse")
    assert len(writer_steps) >= 2, writer_steps
    assert _overlapping_pairs(list(writer_steps.values())) == 0, f"two warehouse writers at once: {writer_steps}"

    seen = {}
    for mode, (_, out) in readers.items():
        results = logged(out)
        errors = [r for r in results if r[0] != "ok"]
        assert not errors, f"{mode} reader failed: {errors[:3]}"
        seen[mode] = (len(results), {tuple(r[1]) for r in results})
    assert len(seen["fresh"][1]) >= 2, f"the fresh reader saw one published state only: {seen['fresh'][1]}"
    assert len(seen["held"][1]) == 1, "a held connection keeps the state it opened"

    expected = {(plant, day) for plant in plants for day in day_range(FIRST_DAY, LAST_DAY)}
    assert _plant_days(Path(env["PLANT_ASSETS_DUCKDB"])) == expected
    assert _plant_days(analyst) == expected
    print(f"{len(records)} runs, {overlaps} overlapping ingest pairs, {len(writer_steps)} warehouse steps one at a time, "
          f"reader queries { {m: n for m, (n, _) in seen.items()} }, states {sorted(seen['fresh'][1])}, "
          f"parallel phase {outcome['seconds']} s, total {time.perf_counter() - started:.1f} s")
