"""A historian-only plant (no MES, no products) whose meters report energy per interval and as power and
whose lines report their machine state, simulated and run through the real pipeline (registry, ingest,
gates, dbt, training, scoring, publish) from configuration written by this test alone, then checked
against the simulator's truth (issue 19: optional streams, signal forms, machine state without MES).

    L1  energy_interval (kWh per 15 min) + production_count_interval (pieces per 15 min) + machine_state
        (codes 1 running, 2 idle, 3 down) + a motor with vibration and bearing temperature
    L2  active_power (kW, the average of each minute, integrated left-hold) + machine_running flag

Expected values come from the simulator's truth (what really happened, minute by minute) and from the
export resolutions, never from the pipeline's own code:
- energy per interval is exact to the export resolution: 96 intervals a day, each rounded to 0.001 kWh,
  so |error| <= 96 x 0.0005 kWh per line-day;
- power is integrated left-hold (a sample holds until the next one, gaps up to 15 min): each minute's
  average power, stamped at the minute start and rounded to 0.01 kW, gives |error| <= 1440 x 0.005 kW x
  1/60 h per line-day;
- running minutes are the truth's; down minutes are L1's unplanned stops (L2's flag has no "down");
  idle is every other line-minute of the day; MES KPIs are absent (no row), never 0.
The last simulated day is left out of the comparison: its last interval, power sample and state reading
have no successor in the export.
The pipeline runs in a subprocess because partitions and resources read PLANT_ASSETS_* at import.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from plant_assets.core.plant_config import load_plant
from plant_assets.simulator.engine import simulate_plant
from tests.helpers import pipeline_run

PLANT = "werk_ohne_mes"
START, DAYS = date(2026, 9, 7), 4
CHECKED = [START + timedelta(days=d) for d in range(DAYS - 1)]
INTERVAL_BOUND = 96 * 0.0005  # kWh per line-day: 96 interval readings rounded to 0.001 kWh
POWER_BOUND = 1440 * 0.005 / 60  # kWh per line-day: 1440 minute samples rounded to 0.01 kW, held 1 min each

PLANT_YAML = f"""
plant_id: {PLANT}
name: Werk ohne MES (historian only)
isa95: {{enterprise: Acme Beverages, site: Nord, area: Bottling}}
timezone: Europe/Berlin
owners: {{operations: schicht-nord@acme.example}}
historian:
  dialect: pi_recorded
  file_pattern: "PI_RecordedValues_{{date:%Y%m%d}}.csv"
  options:
    timestamp_format: "%d-%b-%Y %H:%M:%S"
    timestamps_in: local
machine_states: {{1: running, 2: idle, 3: down}}
lines:
  - id: L1
    name: Abfuellung 1
    motors: [{{id: L1-M1, name: Hauptantrieb, machine_class: iso20816_group2_rigid, rated_kw: 55}}]
  - id: L2
    name: Abfuellung 2
energy_baseline: {{start: {START}, end: {START + timedelta(days=DAYS - 1)}}}
models: {{auto_promote: true}}
simulation:
  seed: 4711
  lines:
    L1: {{base_kw: 30, run_kw: 70}}
    L2: {{base_kw: 12, run_kw: 40}}
  products:
    GLAS-033: {{kwh_per_unit: 0.04, ideal_rate_per_min: 100}}
  export: {{bad_share: 0, uncertain_share: 0, max_interval_min: 30}}
"""
TAG_MAP = """source_tag,signal,source_unit,line_id,asset_id,rollover,interval_min,running_above
NORD.L1.EM.KWH_15,energy_interval,kWh,L1,L1,,15,
NORD.L1.CNT.PCS_15,production_count_interval,count,L1,L1,,15,
NORD.L1.EXECUTION,machine_state,dimensionless,L1,L1,,,
NORD.L1.M1.VIB,motor_vibration_velocity,mm/s,L1,L1-M1,,,
NORD.L1.M1.TBRG,motor_bearing_temperature,degC,L1,L1-M1,,,
NORD.L2.EM.KW,active_power,kW,L2,L2,,,
NORD.L2.RUN,machine_running,dimensionless,L2,L2,,,
"""

def _truth_by_day(frame, column: str) -> dict[str, float]:
    return {str(d): float(v) for d, v in zip(frame["production_date"], frame[column])}


def run_pipeline(home, plants) -> None:
    """The real pipeline over the window; every plant-day must ingest, pass its gates and train."""
    report = pipeline_run.run_pipeline(home, plants, PLANT, START, START + timedelta(days=DAYS - 1), train=True)
    assert report == {"ingest_failures": {}, "gate_failures": [], "training_failures": {}}, report


def test_historian_only_plant_with_interval_and_power_meters_against_truth(tmp_path):
    home, plants = tmp_path / "home", tmp_path / "plants"
    folder = plants / PLANT
    folder.mkdir(parents=True)
    (folder / "plant.yaml").write_text(PLANT_YAML, encoding="utf-8")
    (folder / "tag_map.csv").write_text(TAG_MAP, encoding="utf-8")
    plant = load_plant(folder)
    assert plant.production_runs is None and plant.downtime_events is None and plant.products == []
    truth = simulate_plant(plant, START, DAYS, home / "landing")
    assert not truth.run_files and not truth.downtime_files  # no MES exports at all

    run_pipeline(home, plants)

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        kpi = {(str(d), k): v for d, k, v in con.execute(
            "SELECT production_date, kpi, value FROM marts.kpi_daily WHERE plant_id = ?", [PLANT]).fetchall()}
        line_energy = {(line, str(d)): v for line, d, v in con.execute(
            """SELECT line_id, production_date, sum(energy_kwh) FROM marts.fct_line_energy_hourly
               WHERE plant_id = ? GROUP BY ALL""", [PLANT]).fetchall()}
        gates = {(str(d), layer): passed for d, layer, passed in con.execute(
            """SELECT production_date, layer, passed FROM staging.stg_quality__gate_results
               WHERE plant_id = ?""", [PLANT]).fetchall()}
        motor = {str(d): v for d, v in con.execute(
            "SELECT production_date, vibration_mean_mms FROM marts.fct_motor_health_daily WHERE motor_id = 'L1-M1'"
        ).fetchall()}

    lines = truth.line_daily
    l1, l2 = lines[lines["line_id"] == "L1"], lines[lines["line_id"] == "L2"]
    energy1, energy2 = _truth_by_day(l1, "energy_kwh"), _truth_by_day(l2, "energy_kwh")
    units1 = _truth_by_day(l1, "units_produced")
    running1, running2 = _truth_by_day(l1, "running_min"), _truth_by_day(l2, "running_min")
    down1 = _truth_by_day(l1, "unplanned_downtime_min")
    for day in map(str, CHECKED):
        # every gate of the plant-day passed, the marts gate included (no kwh_per_unit fails it for lack of MES)
        assert gates[(day, "marts")] and gates[(day, "raw")], gates
        # energy in its two forms against the truth, within the export's resolution / the integration rule
        assert abs(line_energy[("L1", day)] - energy1[day]) <= INTERVAL_BOUND, (day, line_energy, energy1)
        assert abs(line_energy[("L2", day)] - energy2[day]) <= POWER_BOUND, (day, line_energy, energy2)
        assert abs(kpi[(day, "energy_kwh")] - energy1[day] - energy2[day]) <= INTERVAL_BOUND + POWER_BOUND
        assert kpi[(day, "units_produced")] == units1[day]  # counts per interval are integers: exact
        # machine state without MES: running, idle, down minutes and utilisation
        minutes = 24 * 60  # September in Berlin: no DST change
        assert kpi[(day, "running_min")] == running1[day] + running2[day]
        assert kpi[(day, "down_min")] == down1[day]
        assert kpi[(day, "idle_min")] == 2 * minutes - running1[day] - running2[day] - down1[day]
        assert abs(kpi[(day, "utilisation")] - (running1[day] + running2[day]) / (2 * minutes)) < 1e-12
        # the ISO 22400-2 time model from the state: APT = running, ADET = down, availability APT / (APT + ADET)
        assert kpi[(day, "actual_production_time_min")] == running1[day] + running2[day]
        assert kpi[(day, "unplanned_downtime_min")] == down1[day]
        expected_availability = (running1[day] + running2[day]) / (running1[day] + running2[day] + down1[day])
        assert abs(kpi[(day, "availability")] - expected_availability) < 1e-12
        # MES KPIs are absent, never 0
        for absent in ("good_qty", "scrap_qty", "planned_downtime_min", "unplanned_stop_count", "mttr_min",
                       "oee", "performance", "quality_ratio"):
            assert (day, absent) not in kpi, absent
        # motor health "while running" now has running minutes to work with
        assert motor[day] is not None and motor[day] > 0
    # published for analysts although the plant has no MES
    with duckdb.connect(str(home / "analyst.duckdb"), read_only=True) as con:
        published = con.execute("SELECT count(*) FROM marts.kpi_daily WHERE plant_id = ?", [PLANT]).fetchone()[0]
    assert published == len(kpi)
