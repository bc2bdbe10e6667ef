"""Measured savings (IPMVP avoided energy with a 95 % band, only from a validated champion), the rollout
scorecard's figures and the one-page report, on small synthetic warehouses."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from plant_assets.operations.rollout_scorecard import (
    daily_savings,
    first_measurable_improvement,
    monthly_savings,
)

START, BASELINE_END = date(2026, 9, 1), date(2026, 9, 20)


def _performance(improvement: float = 0.08, noise: float = 0.02, days: int = 50, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = [START + timedelta(days=i) for i in range(days)]
    expected = 10_000 + 1_000 * rng.standard_normal(days)
    actual = expected * (1 + noise * rng.standard_normal(days))
    after = np.array([d > BASELINE_END + timedelta(days=5) for d in dates])
    actual = np.where(after, actual * (1 - improvement), actual)
    injected = float((expected * (1 + 0) - expected * (1 - improvement))[after].sum())
    frame = pd.DataFrame({"plant_id": "plant_x", "production_date": dates, "expected_kwh": expected, "actual_kwh": actual,
                          "model_name": "energy_baseline.plant_x", "model_version": "2"})
    return frame, injected


def test_savings_match_an_injected_improvement_within_ten_percent():
    perf, injected = _performance()
    daily = daily_savings(perf, BASELINE_END, validated=True)
    assert daily["production_date"].min() == BASELINE_END + timedelta(days=1)
    measured = daily["cumulative_savings_kwh"].iloc[-1]
    assert abs(measured - injected) / injected < 0.10, (measured, injected)
    band = daily["uncertainty_kwh"].iloc[-1]
    assert 0 < band < measured, "a real improvement is measurable against its band"
    improvement_day = first_measurable_improvement(daily)
    assert BASELINE_END + timedelta(days=5) < improvement_day < BASELINE_END + timedelta(days=15)
    months = monthly_savings(daily)
    assert list(months["month"]) == ["2026-09", "2026-10"]
    assert abs(months["savings_kwh"].sum() - measured) < 1e-6
    assert (months["uncertainty_kwh"] > 0).all()


def test_no_savings_from_an_unvalidated_champion_and_none_measurable_without_improvement():
    perf, _ = _performance()
    assert daily_savings(perf, BASELINE_END, validated=False).empty
    flat, _ = _performance(improvement=0.0)
    daily = daily_savings(flat, BASELINE_END, validated=True)
    assert (daily["cumulative_savings_kwh"].abs() < 2 * daily["uncertainty_kwh"]).all()


def test_scorecard_and_report_from_a_small_warehouse(tmp_path):
    from plant_assets.cli.report import render_report
    from plant_assets.core.plant_config import load_plants
    from plant_assets.operations.rollout_scorecard import write_savings_and_scorecard
    from tests.conftest import REPO_ROOT

    plants = load_plants(REPO_ROOT / "plants")
    plant_id = sorted(plants)[0]
    perf, _ = _performance()
    perf["plant_id"] = plant_id
    perf["actual_kwh_per_unit"] = perf["actual_kwh"] / 1000
    perf["expected_kwh_per_unit"] = perf["expected_kwh"] / 1000
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema marts; create schema actions")
    con.register("p", perf)
    con.execute("create table actions.energy_performance as select * from p")
    con.execute(f"""create table marts.fct_ingest_reconciliation as select '{plant_id}' as plant_id,
                    date '2026-09-01' + cast(i as integer) as production_date, 1000 as raw_records, case when i = 0 then 50 else 0 end
                    as quarantined_records from range(3) t(i)""")
    con.execute(f"create table marts.kpi_daily as select '{plant_id}' as plant_id, date '2026-09-02' as production_date")
    con.execute(f"""create table actions.alerts as select * from (values
        ('{plant_id}', 'acknowledged', timestamp '2026-09-25 06:00', timestamp '2026-09-25 08:00'),
        ('{plant_id}', 'resolved', timestamp '2026-09-26 06:00', timestamp '2026-09-26 10:00'),
        ('{plant_id}', 'open', timestamp '2026-09-27 06:00', null))
        t(plant_id, status, raised_at, acknowledged_at)""")
    baseline_end = plants[plant_id].energy_baseline.end
    written = write_savings_and_scorecard(con, tmp_path / "lake", plants, client=None)
    assert written["scorecard_plants"] == len(plants)
    card = con.execute(f"select * from actions.rollout_scorecard where plant_id = '{plant_id}'").df().iloc[0]
    assert card["first_export_date"] == pd.Timestamp("2026-09-01") and card["days_first_export_to_first_kpi"] == 1
    assert abs(card["quarantined_share"] - 50 / 3000) < 1e-9
    assert abs(card["alert_ack_rate"] - 2 / 3) < 1e-9 and card["median_hours_to_ack"] == 3.0
    assert 0 < card["tag_map_coverage"] <= 1
    # Savings are counted after the plant's baseline period: the sum of expected - actual over those days.
    reporting = perf[pd.to_datetime(perf["production_date"]) > pd.Timestamp(baseline_end)]
    assert len(reporting) > 0, "the fixture must reach past the plant's baseline period"
    expected_savings = float((reporting["expected_kwh"] - reporting["actual_kwh"]).sum())
    assert pd.notna(card["cumulative_savings_kwh"]) and card["cumulative_savings_kwh"] == pytest.approx(expected_savings, rel=1e-9)
    assert pd.notna(card["savings_uncertainty_kwh"]) and card["savings_uncertainty_kwh"] > 0
    page = render_report(con, plant_id, tmp_path / "reports")
    text = page.read_text()
    assert "data:image/png;base64" in text and "Alerts acknowledged" in text and "67%" in text
