"""A corrected re-delivery, end to end (issue 21, finding 6): plant_b's energy waste days turn out to have been
a metering error, and the plant re-delivers its historian exports from the first waste day on, written without
the waste (the simulator's same plant and seed with no fault: its truth is the expected value, never the
pipeline's). Re-ingesting those plant-days and standardizing them again must change the lake, the marts, the
energy scores and the alerts accordingly: every waste alert of those days is withdrawn, with its reason, and the
withdrawal goes out through the outbox. Mutates the shared e2e state: runs after every test that reads it."""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = pytest.mark.mutates_session

TOLERANCE = 1e-6  # relative: the meters are written to 4 decimals
EDGE_TOLERANCE = 0.005  # the window's last day lacks its last minute (no next day's 00:00 reading)


def test_a_corrected_redelivery_changes_lake_marts_scores_and_withdraws_its_alerts(e2e_run, tmp_path):
    from plant_assets.core.lake import accepted_path
    from plant_assets.core.plant_config import load_plant
    from plant_assets.definitions import defs
    from plant_assets.defs.partitions import plant_day_key
    from plant_assets.defs.run_window import range_tags
    from plant_assets.simulator import simulate_plants

    settings, instance = e2e_run["settings"], e2e_run["instance"]
    waste = next(f for f in e2e_run["faults"] if f["type"] == "energy_waste")
    plant_id, first, last = waste["plant_id"], pd.Timestamp(waste["start_date"]).date(), e2e_run["last_day"]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        alerted = con.execute("select alert_id, production_date from actions.alerts where plant_id = ? and "
                              "kind = 'energy_intensity' and status = 'open'", [plant_id]).fetchall()
    waste_alerts = {alert_id for alert_id, day in alerted if day in days}
    assert waste_alerts, "the waste raised no alert to withdraw"
    readings_before = {day: pq.read_table(accepted_path(settings.lake_dir, "historian", plant_id, day)) for day in days}

    # the corrected exports: the same plant and seed, no fault
    corrected = tmp_path / "plants" / plant_id
    shutil.copytree(settings.plants_dir / plant_id, corrected)
    config = yaml.safe_load((corrected / "plant.yaml").read_text())
    config["simulation"]["faults"] = []
    (corrected / "plant.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    plant = load_plant(corrected)
    simulate_plants({plant_id: plant}, e2e_run["first_day"], (last - e2e_run["first_day"]).days + 1,
                    tmp_path / "landing", tmp_path / "truth")
    truth = pd.read_csv(tmp_path / "truth" / "daily.csv", parse_dates=["production_date"])
    truth = truth.set_index(truth["production_date"].dt.date)
    for day in days:
        name = plant.historian.file_pattern.format(date=day)
        shutil.copyfile(plant.landing_path(tmp_path / "landing") / name, plant.landing_path(settings.landing_dir) / name)
        result = defs.resolve_job_def("ingest_plant_day").execute_in_process(
            instance=instance, partition_key=str(plant_day_key(plant_id, day)))
        assert result.success
    standardize = defs.resolve_job_def("standardize_and_act")
    assert standardize.execute_in_process(instance=instance, tags=range_tags(first, last)).success

    # the lake: the waste days' readings changed, the later days' too (the meter totals no longer carry the waste)
    for day in days:
        after = pq.read_table(accepted_path(settings.lake_dir, "historian", plant_id, day))
        assert after.num_rows == readings_before[day].num_rows and not after.equals(readings_before[day]), day
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        energy = dict(con.execute("select production_date, value from marts.kpi_daily where plant_id = ? "
                                  "and kpi = 'energy_kwh' and production_date >= ?", [plant_id, first]).fetchall())
        scores = con.execute("select production_date, deviation, tolerance from actions.energy_performance "
                             "where plant_id = ? and production_date >= ?", [plant_id, first]).df()
        alerts = con.execute("select alert_id, production_date, status, resolved_by, resolution_reason "
                             "from actions.alerts where plant_id = ? and kind = 'energy_intensity'", [plant_id]).df()
        events = {row[0] for row in con.execute(
            "select alert_id from actions.alert_outbox where event = 'resolved'").fetchall()}

    # the marts: each day's energy is the corrected truth, no longer the wasted one
    delivered = e2e_run["truth_daily"].query("plant_id == @plant_id").set_index("production_date")["energy_kwh"]
    assert delivered[pd.Timestamp(first)] > truth.loc[first, "energy_kwh"] * 1.05  # the first delivery did waste
    for day in days:
        expected = truth.loc[day, "energy_kwh"]
        print(day, "energy", energy[day], "corrected truth", expected)
        assert abs(energy[day] / expected - 1) < (EDGE_TOLERANCE if day == last else TOLERANCE), (day, energy[day], expected)
    # the scores: no day of the corrected range deviates beyond the tolerance any more
    print(scores.to_string())
    assert len(scores) == len(days) and (scores["deviation"] < scores["tolerance"]).all(), scores
    # the alerts: every waste alert is withdrawn with its reason, and the withdrawal is delivered; none is new
    withdrawn = alerts[alerts["alert_id"].isin(waste_alerts)]
    assert (withdrawn["status"] == "resolved").all() and (withdrawn["resolved_by"] == "auto").all(), withdrawn
    assert withdrawn["resolution_reason"].str.contains("evaluated again").all(), withdrawn["resolution_reason"].tolist()
    assert waste_alerts <= events
    open_in_range = alerts[(alerts["status"] == "open") & alerts["production_date"].isin(days)]
    assert open_in_range.empty, open_in_range
