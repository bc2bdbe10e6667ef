"""Analysts read while the nightly job writes: no query fails and every result is a complete state.

The real dbt project builds a warehouse from the hand-made lake of test_dbt_project (state 1) and it is
published to the analysts' file. Two analyst processes then query that file in a loop: one opens a
fresh read-only connection for every query (sees each newly published state), one holds a single
connection open the whole time (keeps the state it opened). Meanwhile the nightly job runs: a late
gate re-check lets plant_b's 2026-09-08 in, dbt rebuilds that day in the warehouse (state 2) and it is
published; then states 1 and 2 are published alternately, as fast as possible, to stress the swap.
Every answer must be the fingerprint of state 1 or of state 2 (row counts and sums of several marts,
read in one query), and no query may fail.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from plant_assets.standardize.analyst_copy import checkpoint, publish_warehouse
from tests.analyst_reader import logged, start_readers, stop_readers
from tests.integration.test_dbt_project import DAY2, GATE_SCHEMA, Dbt, build_lake

FINGERPRINT = """
select
    (select count(*) from marts.kpi_daily),
    (select round(sum(value), 6) from marts.kpi_daily),
    (select count(*) from marts.fct_production_run),
    (select count(*) from marts.fct_line_energy_hourly),
    (select count(*) from marts.fct_motor_health_daily)
"""

def _fingerprint(path: Path) -> list:
    with duckdb.connect(str(path), read_only=True) as con:
        return list(con.execute(FINGERPRINT).fetchone())


def test_analysts_never_fail_and_always_see_a_complete_state(tmp_path):
    started = time.perf_counter()
    dbt = Dbt(tmp_path)
    build_lake(dbt.lake)
    dbt("build", "--exclude-resource-type", "unit_test")  # seeds, models and data tests
    analyst = tmp_path / "analyst.duckdb"
    publish_warehouse(dbt.warehouse, analyst)
    state1 = _fingerprint(analyst)
    checkpoint(dbt.warehouse)
    saved_state1 = tmp_path / "state1.duckdb"
    saved_state1.write_bytes(dbt.warehouse.read_bytes())

    stop = tmp_path / "stop"
    readers = start_readers(analyst, stop, tmp_path, FINGERPRINT, pause=0.005)
    try:
        # the nightly job: a late gate re-check passes plant_b 2026-09-08; dbt rebuilds that day
        gate = dbt.lake / "gates" / "plant_id=plant_b" / f"production_date={DAY2}" / "raw.parquet"
        row = {"layer": "raw", "passed": True, "checked_at": pq.read_table(gate)["checked_at"][0].as_py().replace(hour=23, minute=59, second=59),
               "failed_expectations": "[]", "thresholds": "{}", "plant_overrides": "{}"}
        pq.write_table(pa.concat_tables([pq.read_table(gate), pa.Table.from_pylist([row], schema=GATE_SCHEMA)]), gate)
        dbt("build", "--vars", json.dumps({"min_date": str(DAY2), "max_date": str(DAY2)}), "--exclude-resource-type", "unit_test")
        publish_warehouse(dbt.warehouse, analyst)
        state2 = _fingerprint(analyst)
        assert state2 != state1
        for i in range(12):  # swap back and forth as fast as possible
            publish_warehouse(saved_state1 if i % 2 == 0 else dbt.warehouse, analyst)
        time.sleep(0.3)
    finally:
        stop_readers(readers, stop)

    seen = {}
    for mode, (proc, out) in readers.items():
        results = logged(out)
        errors = [r for r in results if r[0] != "ok"]
        assert not errors, f"{mode} reader failed: {errors[:3]}"
        states = [r[1] for r in results]
        assert all(s in (state1, state2) for s in states), [s for s in states if s not in (state1, state2)][:3]
        seen[mode] = (len(states), {tuple(s) for s in states})
    assert seen["held"][1] == {tuple(state1)}, "a held connection keeps the state it opened"
    assert seen["fresh"][1] == {tuple(state1), tuple(state2)}, "a new connection sees the newly published state"
    print(f"reader queries: { {m: n for m, (n, _) in seen.items()} }, {time.perf_counter() - started:.1f} s")
