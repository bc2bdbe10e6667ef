"""The whole nightly graph on 3 simulated plants, compared with the simulator's ground truth."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.e2e

ENERGY_EDGE_TOLERANCE = 0.002  # the window's last day lacks its final interval (measured <= 0.084 %)


def warehouse(e2e_run):
    return duckdb.connect(str(e2e_run["settings"].duckdb_path), read_only=True)


def test_every_run_succeeds_and_clean_demo_data_passes_its_gates(e2e_run):
    report = e2e_run["report"]
    assert report.ingest_failures == {}
    assert report.training_failures == {}
    assert report.gate_failures == []


def test_daily_energy_and_intensity_match_truth(e2e_run):
    with warehouse(e2e_run) as con:
        kpis = con.execute(
            """
            pivot (select plant_id, production_date, kpi, value from marts.kpi_daily
                   where kpi in ('energy_kwh', 'units_produced', 'kwh_per_unit'))
            on kpi using first(value)
            """
        ).df()
    kpis["production_date"] = pd.to_datetime(kpis["production_date"])
    truth = e2e_run["truth_daily"]
    merged = truth.merge(kpis, on=["plant_id", "production_date"], suffixes=("_truth", ""), how="left")
    assert len(merged) == 3 * (e2e_run["last_day"] - e2e_run["first_day"]).days + 3
    assert merged["energy_kwh"].notna().all(), merged[merged["energy_kwh"].isna()]
    assert merged[["units_produced", "kwh_per_unit", "energy_kwh_truth", "units_produced_truth"]].notna().all().all()
    # Every day but the window's last is closed by the next day's midnight reading: exact to the export's
    # resolution (1e-4 kWh a reading, so 2e-4 a difference; units are integers). The last day has no reading
    # after it, so its final interval is missing (measured 0.03-0.08 %).
    inner = merged["production_date"] < pd.Timestamp(e2e_run["last_day"])
    energy_error = (merged["energy_kwh"] - merged["energy_kwh_truth"]).abs()
    units_error = (merged["units_produced"] - merged["units_produced_truth"]).abs()
    intensity_error = (merged["kwh_per_unit"] / merged["kwh_per_unit_truth"] - 1).abs()
    edge_error = (merged["energy_kwh"] / merged["energy_kwh_truth"] - 1).abs()[~inner]
    print(f"before the last day: energy max abs error {energy_error[inner].max():.2e} kWh, units {units_error[inner].max()}, "
          f"kWh/unit relative {intensity_error[inner].max():.2e}; last day: energy relative {edge_error.max():.2e}")
    assert energy_error[inner].max() <= 2.5e-4, merged[inner & (energy_error > 2.5e-4)]
    assert units_error[inner].max() == 0, merged[inner & (units_error > 0)]
    assert intensity_error[inner].max() < 1e-6
    assert edge_error.max() < ENERGY_EDGE_TOLERANCE
    assert (merged["units_produced"] <= merged["units_produced_truth"])[~inner].all()


def test_nothing_lost_in_ingest(e2e_run):
    lake = e2e_run["settings"].lake_dir
    recon = pq.read_table(lake / "reconciliation").to_pandas()
    assert len(recon) > 0
    assert (recon["raw_records"] == recon["accepted_records"] + recon["quarantined_records"]).all()


def test_each_plant_has_a_champion_with_lineage_tags(e2e_run):
    from mlflow import MlflowClient

    uri = e2e_run["settings"].mlflow_tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    for plant_id in ("plant_a", "plant_b", "plant_c"):
        name = f"energy_baseline.{plant_id}"
        champion = client.get_model_version_by_alias(name, "champion")
        assert champion.tags["template"] == "energy_baseline"
        assert champion.tags["plant_id"] == plant_id
        assert champion.tags["template_version"]
        assert champion.tags["training_window"] == "2026-09-07..2026-09-14"
        assert float(champion.tags["metric.calibrated_cv_rmse_hourly"]) <= 0.30
        assert "ASHRAE" in champion.description


def test_energy_waste_raises_alerts_and_clean_days_do_not(e2e_run):
    # plain waste (plant_b) and waste on a low-output day (plant_a), whose raw energy is below a normal day's
    waste = [f for f in e2e_run["faults"] if f["type"] in ("energy_waste", "low_output_waste")]
    assert {f["type"] for f in waste} == {"energy_waste", "low_output_waste"}, "the simulator injected no energy waste"
    waste_days = set()
    for fault in waste:
        start, end = pd.Timestamp(fault["start_date"]).date(), pd.Timestamp(fault["end_date"]).date()
        waste_days |= {(fault["plant_id"], start + timedelta(days=i)) for i in range((end - start).days + 1)}
    with warehouse(e2e_run) as con:
        alerts = con.execute(
            "select plant_id, production_date, kind, owner_role, recommended_action from actions.alerts "
            "where kind = 'energy_intensity'"
        ).df()
        scored = con.execute("select count(*) from actions.energy_performance").fetchone()[0]
    assert scored == 3 * ((e2e_run["last_day"] - e2e_run["first_day"]).days + 1)
    alerted = {(r.plant_id, pd.Timestamp(r.production_date).date()) for r in alerts.itertuples()}
    assert waste_days <= alerted, f"missed waste days {sorted(waste_days - alerted)}"
    assert alerted <= waste_days, f"false alerts on clean days {sorted(alerted - waste_days)}"
    assert set(alerts["owner_role"]) == {"energy"}
    assert alerts["recommended_action"].str.len().min() > 20


@pytest.mark.mutates_session  # re-ingests a partition of the shared run
def test_rerunning_a_partition_changes_nothing(e2e_run):
    from plant_assets.definitions import defs
    from plant_assets.defs.partitions import plant_day_key

    lake = e2e_run["settings"].lake_dir
    day = e2e_run["first_day"] + timedelta(days=1)
    readings = lake / "raw" / "plant_id=plant_a" / f"production_date={day}" / "readings.parquet"
    before = pq.read_table(readings)
    result = defs.resolve_job_def("ingest_plant_day").execute_in_process(
        instance=e2e_run["instance"], partition_key=str(plant_day_key("plant_a", day))
    )
    assert result.success
    assert pq.read_table(readings).equals(before)


def test_retraining_on_the_same_data_registers_no_new_version(e2e_run):
    from mlflow import MlflowClient

    from plant_assets.definitions import defs

    uri = e2e_run["settings"].mlflow_tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    before = len(client.search_model_versions("name = 'energy_baseline.plant_b'"))
    result = defs.resolve_job_def("train_models").execute_in_process(
        instance=e2e_run["instance"], partition_key="plant_b"
    )
    assert result.success
    assert len(client.search_model_versions("name = 'energy_baseline.plant_b'")) == before


def test_clean_demo_data_passes_every_gate_layer(e2e_run):
    """No false positives: every raw, canonical and marts gate of the clean demo window passed."""
    gates = pq.read_table(e2e_run["settings"].lake_dir / "gates").to_pandas()
    n_plant_days = 3 * ((e2e_run["last_day"] - e2e_run["first_day"]).days + 1)
    for layer in ("raw", "canonical", "marts"):
        rows = gates[gates["layer"] == layer]
        assert len(rows) == n_plant_days, layer
        assert rows["passed"].all(), rows[~rows["passed"]][["plant_id", "production_date", "failed_expectations"]]
