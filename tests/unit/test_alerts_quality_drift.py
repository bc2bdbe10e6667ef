"""Quality-drift alerts: a line whose scrap share runs above what the quality model predicts beyond the plant's
tolerance raises one de-duplicated alert (owner, ISA-95 line path, action, drivers, evidence, model version);
healthy lines raise none; the alert resolves itself once the scrap share is back within tolerance."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

D0 = date(2026, 9, 7)
DAYS = 10
DRIFT_DAYS = (4, 5)  # line L2's scrap triples on these days


def _runs(drift_factor: float = 3.0) -> pd.DataFrame:
    """Four runs per line and day on three lines; the heavy product scraps more (what the model learns)."""
    rng = np.random.default_rng(7)
    rows = []
    for day in range(DAYS):
        for line in ("L1", "L2", "L3"):
            for k in range(4):
                heavy = (k + day) % 3 == 0
                start = pd.Timestamp(D0 + timedelta(days=day)) + pd.Timedelta(hours=1 + 5 * k)
                minutes = float(rng.uniform(180, 280))
                units = int(minutes * (70 if heavy else 120))
                share = (0.03 if heavy else 0.012) * float(rng.lognormal(0, 0.1))
                if line == "L2" and day in DRIFT_DAYS:
                    share *= drift_factor
                scrap = int(round(units * share))
                rows.append({
                    "plant_id": "plant_a", "order_id": f"{line}-{day}-{k}", "line_id": line,
                    "product_code": "PET-150" if heavy else "PET-050", "production_date": D0 + timedelta(days=day),
                    "start_utc": start, "end_utc": start + pd.Timedelta(minutes=minutes), "good_qty": units - scrap,
                    "scrap_qty": scrap, "units_produced": units, "energy_kwh": units * (0.095 if heavy else 0.042),
                    "kwh_per_unit": 0.095 if heavy else 0.042, "product_family": "heavy" if heavy else "standard",
                })
    from ml.templates import quality

    return quality.features(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def setting():
    from ml.templates import quality
    from plant_assets.core.plant_config import load_plants
    from plant_assets.core.settings import get_settings

    plants = {"plant_a": load_plants(get_settings().plants_dir)["plant_a"]}
    healthy = _runs(drift_factor=1.0)
    model = quality.calibrate(quality.fit_template(healthy), healthy)
    return plants, {"plant_a": (model, "3")}


def test_the_drifting_line_raises_one_alert_and_healthy_lines_none(setting):
    from plant_assets.operations.alerts.rules.quality_drift import (
        build_quality_alerts,
        quality_clear_days,
        quality_line_days,
        score_quality,
    )
    from plant_assets.operations.alerts.store import (
        auto_resolve,
        list_alerts,
        upsert_alerts,
    )

    plants, models = setting
    plant = plants["plant_a"]
    runs = score_quality(_runs(), models)
    line_days = quality_line_days(runs, plants)
    flagged = line_days[line_days["drifting"]]
    assert set(flagged["line_id"]) == {"L2"}, line_days[["line_id", "production_date", "excess_ratio"]]
    first = D0 + timedelta(days=DRIFT_DAYS[0])
    assert min(flagged["production_date"]) == first

    con = duckdb.connect(":memory:")
    try:
        resolved = []
        for night in range(DAYS):  # night by night, as the nightly schedule runs
            day = D0 + timedelta(days=night)
            upsert_alerts(con, build_quality_alerts(line_days, runs, models, plants, day, day))
            resolved.append(auto_resolve(con, quality_clear_days(line_days, plants, day, day), plants))
        alerts = list_alerts(con)
    finally:
        con.close()
    assert len(alerts) == 1, alerts[["asset_path", "production_date", "severity"]]
    alert = alerts.iloc[0]
    assert alert["kind"] == "quality_drift" and alert["asset_path"] == plant.isa95_path("L2")
    assert alert["owner_role"] == "quality" and alert["owner"] == plant.owner_for("quality")
    assert alert["model_name"] == "quality.plant_a" and alert["model_version"] == "3"
    assert "wear parts" in alert["recommended_action"]
    assert "expected by the quality model" in alert["explanation"] and "driven by" in alert["explanation"]
    import json

    evidence = json.loads(alert["evidence"])
    assert evidence["observed_scrap_share"] > (1 + plant.alerting.scrap_tolerance) * evidence["predicted_scrap_share"]
    assert evidence["top_drivers"] and evidence["window_days"] == plant.alerting.scrap_window_days
    # The window keeps the drift visible one day after it ended; then auto_resolve_days clear days resolve it.
    assert alert["status"] == "resolved" and alert["resolved_by"] == "auto"
    assert "scrap share back within tolerance" in alert["resolution_reason"]
    assert sum(resolved) == 1


def test_the_tolerance_is_configurable(setting):
    from plant_assets.operations.alerts.rules.quality_drift import quality_line_days, score_quality

    plants, models = setting
    lenient = {"plant_a": plants["plant_a"].model_copy(
        update={"alerting": plants["plant_a"].alerting.model_copy(update={"scrap_tolerance": 5.0})})}
    line_days = quality_line_days(score_quality(_runs(), models), lenient)
    assert not line_days["drifting"].any()
    assert quality_line_days(score_quality(_runs(), {}), plants).empty, "no champion, no quality alert"
