"""Numbers that cannot be true never reach the analysts: the real dbt project, the marts gate's judging and
the analysts' publish, on a hand-made lake in a temp dir.

One plant (UTC, line L1 with no rated load declared, one product at 100 units/min ideal), readings every 6 h
from 2026-09-01 to 2026-09-10 (and 2026-09-11 00:00, closing the last interval):
  E1, an energy totalizer in kWh with a declared rollover of 1,000,000 (as PI exports wrap), reads
  500,000 + 100 per interval: 400 kWh a day.
  C1, a piece counter with rollover 65,536, reads 20,000 + 1,000 per interval: 4,000 units a day.
On 2026-09-04 both step backwards mid-range at 12:00 (rows of two deliveries interleaved): E1 reads
v, v+100, v+50, v+300 at 00/06/12/18 h, C1 c, c+1000, c+900, c+3000. Before, each backward step was a full
rollover (+999,950 kWh, +65,436 units). By hand: the intervals starting that day add 100, 0 (the step back),
300 - 100 = 200 (measured from the highest reading, v+100), then 100 to the next day's v+400 -> 400 kWh;
likewise 1000 + 0 + 2000 + 1000 = 4,000 units.
On 2026-09-10 energy runs at 1,000 times its normal: +100,000 kWh an interval, 400,000 kWh. Each interval is
within the catalog's physical rate (the line declares none), so the counter check lets it through; the marts
gate's history rule (at most 10 x the highest of the previous days, 400 kWh -> 4,000 kWh) fails the day with
a reason naming the KPI, its value and the bound, and the analysts' file does not show the day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml

from plant_assets.core import lake as lake_paths
from plant_assets.core.plant_config import load_plant
from plant_assets.defs.quality.checks import write_gate_result
from plant_assets.defs.resources import LakeResource
from plant_assets.ingest.contract import ACCEPTED_SCHEMA, DOWNTIME_SCHEMA, RECONCILIATION_SCHEMA, RUNS_SCHEMA
from plant_assets.ingest.lab_results import LAB_SCHEMA
from plant_assets.ingest.plant_tables import registry_tables
from plant_assets.quality import GateOutcome
from plant_assets.quality.marts_metrics import failed_plant_days, judge_plant_day, kpi_day_frames
from plant_assets.standardize.analyst_copy import publish_warehouse
from tests.integration.test_dbt_project import Dbt

PLANT = "p1"
DAYS = [date(2026, 9, 1) + timedelta(days=i) for i in range(10)]
BACKSTEP_DAY, HUGE_DAY = date(2026, 9, 4), date(2026, 9, 10)
HOURS = (0, 6, 12, 18)

PLANT_YAML = {
    "plant_id": PLANT, "name": "Test plant", "isa95": {"enterprise": "E", "site": "S", "area": "A"},
    "timezone": "UTC", "owners": {"operations": "ops@example.com"},
    "historian": {"dialect": "pi_recorded", "file_pattern": "pi_{date:%Y%m%d}.csv"},
    "production_runs": {"file_pattern": "runs_{date:%Y%m%d}.csv", "columns": {
        "order_id": "o", "line_id": "l", "product_code": "p", "start": "s", "end": "e", "good_qty": "g",
        "scrap_qty": "x"}},
    "downtime_events": {"file_pattern": "down_{date:%Y%m%d}.csv", "columns": {
        "line_id": "l", "start": "s", "end": "e", "reason": "r", "category": "c"}},
    "lines": [{"id": "L1", "name": "Line 1"}],
    "products": [{"code": "P1", "ideal_rate_per_min": 100}],
    "energy_baseline": {"start": "2026-09-01", "end": "2026-09-07"},
}
TAG_MAP = "source_tag,signal,source_unit,line_id,asset_id,rollover\n" \
          "E1,energy_total,kWh,L1,L1,1000000\nC1,production_count_total,count,L1,L1,65536\n"


def series() -> dict[str, list[tuple[datetime, float]]]:
    """E1 and C1 readings as described above."""
    stamps = [datetime.combine(day, datetime.min.time()) + timedelta(hours=h) for day in DAYS for h in HOURS]
    stamps.append(datetime(2026, 9, 11))
    energy_steps = [100_000.0 if stamps[k].date() == HUGE_DAY else 100.0 for k in range(len(stamps) - 1)]
    energy = [500_000.0 + sum(energy_steps[:k]) for k in range(len(stamps))]
    count = [20_000.0 + 1_000 * k for k in range(len(stamps))]
    noon = DAYS.index(BACKSTEP_DAY) * 4 + 2  # the 12:00 reading of the backstep day
    energy[noon] = energy[noon - 1] - 50  # v+100 -> v+50
    count[noon] = count[noon - 1] - 100  # c+1000 -> c+900
    return {"E1": list(zip(stamps, energy)), "C1": list(zip(stamps, count))}


def write_lake(lake: Path, plant) -> LakeResource:
    resource = LakeResource(lake_dir=str(lake), landing_dir=str(lake.parent / "landing"))
    for name, table in registry_tables({PLANT: plant}).items():
        lake_paths.write_table_atomic(table, lake_paths.registry_path(lake, name))
    readings = series()
    for day in [*DAYS, date(2026, 9, 11)]:
        rows = [
            {"tag": tag, "ts_utc": ts, "value": value, "quality": "good", "status_text": None,
             "source_file": f"pi_{day:%Y%m%d}.csv", "source_line": i + 2}
            for tag, points in readings.items() for i, (ts, value) in enumerate(points) if ts.date() == day
        ]
        writes = {
            "historian": pa.Table.from_pylist(rows, schema=ACCEPTED_SCHEMA),
            "production_runs": RUNS_SCHEMA.empty_table(),
            "downtime_events": DOWNTIME_SCHEMA.empty_table(),
            "lab_results": LAB_SCHEMA.empty_table(),
        }
        for stream, table in writes.items():
            lake_paths.write_table_atomic(table, lake_paths.accepted_path(lake, stream, PLANT, day))
        counts = [{"source_file": rows[0]["source_file"], "raw_records": len(rows), "accepted_records": len(rows),
                   "quarantined_records": 0}]
        pq_path = lake_paths.reconciliation_path(lake, "historian", PLANT, day)
        lake_paths.write_table_atomic(pa.Table.from_pylist(counts, schema=RECONCILIATION_SCHEMA), pq_path)
        write_gate_result(resource, "raw", PLANT, day, [GateOutcome("raw_historian", True, 1)], {}, {})
    return resource


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("impossible")
    folder = tmp / "plants" / PLANT
    folder.mkdir(parents=True)
    (folder / "plant.yaml").write_text(yaml.safe_dump(PLANT_YAML, sort_keys=False))
    (folder / "tag_map.csv").write_text(TAG_MAP)
    plant = load_plant(folder)
    dbt = Dbt(tmp)
    lake = write_lake(dbt.lake, plant)
    dbt("build", "--exclude-resource-type", "unit_test")
    with duckdb.connect(str(dbt.warehouse), read_only=True) as con:
        frames = kpi_day_frames(con, [(PLANT, d) for d in DAYS], 28)
    outcomes = {}
    for row in frames.to_dict("records"):
        outcome, parameters, overrides = judge_plant_day(plant, row)
        write_gate_result(lake, "marts", PLANT, row["production_date"], [outcome], parameters, overrides)
        outcomes[row["production_date"]] = outcome
    analyst = tmp / "analyst.duckdb"
    withheld = failed_plant_days(dbt.lake, date(1900, 1, 1), date(2999, 12, 31), ("marts",))
    result = publish_warehouse(dbt.warehouse, analyst, withhold=withheld)
    return dbt, outcomes, analyst, result


def energy_by_day(path: Path, table: str = "marts.kpi_daily") -> dict[date, float]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute(
            f"select production_date, value from {table} where plant_id = ? and kpi = 'energy_kwh'", [PLANT]
        ).fetchall())


def test_a_totalizer_stepping_backwards_mid_range_adds_no_phantom_rollover(judged):
    dbt, _, _, _ = judged
    energy = energy_by_day(dbt.warehouse)
    assert energy[BACKSTEP_DAY] == pytest.approx(400.0)  # by hand, see the module docstring
    units = dict(dbt.query(f"select production_date, value from marts.kpi_daily where kpi = 'units_produced'"))
    assert units[BACKSTEP_DAY] == pytest.approx(4_000.0)
    # the two steps back are listed for triage, with their reason
    flags = dbt.query("select source_tag, delta_kind, flag_reason from marts.fct_counter_flags order by source_tag")
    assert [(tag, kind) for tag, kind, _ in flags] == [("C1", "backstep"), ("E1", "backstep")]
    assert "not a plausible rollover of 1000000" in flags[1][2]
    incidents = dbt.query(
        "select checked_column, observed from marts.data_quality_incidents where layer = 'counters' order by 1"
    )
    assert [tag for tag, _ in incidents] == ["C1", "E1"] and incidents[1][1].startswith("1 interval(s) counted 0")


def test_every_normal_day_passes_and_is_published(judged):
    dbt, outcomes, analyst, _ = judged
    published = energy_by_day(analyst)
    for day in DAYS[:-1]:
        assert outcomes[day].passed, (day, outcomes[day].failed)
        assert published[day] == pytest.approx(400.0)


def test_a_day_at_1000_times_its_energy_fails_the_marts_gate_with_a_reason_and_is_not_published(judged):
    dbt, outcomes, analyst, result = judged
    assert energy_by_day(dbt.warehouse)[HUGE_DAY] == pytest.approx(400_000.0)  # 1000 x 400, built ...
    outcome = outcomes[HUGE_DAY]
    assert not outcome.passed
    reasons = [f["reason"] for f in outcome.failed if f.get("column") == "energy_kwh" and f.get("reason")]
    # 10 x the highest of the 9 previous days (400 kWh)
    assert reasons == ["energy_kwh = 400,000 kWh exceeds 4,000 kWh: 10 x the plant's highest day (400) of its "
                       "previous 28 days (9 with a value)"]
    assert HUGE_DAY not in energy_by_day(analyst)  # ... but not shown to analysts
    assert result.withheld_rows["marts.kpi_daily"] > 0
    with duckdb.connect(str(analyst), read_only=True) as con:
        hourly = con.execute("select count(*) from marts.fct_line_energy_hourly where production_date = ?",
                             [HUGE_DAY]).fetchone()[0]
    assert hourly == 0
