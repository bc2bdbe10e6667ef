"""An energy-only plant (a site meter and an outdoor temperature, no production counter, no MES), alone in its
fleet, onboarded from configuration written by this test alone and run through the real pipeline with training
and publish: every gate passes, only energy KPIs exist (the others are absent, never 0), each day's energy equals
what the export holds, and its energy baseline is hourly, keeps the calendar and the weather on evidence (issue 20: relevant variables per ISO 50006)
and meets ASHRAE Guideline 14 hourly (CV(RMSE) <= 30 %, |NMBE| <= 10 %, the guideline's numbers), beating the
naive mean of the baseline's same hour of week.

The export is simulated here with a weekly rhythm: two shifts Monday to Friday (06-22 local), one on Saturday
(06-14), idle on Sunday and on the plant's holiday (plant.yaml calendar), a base load, and a heating load
below 18 degC of outdoor temperature; 15-minute kWh intervals in one file holding the whole history.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import duckdb
from mlflow import MlflowClient

from tests.helpers.pipeline_run import run_pipeline

PLANT = "site_meter_only"
START, DAYS = date(2026, 1, 5), 35  # five weeks from a Monday, in winter
LAST = START + timedelta(days=DAYS - 1)
HOLIDAY = date(2026, 1, 6)  # Epiphany: a holiday where the plant stands

PLANT_YAML = f"""
plant_id: {PLANT}
name: Site meter only (energy and weather, no MES)
isa95: {{enterprise: Acme Metals, site: Sued, area: Rolling}}
timezone: Europe/Berlin
owners: {{energy: energie-sued@acme.example}}
history_start: {START}
historian:
  dialect: generic
  file_pattern: "site_meter_export.csv"
  options:
    layout: wide
    delimiter: ","
    timestamp_column: timestamp
    timestamp_format: "%Y-%m-%d %H:%M"
    timestamps_in: local
lines:
  - {{id: SITE, name: Whole site}}
energy_baseline: {{start: {START}, end: {LAST}}}
calendar: {{holidays: [{HOLIDAY}]}}
models: {{auto_promote: true}}
quality_gates:
  canonical_signals: {{min_completeness: 0.2}}
"""
TAG_MAP = """source_tag,signal,source_unit,line_id,asset_id,rollover,interval_min,running_above
kwh_15min,energy_interval,kWh,SITE,SITE,,15,
outdoor_c,outdoor_temperature,degC,SITE,SITE,,,
"""


def site_kw(moment: datetime, day_index: int, temperature: float) -> float:
    weekday, hour = moment.weekday(), moment.hour
    on_shift = moment.date() != HOLIDAY and ((weekday < 5 and 6 <= hour < 22) or (weekday == 5 and 6 <= hour < 14))
    return 800.0 + 2400.0 * on_shift + 60.0 * max(0.0, 18.0 - temperature)


def write_export(landing) -> dict[date, float]:
    """Write the export; return each local day's energy as written (the truth the marts must equal)."""
    rng = random.Random(20)
    written: dict[date, float] = {}
    lines = ["timestamp,kwh_15min,outdoor_c"]
    moment = datetime(START.year, START.month, START.day)
    end = datetime(LAST.year, LAST.month, LAST.day) + timedelta(days=1)
    while moment < end:
        day_index = (moment.date() - START).days
        hours = moment.hour + moment.minute / 60
        temperature = 2 + 5 * math.sin(2 * math.pi * (hours - 9) / 24) + 4 * math.sin(2 * math.pi * day_index / 11) + rng.gauss(0, 0.5)
        kwh = site_kw(moment, day_index, temperature) / 4 * rng.gauss(1, 0.03)
        lines.append(f"{moment:%Y-%m-%d %H:%M},{kwh:.3f},{temperature:.1f}")
        # an interval reading is the energy of [ts, ts + 15 min) (docs/contracts.md): it belongs to ts's day
        written[moment.date()] = written.get(moment.date(), 0.0) + float(f"{kwh:.3f}")
        moment += timedelta(minutes=15)
    landing.mkdir(parents=True)
    (landing / "site_meter_export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def test_energy_only_plant_baseline_keeps_calendar_and_weather_and_meets_g14_hourly(tmp_path):
    home, plants = tmp_path / "home", tmp_path / "plants"
    folder = plants / PLANT
    folder.mkdir(parents=True)
    (folder / "plant.yaml").write_text(PLANT_YAML, encoding="utf-8")
    (folder / "tag_map.csv").write_text(TAG_MAP, encoding="utf-8")
    written = write_export(home / "landing" / PLANT)

    report = run_pipeline(home, plants, PLANT, START, LAST, train=True)
    # every day passes its gates: an outdoor temperature near 0 degC is no "level shift" (canonical_metrics.ratio_floor)
    assert report == {"ingest_failures": {}, "gate_failures": [], "training_failures": {}}, report

    client = MlflowClient(tracking_uri=f"sqlite:///{home / 'mlflow.db'}", registry_uri=f"sqlite:///{home / 'mlflow.db'}")
    champion = client.get_model_version_by_alias(f"energy_baseline.{PLANT}", "champion")
    tags = champion.tags
    metrics = {k[len("metric."):]: float(v) for k, v in tags.items() if k.startswith("metric.")}
    print({k: round(v, 4) for k, v in metrics.items() if "cv_rmse" in k or "nmbe_hourly" in k})
    print(tags["variables_kept"])
    assert tags["grain"] == "hourly"
    kept = set(tags["variables_kept"].split(","))
    assert {"hour_of_week", "hdh"} <= kept, kept  # the calendar and the weather, on evidence
    assert not kept & {"units_produced", "running_minutes"}  # nothing the plant does not map
    assert metrics["calibrated_cv_rmse_hourly"] <= 0.30 and metrics["calibrated_abs_nmbe_hourly"] <= 0.10
    assert metrics["calibrated_meets_ashrae_g14"] == 1.0
    assert metrics["calibrated_cv_rmse_hourly"] < metrics["naive_cv_rmse_hourly"]  # beats the hour-of-week mean
    card = champion.description
    assert "output | | not available: no production counter in the tag map" in card
    # every simulated day reached the energy baseline's table (the holiday included)
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        days = con.execute("select count(distinct production_date) from marts.fct_line_energy_hourly where plant_id = ?",
                           [PLANT]).fetchone()[0]
        kpis = con.execute("select production_date, kpi, value from marts.kpi_daily where plant_id = ?", [PLANT]).fetchall()
        marts_gates = con.execute("""select count(*), count(*) filter (where passed)
            from staging.stg_quality__gate_results where plant_id = ? and layer = 'marts'""", [PLANT]).fetchone()
    assert days == DAYS
    # alone in its fleet and with no counter, state or MES: every gate passes (the marts gate does not ask for
    # kwh_per_unit), output and time KPIs are absent (never 0), and each day's energy is what the export holds
    assert marts_gates == (DAYS, DAYS)
    assert {kpi for _, kpi, _ in kpis} == {"energy_kwh"}
    energy = {day: value for day, _, value in kpis}
    assert energy.keys() == written.keys()
    worst = max(abs(energy[day] / written[day] - 1) for day in written)
    print(f"daily energy against the export: worst relative error {worst:.2e}")
    assert worst < 1e-9
    # and the analysts' file was published with every day
    with duckdb.connect(str(home / "analyst.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.kpi_daily where plant_id = ?", [PLANT]).fetchone()[0] == DAYS
