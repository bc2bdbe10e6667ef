"""Nightly drift check of a plant's champion: feature PSI against its training window and performance
decay on the most recent days, against the template's retraining rules."""

from __future__ import annotations

import hashlib

import pandas as pd

from ml import drift, governance, model_registry
from ml.templates import energy_baseline as template

INCIDENTS_TABLE = "actions.model_incidents"
INCIDENTS_DDL = f"""
create table if not exists {INCIDENTS_TABLE} (
    incident_id varchar primary key,
    plant_id varchar not null,
    model_name varchar not null,
    model_version varchar,
    drift_window varchar,
    crossed_rules varchar not null,
    status varchar not null,
    opened_at timestamp not null
)"""


def energy_drift(client, plant, plant_hours: pd.DataFrame) -> dict:
    """PSI of each template feature (last `drift_window_days` after the training window vs the window)
    and the champion's hourly CV(RMSE) / NMBE on those days; `crossed` lists the retraining rules hit."""
    name = model_registry.registered_model_name(template.TEMPLATE.name, plant.plant_id)
    report = {"model_name": name, "model_version": None, "psi": {}, "performance": {}, "crossed": [], "window": "", "incident_id": ""}
    version = governance.alias_version(client, name, governance.CHAMPION)
    if version is None:
        report["crossed"] = []
        return report
    mv = client.get_model_version(name, version)
    start, end = (pd.Timestamp(d) for d in mv.tags.get("training_window", "..").split(".."))
    reference = plant_hours[(plant_hours["production_date"] >= start) & (plant_hours["production_date"] <= end)]
    recent = plant_hours[plant_hours["production_date"] > end]
    recent = recent[recent["production_date"] > recent["production_date"].max() - pd.Timedelta(days=plant.models.drift_window_days)] if len(recent) else recent
    report["model_version"] = version
    if recent.empty or reference.empty:
        return report
    report["window"] = f"{recent['production_date'].min().date()}..{recent['production_date'].max().date()}"
    features = [f for f in template.TEMPLATE.features if f != "interval_minutes"]  # metering length is not a driver
    report["psi"] = drift.feature_psi(reference, recent, features)
    import mlflow.lightgbm

    champion = mlflow.lightgbm.load_model(f"models:/{name}@{governance.CHAMPION}")
    metrics = template.evaluate(champion, recent)
    report["performance"] = {"cv_rmse_hourly": metrics["cv_rmse_hourly"], "abs_nmbe_hourly": metrics["abs_nmbe_hourly"]}
    limits = {"cv_rmse_hourly": template.TEMPLATE.validation["cv_rmse_hourly_max"], "abs_nmbe_hourly": template.TEMPLATE.validation["abs_nmbe_hourly_max"]}
    report["crossed"] = drift.check(report["psi"], report["performance"], limits)
    report["incident_id"] = hashlib.sha256(f"{name}|{version}|{report['window']}".encode()).hexdigest()[:20]
    return report
