"""The real dbt project on a tiny hand-made lake: seed, build (models, data tests, unit tests), then
check the marts against values computed by hand, the raw gate, and that a day-incremental run and a
full refresh give identical results.

The lake (2 plants x 2 plant-local days, readings every 8 h so every number can be checked by hand):

plant_a, Europe/Berlin (UTC+2 in September); readings at local 00:00, 08:00, 16:00 of each day
  (UTC 22:00 the day before, 06:00, 14:00):
    A_L1_ENERGY kWh   1000 1100 1300 | 1400 1450 1600       L1 deltas: 100 200 100 | 50 150
    A_L2_ENERGY MWh   5.0 5.125 5.25 | 5.375 5.5 5.625      L2 deltas: 125 125 125 | 125 125 (kWh)
    A_L1_COUNT        0 1000 3000 | 4000 4500 200 (reset)   deltas: 1000 2000 1000 | 500 200
  The interval 16:00 -> 00:00 belongs to the day it starts in, so
    2026-09-07: energy 400 + 375 = 775 kWh, 4000 units -> 0.19375 kWh/unit
    2026-09-08: energy 200 + 250 = 450 kWh,  700 units -> 0.642857 kWh/unit
  A bad-quality reading (I/O Timeout) in between is ignored.
plant_b, America/Chicago (UTC-5); readings at local 00:00, 12:00, 18:00:
    B_L1_ENERGY MWh   10.0 10.5 10.75 | 11.0 11.5           deltas: 500 250 kWh
    B_L1_COUNT (rollover 10000) 9000 9900 300 | 800 1200    deltas: 900 400 (300 - 9900 + 10000)
  2026-09-08 FAILED its raw gate: its readings, runs and downtime never reach the marts, and the
  interval 18:00 -> 00:00 of 2026-09-07 has no end reading, so 2026-09-07 has 750 kWh, 1300 units.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from plant_assets.ingest.plant_tables import REGISTRY_SCHEMAS

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIR = REPO / "dbt_project"
# the dbt next to this interpreter (the project's virtualenv), else the one on PATH
DBT = Path(sys.executable).with_name("dbt")
if not DBT.exists():
    DBT = Path(shutil.which("dbt") or REPO / ".venv" / "bin" / "dbt")

DAY1, DAY2 = date(2026, 9, 7), date(2026, 9, 8)
# the day-incremental marts (and a dimension); an incremental run must reproduce them exactly
MARTS = {
    "fct_line_energy_hourly": "plant_id, line_id, production_date, hour_utc",
    "fct_family_output_hourly": "plant_id, line_id, production_date, hour_utc, product_family",
    "fct_production_run": "plant_id, order_id, start_utc",
    "kpi_daily": "plant_id, production_date, kpi",
    "fct_motor_health_daily": "plant_id, motor_id, production_date",
    "fct_lab_quality": "plant_id, production_date, line_id, product_code, characteristic",
    "dim_kpi": "kpi",
}
# marts rebuilt whole from those (tables and views): a full refresh must reproduce them too
DERIVED_MARTS = {
    "fct_enpi_daily": "plant_id, production_date",
    "fct_cross_plant_benchmark": "plant_id, month, kpi",
    "fct_motor_health": "plant_id, motor_id, production_date",
    "dim_asset": "asset_key",
    "kpi_daily_wide": "plant_id, production_date",
}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --------------------------------------------------------------------------------------- the lake
READINGS_SCHEMA = pa.schema(
    [
        ("tag", pa.string()),
        ("ts_utc", pa.timestamp("us")),
        ("value", pa.float64()),
        ("quality", pa.string()),
        ("status_text", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)
RUNS_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("line_id", pa.string()),
        ("product_code", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("good_qty", pa.int64()),
        ("scrap_qty", pa.int64()),
    ]
)
DOWNTIME_SCHEMA = pa.schema(
    [
        ("line_id", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("reason", pa.string()),
        ("category", pa.string()),
    ]
)
GATE_SCHEMA = pa.schema(
    [
        ("layer", pa.string()),
        ("passed", pa.bool_()),
        ("checked_at", pa.timestamp("us")),
        ("failed_expectations", pa.string()),
        ("thresholds", pa.string()),
        ("plant_overrides", pa.string()),
    ]
)
RECONCILIATION_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("raw_records", pa.int64()),
        ("accepted_records", pa.int64()),
        ("quarantined_records", pa.int64()),
    ]
)

# plant-local day -> UTC timestamps of the 3 readings of that day
A_TIMES = {
    DAY1: ["2026-09-06 22:00", "2026-09-07 06:00", "2026-09-07 14:00"],
    DAY2: ["2026-09-07 22:00", "2026-09-08 06:00", "2026-09-08 14:00"],
}
B_TIMES = {
    DAY1: ["2026-09-07 05:00", "2026-09-07 17:00", "2026-09-07 23:00"],
    DAY2: ["2026-09-08 05:00", "2026-09-08 17:00"],
}
A_SERIES = {
    "A_L1_ENERGY": {DAY1: [1000, 1100, 1300], DAY2: [1400, 1450, 1600]},
    "A_L2_ENERGY": {DAY1: [5.0, 5.125, 5.25], DAY2: [5.375, 5.5, 5.625]},
    "A_L1_COUNT": {DAY1: [0, 1000, 3000], DAY2: [4000, 4500, 200]},
}
B_SERIES = {
    "B_L1_ENERGY": {DAY1: [10.0, 10.5, 10.75], DAY2: [11.0, 11.5]},
    "B_L1_COUNT": {DAY1: [9000, 9900, 300], DAY2: [800, 1200]},
}
# motor signals, one hour after each counter reading
A_MOTOR = {
    "A_L1_M1_VIB": {DAY1: [1.0, 2.0, 3.0], DAY2: [5.0, 4.0]},  # mm/s
    "A_L1_M1_TEMP": {DAY1: [40.0, 50.0, 60.0], DAY2: [55.0, 55.0]},  # degC
}
B_MOTOR = {
    "B_L1_M1_VIB": {DAY1: [0.1, 0.1], DAY2: [0.5]},  # in/s -> 2.54 mm/s
    "B_L1_M1_TEMP": {DAY1: [104.0, 140.0], DAY2: [150.0]},  # degF -> 40, 60 degC
}


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _readings(times: dict, series: dict, motor: dict, day: date, source_file: str) -> list[dict]:
    rows = []
    for tag, by_day in series.items():
        for when, value in zip(times[day], by_day.get(day, [])):
            rows.append({"tag": tag, "ts_utc": ts(when), "value": float(value), "quality": "good", "status_text": None})
    for tag, by_day in motor.items():
        for when, value in zip(times[day], by_day.get(day, [])):
            hour_later = ts(when) + timedelta(hours=1)
            rows.append({"tag": tag, "ts_utc": hour_later, "value": value, "quality": "good", "status_text": None})
    for line_no, row in enumerate(rows, start=2):
        row.update(source_file=source_file, source_line=line_no)
    return rows


def build_lake(lake: Path) -> None:
    """2 plants x 2 days; plant_b 2026-09-08 fails its raw gate."""
    # readings
    for plant, times, series, motor in (
        ("plant_a", A_TIMES, A_SERIES, A_MOTOR),
        ("plant_b", B_TIMES, B_SERIES, B_MOTOR),
    ):
        for day in (DAY1, DAY2):
            rows = _readings(times, series, motor, day, f"{plant}_{day:%Y%m%d}.csv")
            if plant == "plant_a" and day == DAY1:
                # uncertain still counts; a digital state (bad, no value) is ignored
                rows[1]["quality"] = "uncertain"
                rows.append(
                    {
                        "tag": "A_L1_ENERGY", "ts_utc": ts("2026-09-07 10:00"), "value": None, "quality": "bad",
                        "status_text": "I/O Timeout", "source_file": rows[0]["source_file"], "source_line": 99,
                    }
                )
            _write(
                pa.Table.from_pylist(rows, schema=READINGS_SCHEMA),
                lake / "raw" / f"plant_id={plant}" / f"production_date={day}" / "readings.parquet",
            )
            counts = [{"source_file": rows[0]["source_file"], "raw_records": len(rows), "accepted_records": len(rows), "quarantined_records": 0}]
            _write(
                pa.Table.from_pylist(counts, schema=RECONCILIATION_SCHEMA),
                lake / "reconciliation" / f"plant_id={plant}" / f"production_date={day}" / "historian.parquet",
            )

    runs = {
        ("plant_a", DAY1): [
            ("O-1", "L1", "PET-050", "2026-09-06 22:00", "2026-09-07 14:00", 2950, 50),
            ("O-2", "L1", "PET-150", "2026-09-07 14:00", "2026-09-08 06:00", 1480, 20),  # past midnight
        ],
        ("plant_a", DAY2): [("O-3", "L1", "PET-050", "2026-09-08 06:00", "2026-09-08 14:00", 190, 10)],
        ("plant_b", DAY1): [("B-1", "L1", "CAN-24OZ", "2026-09-07 05:00", "2026-09-07 23:00", 1250, 50)],
        ("plant_b", DAY2): [("B-2", "L1", "CAN-12OZ", "2026-09-08 05:00", "2026-09-08 17:00", 900, 100)],
    }
    for (plant, day), items in runs.items():
        rows = [
            dict(zip(RUNS_SCHEMA.names, (o, line, prod, ts(s), ts(e), good, scrap)))
            for o, line, prod, s, e, good, scrap in items
        ]
        _write(
            pa.Table.from_pylist(rows, schema=RUNS_SCHEMA),
            lake / "events" / "production_runs" / f"plant_id={plant}" / f"production_date={day}" / "runs.parquet",
        )

    downtime = {
        ("plant_a", DAY1): [
            ("L1", "2026-09-07 08:00", "2026-09-07 08:30", "jam", "unplanned"),
            ("L1", "2026-09-07 10:00", "2026-09-07 10:15", "cleaning", "planned"),
            ("L2", "2026-09-07 12:00", "2026-09-07 12:10", "no bottles", "unplanned"),
        ],
        ("plant_a", DAY2): [("L1", "2026-09-08 09:00", "2026-09-08 10:00", "changeover", "planned")],
        ("plant_b", DAY1): [("L1", "2026-09-07 20:00", "2026-09-07 20:20", "seamer jam", "unplanned")],
        ("plant_b", DAY2): [("L1", "2026-09-08 10:00", "2026-09-08 11:00", "seamer jam", "unplanned")],
    }
    for (plant, day), items in downtime.items():
        rows = [dict(zip(DOWNTIME_SCHEMA.names, (line, ts(s), ts(e), r, c))) for line, s, e, r, c in items]
        _write(
            pa.Table.from_pylist(rows, schema=DOWNTIME_SCHEMA),
            lake / "events" / "downtime_events" / f"plant_id={plant}" / f"production_date={day}" / "events.parquet",
        )

    # Lab values (already in the spec's unit, as ingest writes them): plant_a 2026-09-07 fill volume of
    # PET-050 on L1 (5 values, 503 above the USL 502.5) and of PET-150 on L2 (2 values: no Cpk);
    # plant_b 2026-09-07 an empty partition (what ingest writes without lab data), 2026-09-08 values of a
    # plant-day whose raw gate failed (never reach the marts).
    from plant_assets.ingest.exports import LAB_SCHEMA

    lab = {
        ("plant_a", DAY1): [("S1", "L1", "PET-050", v, "2026-09-07 06:00") for v in (499.0, 500.0, 501.0, 502.0)]
        + [("S5", "L1", "PET-050", 503.0, "2026-09-07 07:00"), ("S6", "L2", "PET-150", 1500.0, "2026-09-07 08:00"),
           ("S7", "L2", "PET-150", 1502.0, "2026-09-07 09:00")],
        ("plant_b", DAY1): [],
        ("plant_b", DAY2): [("B1", "L1", "CAN-12OZ", 300.0, "2026-09-08 12:00")],
    }
    for (plant, day), items in lab.items():
        rows = [
            {"sample_id": f"{sid}-{i}", "order_id": None, "line_id": line, "product_code": prod,
             "characteristic": "fill_volume", "sampled_at_utc": ts(at), "value": v, "unit": "ml",
             "reported_value": v, "reported_unit": "ml", "source_file": "lab.csv", "source_line": i + 2}
            for i, (sid, line, prod, v, at) in enumerate(items)
        ]  # fmt: skip
        _write(
            pa.Table.from_pylist(rows, schema=LAB_SCHEMA),
            lake / "events" / "lab_results" / f"plant_id={plant}" / f"production_date={day}" / "samples.parquet",
        )

    for plant in ("plant_a", "plant_b"):
        for day in (DAY1, DAY2):
            passed = not (plant == "plant_b" and day == DAY2)
            rows = [
                {
                    "layer": "raw",
                    "passed": passed,
                    "checked_at": ts(f"{day} 23:59"),
                    "failed_expectations": "[]" if passed else '["value_in_range"]',
                    "thresholds": "{}",
                    "plant_overrides": "{}",
                }
            ]
            _write(
                pa.Table.from_pylist(rows, schema=GATE_SCHEMA),
                lake / "gates" / f"plant_id={plant}" / f"production_date={day}" / "raw.parquet",
            )

    registry = lake / "registry"
    # both plants configure every optional export and have no machine-state map (issue 19 columns)
    _write(
        pa.Table.from_pylist(
            [
                {"plant_id": plant, "name": name, "timezone": tz, "isa95_path": path, "baseline_start": DAY1,
                 "baseline_end": DAY2, "energy_tolerance": 0.1, "has_production_runs": True,
                 "has_downtime_events": True, "has_lab_results": True, "machine_states": []}
                for plant, name, tz, path in (
                    ("plant_a", "Rheinfeld", "Europe/Berlin", "Acme/Rheinfeld/Bottling"),
                    ("plant_b", "Cedar Falls", "America/Chicago", "Acme/Cedar Falls/Canning"),
                )
            ],
            schema=REGISTRY_SCHEMAS["plants"],
        ),
        registry / "plants.parquet",
    )
    _registry_table(
        registry / "lines.parquet",
        "plant_id line_id name isa95_path rated_kw max_units_per_hour",
        [
            ("plant_a", "L1", "Filler line 1", "Acme/Rheinfeld/Bottling/L1", 500.0, 10800.0),
            ("plant_a", "L2", "Filler line 2", "Acme/Rheinfeld/Bottling/L2", None, None),
            ("plant_b", "L1", "Can line 1", "Acme/Cedar Falls/Canning/L1", 500.0, 18000.0),
        ],
        floats=("rated_kw", "max_units_per_hour"),
    )
    _registry_table(
        registry / "motors.parquet",
        "plant_id line_id motor_id name machine_class isa95_path",
        [
            ("plant_a", "L1", "L1-M1", "Filler drive", "iso20816_group2_rigid", "Acme/Rheinfeld/Bottling/L1/L1-M1"),
            ("plant_b", "L1", "L1-M1", "Seamer drive", "iso20816_group1_rigid", "Acme/Cedar Falls/Canning/L1/L1-M1"),
        ],
    )
    _registry_table(
        registry / "products.parquet",
        "plant_id product_code family mass_kg ideal_rate_per_min",
        [
            ("plant_a", "PET-050", "standard", 0.52, 120.0),
            ("plant_a", "PET-150", "heavy", 1.55, 70.0),
            # free family names (plant.yaml): any name works, no list of allowed ones
            ("plant_b", "CAN-12OZ", "can_12oz", 0.37, 200.0),
            ("plant_b", "CAN-24OZ", "can_24oz", 0.72, 110.0),
        ],
    )
    _registry_table(
        registry / "tag_map.parquet",
        "plant_id source_tag signal line_id asset_id source_unit canonical_unit scale offset rollover"
        " interval_min running_above",
        [
            ("plant_a", "A_L1_ENERGY", "energy_total", "L1", "L1", "kWh", "kWh", 1.0, 0.0, None, None, None),
            ("plant_a", "A_L2_ENERGY", "energy_total", "L2", "L2", "MWh", "kWh", 1000.0, 0.0, None, None, None),
            ("plant_a", "A_L1_COUNT", "production_count_total", "L1", "L1", "count", "count", 1.0, 0.0, None, None, None),
            ("plant_a", "A_L1_M1_VIB", "motor_vibration_velocity", "L1", "L1-M1", "mm/s", "mm/s", 1.0, 0.0, None, None, None),
            ("plant_a", "A_L1_M1_TEMP", "motor_bearing_temperature", "L1", "L1-M1", "degC", "degC", 1.0, 0.0, None, None, None),
            ("plant_b", "B_L1_ENERGY", "energy_total", "L1", "L1", "MWh", "kWh", 1000.0, 0.0, None, None, None),
            ("plant_b", "B_L1_COUNT", "production_count_total", "L1", "L1", "count", "count", 1.0, 0.0, 10000.0, None, None),
            ("plant_b", "B_L1_M1_VIB", "motor_vibration_velocity", "L1", "L1-M1", "in/s", "mm/s", 25.4, 0.0, None, None, None),
            ("plant_b", "B_L1_M1_TEMP", "motor_bearing_temperature", "L1", "L1-M1", "degF", "degC", 5 / 9, -160 / 9, None, None, None),
        ],
        floats=("scale", "offset", "rollover", "interval_min", "running_above"),
    )
    _registry_table(
        registry / "quality_specs.parquet",
        "plant_id product_code characteristic unit lsl target usl",
        [
            ("plant_a", "PET-050", "fill_volume", "ml", 495.0, 500.0, 502.5),
            ("plant_a", "PET-150", "fill_volume", "ml", 1490.0, 1500.0, 1510.0),
            ("plant_b", "CAN-12OZ", "fill_volume", "ml", 350.0, 355.0, 362.0),
        ],
        floats=("lsl", "target", "usl"),
    )


def _registry_table(path: Path, columns: str, rows: list[tuple], floats: tuple[str, ...] = ()) -> None:
    names = columns.split()
    schema = None
    if floats:  # all-NULL columns (rollover) need a declared type
        schema = pa.schema([(n, pa.float64() if n in floats else pa.string()) for n in names])
    _write(pa.Table.from_pylist([dict(zip(names, row)) for row in rows], schema=schema), path)


# ------------------------------------------------------------------------------------------- dbt
class Dbt:
    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.warehouse = tmp_path / "warehouse.duckdb"
        self.lake = tmp_path / "lake"
        self.env = {
            **os.environ,
            "PLANT_ASSETS_DUCKDB": str(self.warehouse),
            "PLANT_ASSETS_LAKE": str(self.lake),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
        self.timings: dict[str, float] = {}

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [
            str(DBT), *args,
            "--project-dir", str(PROJECT_DIR),
            "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(self.tmp_path / "target"),
            "--log-path", str(self.tmp_path / "logs"),
        ]
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=300)
        self.timings[" ".join(args)] = time.perf_counter() - started
        assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
        return proc

    def query(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def execute(self, sql: str) -> None:
        con = duckdb.connect(str(self.warehouse))
        try:
            con.execute(sql)
        finally:
            con.close()

    def snapshot(self, marts: dict[str, str] = MARTS) -> dict[str, list[tuple]]:
        return {name: self.query(f"select * from marts.{name} order by {order}") for name, order in marts.items()}


def _same(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        assert len(left[name]) == len(right[name]), name
        for a, b in zip(left[name], right[name]):
            assert len(a) == len(b)
            for x, y in zip(a, b):
                if isinstance(x, float) and isinstance(y, float):
                    assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9), (name, a, b)
                else:
                    assert x == y, (name, a, b)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("dbt")
    dbt = Dbt(tmp_path)
    build_lake(dbt.lake)
    dbt("seed")
    proc = dbt("build")
    # read now: later dbt invocations of this module (incremental runs, docs) rewrite target/run_results.json
    results = json.loads((dbt.tmp_path / "target" / "run_results.json").read_text())["results"]
    return dbt, proc, results


def kpis(dbt: Dbt) -> dict[tuple[str, date, str], float]:
    return {(p, d, k): v for p, d, k, v in dbt.query("select plant_id, production_date, kpi, value from marts.kpi_daily")}


def test_build_ran_unit_tests_and_data_tests(built):
    dbt, proc, results = built
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "seed", "test", "unit_test"} <= kinds
    bad = [(r["unique_id"], r["status"]) for r in results if r["status"] not in ("success", "pass", "no-op")]
    assert not bad, bad
    unit_tests = {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("unit_test.")}
    assert {
        "kpi_daily_kwh_per_unit_worked_example",
        "fct_production_run_energy_per_unit_and_per_tonne",
        "int_production_runs_energy_is_the_line_meter_during_the_run",
        "int_counter_deltas_rollover_reset_and_midnight",
        "int_counter_deltas_no_phantom_rollover",
        "fct_motor_health_daily_zone_from_machine_class_boundaries",
        "fct_motor_health_daily_acceleration_without_zone",
        "stg_historian__readings_keeps_only_days_whose_raw_gate_passed",
        "kpi_daily_oee_iso22400_worked_example",
        "int_line_minute_states_orders_and_stops_on_the_minute_grid",
        "fct_enpi_daily_regression_normalized_worked_example",
        "fct_motor_health_escalates_by_bearing_temperature_trend",
        "fct_cross_plant_benchmark_flags_non_comparable_plants",
        "fct_lab_quality_share_out_of_spec_and_cpk_worked_example",
        "kpi_daily_lab_quality_worked_example",
        "int_lab_samples_with_specs_limits_are_in_spec",
        "kpi_daily_energy_per_m3_water_worked_example",
        "fct_plant_drivers_hourly_means_per_hour_and_state_minutes",
        "fct_family_output_hourly_splits_each_line_hour_by_running_family",
    } <= unit_tests
    # every KPI of the catalog is documented with a worked example (or says why it is not built)
    for kpi, definition, mart in dbt.query("select kpi, definition, mart from marts.dim_kpi"):
        assert "Worked example" in definition or mart.startswith("not built"), kpi


def test_kpi_daily_energy_and_kwh_per_unit_by_hand(built):
    dbt, *_ = built
    k = kpis(dbt)
    a = "plant_a"
    assert k[(a, DAY1, "energy_kwh")] == pytest.approx(400 + 375)  # L1 100+200+100, L2 3 x 125
    assert k[(a, DAY1, "units_produced")] == pytest.approx(1000 + 2000 + 1000)
    assert k[(a, DAY1, "kwh_per_unit")] == pytest.approx(775 / 4000)
    assert k[(a, DAY2, "energy_kwh")] == pytest.approx(50 + 150 + 125 + 125)
    assert k[(a, DAY2, "units_produced")] == pytest.approx(500 + 200)  # 4500 -> 200 is a reset: 200
    assert k[(a, DAY2, "kwh_per_unit")] == pytest.approx(450 / 700)
    # tonnage: O-1 (0.52 kg) 3000 units + O-2 (1.55 kg, heavy) 1000 units on day 1
    assert k[(a, DAY1, "energy_per_ton")] == pytest.approx(775 / ((3000 * 0.52 + 1000 * 1.55) / 1000))
    assert k[(a, DAY1, "good_qty")] == 4430 and k[(a, DAY1, "scrap_qty")] == 70
    # scrap ratio: counted units carry their run's MES scrap share; O-2 runs past midnight and only
    # its first 1000 units fall on day 1: (3000 x 50/3000 + 1000 x 20/1500) / 4000
    assert k[(a, DAY1, "scrap_ratio")] == pytest.approx((50 + 1000 * 20 / 1500) / 4000)
    assert k[(a, DAY1, "unplanned_downtime_min")] == pytest.approx(40)
    assert k[(a, DAY1, "planned_downtime_min")] == pytest.approx(15)
    assert k[(a, DAY2, "unplanned_downtime_min")] == 0 and k[(a, DAY2, "planned_downtime_min")] == pytest.approx(60)
    b = "plant_b"
    assert k[(b, DAY1, "energy_kwh")] == pytest.approx(500 + 250)
    assert k[(b, DAY1, "units_produced")] == pytest.approx(900 + 400)  # 9900 -> 300 with rollover 10000
    assert k[(b, DAY1, "kwh_per_unit")] == pytest.approx(750 / 1300)
    # ISO 22400-2 on the minute grid, plant_a day 1 (local 09-07 = UTC 09-06 22:00 .. 09-07 22:00):
    # L1 is in an order all 1440 minutes (O-1 960, O-2 480); jam 30 min and cleaning 15 min inside
    # them; L2 has a 10-min unplanned stop outside any order.
    pbt, apt = 1440 - 15 + 10, 1440 - 30 - 15
    assert k[(a, DAY1, "planned_busy_time_min")] == pbt and k[(a, DAY1, "actual_production_time_min")] == apt
    assert k[(a, DAY1, "availability")] == pytest.approx(apt / pbt)
    ideal = 3000 / 120 + 1000 / 70  # PET-050 at 120/min in O-1, PET-150 at 70/min in O-2
    assert k[(a, DAY1, "performance")] == pytest.approx(ideal / apt)
    quality = (2950 + 1000 * 1480 / 1500) / 4000
    assert k[(a, DAY1, "quality_ratio")] == pytest.approx(quality)
    assert k[(a, DAY1, "oee")] == pytest.approx(apt / pbt * ideal / apt * quality)
    assert k[(a, DAY1, "throughput_rate")] == pytest.approx(4000 / 1440)
    assert k[(a, DAY1, "technical_efficiency")] == pytest.approx(apt / (apt + 40))
    assert k[(a, DAY1, "unplanned_stop_count")] == 2 and k[(a, DAY1, "mttr_min")] == pytest.approx(20)
    assert k[(a, DAY1, "mtbf_min")] == pytest.approx(apt / 2)
    units = dict(dbt.query("select kpi, unit from marts.kpi_daily group by all"))
    assert units["energy_kwh"] == "kWh" and units["kwh_per_unit"] == "kWh/unit" and units["energy_per_ton"] == "kWh/t"


def test_lab_quality_share_out_of_spec_and_cpk_by_hand(built):
    """plant_a 2026-09-07: PET-050 on L1 499, 500, 501, 502, 503 ml against 495 / 500 / 502.5: 503 is out
    (1 / 5), mean 501, sd sqrt(10 / 4) = 1.5811, Cp 7.5 / 9.4868 = 0.7906, Cpk min(1.5, 6) / 4.7434 = 0.3162;
    PET-150 on L2 2 values: share 0, no Cpk (< 5 values). Day: 1 of 7 values out, cpk_min 0.3162.
    plant_b: an empty partition and a failed-gate day give no lab rows at all."""
    dbt, *_ = built
    rows = dbt.query(
        "select plant_id, production_date, line_id, product_code, samples, out_of_spec_samples, out_of_spec_share, "
        "mean_value, sd_value, cp, cpk from marts.fct_lab_quality order by line_id"
    )
    assert [r[:6] for r in rows] == [
        ("plant_a", DAY1, "L1", "PET-050", 5, 1),
        ("plant_a", DAY1, "L2", "PET-150", 2, 0),
    ]
    l1, l2 = rows
    assert l1[6] == pytest.approx(0.2) and l1[7] == pytest.approx(501.0)
    assert l1[8] == pytest.approx(math.sqrt(2.5)) and l1[9] == pytest.approx(7.5 / (6 * math.sqrt(2.5)))
    assert l1[10] == pytest.approx(1.5 / (3 * math.sqrt(2.5)))
    assert l2[6] == 0 and l2[9] is None and l2[10] is None
    values = kpis(dbt)
    assert values[("plant_a", DAY1, "lab_sample_count")] == 7
    assert values[("plant_a", DAY1, "out_of_spec_share")] == pytest.approx(1 / 7)
    assert values[("plant_a", DAY1, "cpk_min")] == pytest.approx(1.5 / (3 * math.sqrt(2.5)))
    assert not [k for k in values if k[0] == "plant_b" and k[2] in ("lab_sample_count", "out_of_spec_share", "cpk_min")]


def test_failed_gate_plant_day_is_absent(built):
    dbt, *_ = built
    for table in ("kpi_daily", "fct_line_energy_hourly", "fct_production_run", "fct_motor_health_daily"):
        assert dbt.query(
            f"select count(*) from marts.{table} where plant_id = 'plant_b' and production_date = date '{DAY2}'"
        ) == [(0,)], table
    assert dbt.query("select count(*) from marts.fct_production_run where order_id = 'B-2'") == [(0,)]
    assert dbt.query(
        "select count(*) from staging.stg_historian__readings where plant_id = 'plant_b' and production_date = date '2026-09-08'"
    ) == [(0,)]


def test_production_runs_hourly_and_motor_health(built):
    dbt, *_ = built
    runs = {
        r[0]: r[1:]
        for r in dbt.query(
            "select order_id, product_family, production_date, units_produced, energy_kwh, kwh_per_unit, energy_per_ton_kwh"
            " from marts.fct_production_run"
        )
    }
    assert runs["O-1"][1:5] == (DAY1, 3000, 300, 0.1)
    assert runs["O-1"][5] == pytest.approx(300 / (3000 * 0.52 / 1000))
    # O-2 runs past local midnight: it gets the first interval of the next day as well
    assert runs["O-2"][:5] == ("heavy", DAY1, 1500, 150, 0.1)
    assert runs["O-3"][2:5] == (200, 150, 0.75)
    assert runs["B-1"][2:4] == (1300, pytest.approx(750))

    hourly = dbt.query(
        "select hour_utc, production_date, energy_kwh, units_produced, running_minutes"
        " from marts.fct_line_energy_hourly where plant_id = 'plant_a' and line_id = 'L1' order by hour_utc"
    )
    assert hourly[2] == (ts("2026-09-07 14:00"), DAY1, 100, 1000, 480)  # heavy run O-2 active
    assert hourly[3] == (ts("2026-09-07 22:00"), DAY2, 50, 500, 480)  # local 00:00 of day 2

    health = {
        (p, d): (z, h, v)
        for p, d, z, h, v in dbt.query(
            "select plant_id, production_date, zone, health, vibration_mean_mms from marts.fct_motor_health_daily"
        )
    }
    assert health[("plant_a", DAY1)][:2] == ("B", "green")  # mean 2.0 mm/s, group 2 rigid: 1.4 <= 2.0 < 2.8
    assert health[("plant_a", DAY2)][:2] == ("D", "red")  # mean 4.5 mm/s is at the C/D boundary
    assert health[("plant_b", DAY1)] == ("B", "green", pytest.approx(2.54))  # 0.1 in/s, group 1 rigid
    temp = dbt.query("select bearing_temp_mean_c from marts.fct_motor_health_daily where plant_id = 'plant_b'")
    assert temp == [(pytest.approx(50.0),)]  # 104 degF and 140 degF


def test_incremental_day_run_and_full_refresh_are_identical(built):
    dbt, *_ = built
    before = dbt.snapshot()
    derived = dbt.snapshot(DERIVED_MARTS)
    # Damage the days the incremental run must rebuild, and plant a row outside its window.
    dbt.execute(
        f"""
        update marts.kpi_daily set value = -1 where production_date = date '{DAY2}';
        delete from marts.fct_line_energy_hourly where production_date = date '{DAY1}';
        delete from marts.fct_production_run where order_id = 'O-2';
        insert into marts.kpi_daily values ('plant_a', date '2026-09-01', 'energy_kwh', 1.0, 'kWh');
        insert into marts.fct_line_energy_hourly
            values ('plant_a', 'L1', timestamp '2026-09-01 10:00', date '2026-09-01', 1.0, 0, 0, 60);
        """
    )
    # unit tests ran in the first build; the nightly run excludes them too
    dbt("build", "--vars", json.dumps({"min_date": str(DAY2), "max_date": str(DAY2)}), "--exclude-resource-type", "unit_test")
    sentinel = "select count(*) from marts.kpi_daily where production_date = date '2026-09-01'"
    assert dbt.query(sentinel) == [(1,)], "an incremental run must leave days outside its window alone"
    for table in ("kpi_daily", "fct_line_energy_hourly"):
        dbt.execute(f"delete from marts.{table} where production_date = date '2026-09-01'")
    _same(before, dbt.snapshot())

    dbt("build", "--full-refresh", "--exclude-resource-type", "unit_test")
    _same(before, dbt.snapshot())
    _same(derived, dbt.snapshot(DERIVED_MARTS))
    print("dbt timings (s):", {k: round(v, 1) for k, v in dbt.timings.items()})


def test_asset_hierarchy_benchmark_and_views(built):
    dbt, *_ = built
    levels = dict(dbt.query("select isa95_level, count(*) from marts.dim_asset group by all"))
    assert levels == {"site": 2, "line": 3, "unit": 2}
    assert dbt.query("select parent_asset_id, isa95_path, cd_boundary_mms from marts.dim_asset where asset_key = 'plant_b/L1-M1'") == [
        ("L1", "Acme/Cedar Falls/Canning/L1/L1-M1", 7.1)
    ]
    # 2 days of plant_a, 1 of plant_b (09-08 failed its gate): plant_b's coverage is 1 / 2
    bench = {
        (p, k): (v, c, why)
        for p, k, v, c, why in dbt.query(
            "select plant_id, kpi, value, comparable, not_comparable_reason from marts.fct_cross_plant_benchmark"
        )
    }
    assert bench[("plant_a", "kwh_per_unit")][0] == pytest.approx((775 + 450) / (4000 + 700))
    assert bench[("plant_b", "kwh_per_unit")][1] is False and "coverage 50 %" in bench[("plant_b", "kwh_per_unit")][2]
    wide = dbt.query(
        "select oee, kwh_per_unit from marts.kpi_daily_wide where plant_id = 'plant_a' and production_date = date '2026-09-07'"
    )
    assert wide == [(pytest.approx(dbt.query(
        "select value from marts.kpi_daily where plant_id = 'plant_a' and production_date = date '2026-09-07' and kpi = 'oee'"
    )[0][0]), pytest.approx(775 / 4000))]
    # 2 baseline days per plant in this lake: too few for the regression, the simple ratio is there
    enpi = dbt.query("select enpi_normalized, enpi_ratio_vs_baseline from marts.fct_enpi_daily where plant_id = 'plant_a' order by production_date")
    assert [e[0] for e in enpi] == [None, None]
    assert enpi[0][1] == pytest.approx((775 / 4000) / ((775 + 450) / 4700))
    health = dbt.query("select health, vibration_health, bearing_temp_trend_c from marts.fct_motor_health where plant_id = 'plant_a' order by production_date")
    assert health[0] == ("green", "green", None) and health[1][:2] == ("red", "red")


def test_wide_view_has_a_column_per_day_kpi_of_the_catalog(built):
    """kpi_daily_wide's columns are generated from seeds/kpi_catalog.csv (mart marts.kpi_daily, catalog order)."""
    from plant_assets.core.catalog import load_kpi_catalog

    dbt, *_ = built
    day_kpis = [k for k, v in load_kpi_catalog().items() if v.in_kpi_daily]
    columns = [c for (c,) in dbt.query(
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'kpi_daily_wide' order by ordinal_position"
    )]
    assert columns == ["plant_id", "production_date", *day_kpis]
    assert {k for (k,) in dbt.query("select distinct kpi from marts.kpi_daily")} <= set(day_kpis)


def test_docs_generate_documents_the_kpi_formulas(built):
    dbt, *_ = built
    dbt("docs", "generate")
    manifest = json.loads((dbt.tmp_path / "target" / "manifest.json").read_text())
    catalog = json.loads((dbt.tmp_path / "target" / "catalog.json").read_text())
    assert "model.plant_assets.kpi_daily" in catalog["nodes"] and "model.plant_assets.dim_kpi" in catalog["nodes"]
    kpi_daily = manifest["nodes"]["model.plant_assets.kpi_daily"]
    assert "availability x performance x quality_ratio" in kpi_daily["description"]
    undocumented = [
        (node["name"], column)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "plant_assets"
        and node["name"] not in ("stg_ingest__reconciliation", "fct_ingest_reconciliation")
        for column, spec in (node["columns"] or {"<none>": {"description": ""}}).items()
        if not node["description"]
    ]
    assert not undocumented, undocumented
    exposures = {e["name"] for e in manifest["exposures"].values()}
    assert {"energy_baseline_model", "actions_alerts", "analyst_warehouse", "cross_plant_benchmark"} <= exposures
    assert {"kwh_per_unit", "oee", "enpi_normalized"} <= {m["name"] for m in manifest["metrics"].values()}


def test_family_output_and_the_benchmark_mix_with_free_family_names(built):
    """By hand from the lake: plant_a's L1 counter deltas go to the family of the run active at each interval
    start (O-1 and O-3 PET-050 standard, O-2 PET-150 heavy); plant_b's to its own names (B-1 CAN-24OZ
    can_24oz). The benchmark compares the families' shares: a standard 3200 / 4700, heavy 1500 / 4700,
    can_24oz 0; b can_24oz 1300 / 1300. Medians of the two plants: standard 0.340, heavy 0.160, can_24oz 0.5;
    can_24oz is the furthest family for both (|0 - 0.5| = |1 - 0.5| = 0.5 > 0.15): both mixes differ."""
    dbt, *_ = built
    rows = dbt.query(
        "select plant_id, line_id, hour_utc, production_date, product_family, units_produced"
        " from marts.fct_family_output_hourly order by plant_id, hour_utc"
    )
    assert rows == [
        ("plant_a", "L1", ts("2026-09-06 22:00"), DAY1, "standard", 1000),
        ("plant_a", "L1", ts("2026-09-07 06:00"), DAY1, "standard", 2000),
        ("plant_a", "L1", ts("2026-09-07 14:00"), DAY1, "heavy", 1000),
        ("plant_a", "L1", ts("2026-09-07 22:00"), DAY2, "heavy", 500),  # O-2 runs past local midnight
        ("plant_a", "L1", ts("2026-09-08 06:00"), DAY2, "standard", 200),  # O-3, after the counter reset
        ("plant_b", "L1", ts("2026-09-07 05:00"), DAY1, "can_24oz", 900),
        ("plant_b", "L1", ts("2026-09-07 17:00"), DAY1, "can_24oz", 400),
    ]
    mix = {
        p: r for p, *r in dbt.query(
            "select plant_id, mix_family, mix_family_share, median_mix_family_share, product_mix_differs,"
            " not_comparable_reason from marts.fct_cross_plant_benchmark where kpi = 'kwh_per_unit'"
        )
    }
    assert mix["plant_a"][:4] == ["can_24oz", 0.0, pytest.approx(0.5), True]
    assert mix["plant_b"][:4] == ["can_24oz", 1.0, pytest.approx(0.5), True]
    assert "product family can_24oz 0 % of units vs median 50 %" in mix["plant_a"][4]
