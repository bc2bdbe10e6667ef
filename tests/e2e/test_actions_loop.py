"""Closing the loop on the demo plants: plant_c's degrading motor raises a yellow then a red alert before its
simulated failure, delivered to a local webhook exactly once across an outage; plant_b's energy waste raises
energy alerts; plant_a's labeler scrap drift raises one quality alert that resolves itself once the scrap is
back to normal; healthy motors and lines raise none. Writes alerts into the shared warehouse: runs last."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.mutates_session
# The webhook is down on the first night (the energy alerts of the pipeline run are queued), on the night the
# motor turns yellow and the next one, and on the night it turns red.
OUTAGE_NIGHTS = (0, 5, 6, 9)


def raise_operational_alerts(con, plants, first_day, last_day, **inputs) -> dict:
    """What the operational_alerts asset does on a day range, with the given models and gate results."""
    from plant_assets.operations.alerts.evaluation import raise_and_resolve
    from plant_assets.operations.alerts.rules import rules_for
    from plant_assets.operations.alerts.rules.base import OPERATIONAL, RuleInputs

    counts, _ = raise_and_resolve(RuleInputs(con, plants, first_day, last_day, **inputs), rules_for(OPERATIONAL))
    return counts


@pytest.fixture(scope="module")
def nightly(e2e_run):
    """Replay the window night by night (as the nightly schedule would), delivering after each night; the
    webhook is down on OUTAGE_NIGHTS."""
    from mlflow import MlflowClient

    from plant_assets.operations.alerts.outbox import deliver_outbox
    from plant_assets.operations.alerts.rules.quality_drift import (
        load_quality_champions,
    )

    plants = e2e_run["plants"]
    uri = e2e_run["settings"].mlflow_tracking_uri
    champions = load_quality_champions(MlflowClient(tracking_uri=uri, registry_uri=uri), plants)
    fault = next(f for f in e2e_run["faults"] if f["type"] == "motor_degradation")
    failure_day = pd.Timestamp(fault["failure_date"] if "failure_date" in fault else fault["end_date"]).date()
    nights = []
    con = duckdb.connect(str(e2e_run["settings"].duckdb_path))
    try:
        with WebhookReceiver() as rx:
            day = e2e_run["first_day"]
            while day <= e2e_run["last_day"]:
                rx.mode = "503" if len(nights) in OUTAGE_NIGHTS else "up"
                counts = raise_operational_alerts(con, plants, day, day, motor_versions={p: "1" for p in plants},
                                                  quality_models=champions)
                sent = deliver_outbox(con, lambda plant_id: rx.url, max_attempts=2, backoff_seconds=0)
                nights.append({"day": day, **counts, **{f"sent_{k}": v for k, v in sent.items()}})
                day += timedelta(days=1)
            # Run the whole window again (a backfill): nothing new is raised or delivered.
            rerun = raise_operational_alerts(con, plants, e2e_run["first_day"], e2e_run["last_day"],
                                             quality_models=champions)
            again = deliver_outbox(con, lambda plant_id: rx.url, backoff_seconds=0)
        alerts = con.execute("select * from actions.alerts").df()
        outbox = con.execute("select * from actions.alert_outbox").df()
    finally:
        con.close()
    return {"rx": rx, "nights": pd.DataFrame(nights), "alerts": alerts, "outbox": outbox, "fault": fault,
            "failure_day": failure_day, "rerun": rerun, "again": again, "champions": champions}


def test_degrading_motor_goes_yellow_then_red_before_failure(nightly):
    fault, alerts = nightly["fault"], nightly["alerts"]
    motor = alerts[alerts["kind"] == "motor_health"]
    print(nightly["nights"].to_string())
    assert len(motor) == 1, "a persisting condition is one alert, updated each night"
    alert = motor.iloc[0]
    assert alert["plant_id"] == fault["plant_id"] and alert["asset_path"].endswith(fault["motor_id"])
    assert alert["severity"] == "red" and alert["revision"] == 2
    assert alert["owner_role"] == "maintenance" and len(alert["recommended_action"]) > 20
    evidence = json.loads(alert["evidence"])
    assert {"score_sigma", "driver", "iso20816_zone"} <= set(evidence) and alert["model_version"] == "1"
    assert "normal level" in alert["explanation"]
    payloads = [p for p in nightly["rx"].accepted.values() if p["kind"] == "motor_health"]
    raised = next(p for p in payloads if p["event"] == "raised")
    escalated = next(p for p in payloads if p["event"] == "escalated")
    yellow_day = pd.Timestamp(raised["first_seen_date"]).date()
    red_day = pd.Timestamp(escalated["last_seen_date"]).date()
    assert raised["severity"] == "yellow" and escalated["severity"] == "red"
    assert yellow_day < red_day < nightly["failure_day"], (yellow_day, red_day, nightly["failure_day"])


def test_each_alert_revision_reaches_the_webhook_exactly_once_across_the_outage(nightly):
    rx, nights, outbox = nightly["rx"], nightly["nights"], nightly["outbox"]
    down = nights.iloc[list(OUTAGE_NIGHTS)]
    assert (down["sent_delivered"] == 0).all() and (down.loc[down[["new", "escalated"]].sum(axis=1) > 0, "sent_failed"] > 0).all()
    assert down["sent_failed"].sum() >= 3, "the outage hit the energy alerts, the yellow and the red alert"
    assert (outbox["status"] == "delivered").all(), outbox[["idempotency_key", "status", "last_error"]]
    assert sorted(rx.accepted) == sorted(outbox["idempotency_key"]) and rx.duplicates == 0
    # The re-run re-sees each still-open operational alert once (on its last seen day) and skips older days.
    from plant_assets.operations.alerts.rules import rules_for
    from plant_assets.operations.alerts.rules.base import OPERATIONAL

    operational = {rule.name for rule in rules_for(OPERATIONAL)}
    still_open = nightly["alerts"][nightly["alerts"]["kind"].isin(operational)
                                   & nightly["alerts"]["status"].isin(["open", "acknowledged"])]
    assert len(still_open) >= 1, "the red motor alert stays open to the end of the window"
    assert nightly["rerun"] == {"new": 0, "escalated": 0, "updated": len(still_open), "resolved": 0}
    assert nightly["again"]["delivered"] == 0


def test_energy_waste_alerts_are_delivered_and_healthy_assets_raise_none(nightly, e2e_run):
    alerts, rx = nightly["alerts"], nightly["rx"]
    energy = alerts[alerts["kind"] == "energy_intensity"]
    wasting = {f["plant_id"] for f in e2e_run["faults"] if f["type"] in ("energy_waste", "low_output_waste")}
    assert set(energy["plant_id"]) == wasting == {"plant_a", "plant_b"}
    assert {p["alert_id"] for p in rx.accepted.values() if p["kind"] == "energy_intensity"} == set(energy["alert_id"])
    fault = nightly["fault"]
    motor = alerts[alerts["kind"] == "motor_health"]
    assert set(motor["asset_path"].str.rsplit("/", n=1).str[-1]) == {fault["motor_id"]}
    assert set(alerts["kind"]) <= {"energy_intensity", "motor_health", "quality_drift", "data_quality"}
    # The demo window's exports are clean (no gate fails), so it raises no data-quality alert at all; the
    # data-quality rule's owner and lifecycle are checked where gates fail (tests/unit/test_alerts_rules.py).
    assert alerts["kind"].ne("data_quality").all(), alerts[alerts["kind"] == "data_quality"]


def test_acknowledging_survives_a_rerun_and_the_scorecard_matches_the_onboarding(nightly, e2e_run):
    """The scorecard's figures for the demo plants against what the test knows: every plant's first export
    is the first e2e day with KPIs the same day, tag maps and gates as configured, plant_b's waste is negative
    savings, and the motor alert acknowledged 2 h after it was raised."""
    from mlflow import MlflowClient

    from plant_assets.operations.alerts.store import acknowledge, list_alerts
    from plant_assets.operations.rollout_scorecard import write_savings_and_scorecard
    from plant_assets.quality.marts_metrics import ingest_gate_status

    plants, settings = e2e_run["plants"], e2e_run["settings"]
    uri = settings.mlflow_tracking_uri  # not a global URI another test left behind
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    con = duckdb.connect(str(settings.duckdb_path))
    try:
        motor = list_alerts(con, nightly["fault"]["plant_id"]).query("kind == 'motor_health'").iloc[0]
        acknowledge(con, motor["alert_id"], "maintenance lead", at=motor["raised_at"] + pd.Timedelta(hours=2))
        raise_operational_alerts(con, plants, e2e_run["first_day"], e2e_run["last_day"])
        assert list_alerts(con, status="acknowledged")["alert_id"].tolist() == [motor["alert_id"]]
        write_savings_and_scorecard(con, settings.lake_dir, plants, client)
        card = con.execute("select * from actions.rollout_scorecard order by plant_id").df().set_index("plant_id")
        monthly = con.execute("select * from actions.energy_savings_monthly").df()
        from plant_assets.cli.report import render_report

        page = render_report(con, "plant_c", settings.reports_dir, plants["plant_c"].name)
    finally:
        con.close()
    gates = ingest_gate_status(settings.lake_dir, e2e_run["first_day"], e2e_run["last_day"])
    gates = gates[gates["layer"] != "freshness"]
    assert sorted(card.index) == sorted(plants)
    for plant_id, plant in plants.items():
        row = card.loc[plant_id]
        assert pd.Timestamp(row["onboarding_date"]).date() == e2e_run["first_day"]
        assert row["days_first_export_to_first_kpi"] == 0
        # the demo plants map all five core signals (energy, count, motor current, vibration, bearing temperature)
        assert row["tag_map_coverage"] == 1.0
        assert 0 < row["tag_map_coverage"] <= 1 and 0 <= row["quarantined_share"] < 0.05
        mine = gates[gates["plant_id"] == plant_id]
        assert row["gate_pass_rate"] == pytest.approx(mine["passed"].astype(bool).mean())
        champion = client.get_model_version_by_alias(f"energy_baseline.{plant_id}", "champion")
        assert row["model_validation"] == champion.tags["validation"] == "passed"
        assert row["model_adjustment_cv_rmse_points"] == pytest.approx(float(champion.tags["metric.adjustment_cv_rmse_points"]))
    waste = card.loc["plant_b"]
    assert waste["cumulative_savings_kwh"] < -waste["savings_uncertainty_kwh"], "plant_b's energy waste: negative savings"
    # plant_a's reporting days are a low-output waste day and then its efficiency improvement: its cumulative
    # savings are the truth's net (energy avoided - energy wasted) within their band or 1 % of the days' energy
    # (the band comes from the baseline's fit; the starved day lies outside the baseline's conditions: measured
    # 1,880 kWh against a true 2,295 kWh, band 203 kWh, 0.5 % of the energy), and the waste day that comes first
    # keeps them from being a measurable improvement within the window; plant_c (no fault on energy) stays in
    # its band.
    truth = e2e_run["truth_daily"]
    reporting = truth[(truth["plant_id"] == "plant_a")
                      & (pd.to_datetime(truth["production_date"]).dt.date > plants["plant_a"].energy_baseline.end)]
    net = float((reporting["injected_savings_kwh"] - reporting["injected_waste_kwh"]).sum())
    a = card.loc["plant_a"]
    print(f"plant_a: cumulative savings {a['cumulative_savings_kwh']:.0f} kWh, truth {net:.0f} kWh, "
          f"band +-{a['savings_uncertainty_kwh']:.0f} kWh")
    assert reporting["injected_waste_kwh"].gt(0).any() and reporting["injected_savings_kwh"].gt(0).any()
    assert abs(a["cumulative_savings_kwh"] - net) <= max(a["savings_uncertainty_kwh"], 0.01 * reporting["energy_kwh"].sum())
    assert pd.isna(a["days_to_first_measurable_improvement"])
    assert pd.isna(card.loc["plant_c", "days_to_first_measurable_improvement"])
    assert abs(card.loc["plant_c", "cumulative_savings_kwh"]) < card.loc["plant_c", "savings_uncertainty_kwh"]
    assert set(monthly["plant_id"]) == set(plants) and (monthly["month"] == "2026-09").all()
    motor_plant = card.loc[nightly["fault"]["plant_id"]]
    n_alerts = int(motor_plant["alerts"])
    assert motor_plant["alert_ack_rate"] == pytest.approx(1 / n_alerts) and motor_plant["median_hours_to_ack"] == pytest.approx(2.0)
    assert "data:image/png;base64" in page.read_text()


def test_scrap_drift_raises_one_quality_alert_that_resolves_itself(nightly, e2e_run):
    """plant_a's labeler scraps 3x on days 4-6: one quality alert for that line (de-duplicated across the
    days), owned by quality, with the champion's version, drivers and evidence; healthy lines raise none; the
    alert resolves itself after auto_resolve_days clear days and the resolution reaches the webhook."""
    drift = next(f for f in e2e_run["faults"] if f["type"] == "scrap_drift")
    plant = e2e_run["plants"][drift["plant_id"]]
    alerts = nightly["alerts"]
    quality = alerts[alerts["kind"] == "quality_drift"]
    assert drift["plant_id"] in nightly["champions"], "the quality champion scores the runs"
    assert len(quality) == 1, quality[["asset_path", "first_seen_date", "last_seen_date", "severity"]]
    alert = quality.iloc[0]
    assert alert["asset_path"] == plant.isa95_path(*drift["lines"])
    first_seen, last_seen = (pd.Timestamp(alert[c]).date() for c in ("first_seen_date", "last_seen_date"))
    start, end = pd.Timestamp(drift["start_date"]).date(), pd.Timestamp(drift["end_date"]).date()
    # The trailing window can carry the drift one day past its end.
    assert start <= first_seen <= end and end <= last_seen <= end + timedelta(days=plant.alerting.scrap_window_days - 1)
    assert alert["owner_role"] == "quality" and alert["model_name"] == f"quality.{drift['plant_id']}"
    assert alert["model_version"] == nightly["champions"][drift["plant_id"]][1]
    evidence = json.loads(alert["evidence"])
    assert evidence["observed_scrap_share"] > evidence["predicted_scrap_share"] and evidence["top_drivers"]
    assert "expected by the quality model" in alert["explanation"] and len(alert["recommended_action"]) > 20
    # Automatic resolution once the scrap is back within tolerance.
    assert alert["status"] == "resolved" and alert["resolved_by"] == "auto", alert[["status", "resolution_reason"]]
    assert "scrap share back within tolerance" in alert["resolution_reason"]
    events = [p["event"] for p in nightly["rx"].accepted.values() if p["alert_id"] == alert["alert_id"]]
    assert events[0] == "raised" and events[-1] == "resolved", events
