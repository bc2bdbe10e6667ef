"""Drift: feature drift (population stability index against the training window) and performance decay,
checked against a template's retraining rules; the nightly check of a plant's champion, and the incident a
crossed rule opens in actions.model_incidents."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from ml import governance

PSI_LIMIT = 0.2  # the usual "significant shift" level

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


def psi(reference, current, bins: int = 10) -> float:
    """Population stability index with quantile bins of the reference (sum((c - r) * ln(c / r)))."""
    ref = np.asarray(reference, float)
    cur = np.asarray(current, float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:  # constant reference: compare "same value" vs "different"
        same_r, same_c = 1.0, float(np.mean(np.isclose(cur, ref[0])))
        r, c = np.array([same_r, 1 - same_r]), np.array([same_c, 1 - same_c])
    else:
        edges[0], edges[-1] = -np.inf, np.inf
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    r, c = np.clip(r, 1e-4, None), np.clip(c, 1e-4, None)
    return float(np.sum((c - r) * np.log(c / r)))


def feature_psi(reference: pd.DataFrame, current: pd.DataFrame, features: list[str]) -> dict[str, float]:
    return {f: psi(reference[f], current[f]) for f in features}


def check(
    feature_drift: dict[str, float], performance: dict[str, float], limits: dict[str, float], psi_limit: float = PSI_LIMIT
) -> list[str]:
    """Which retraining rules are crossed: features with PSI above the limit, metrics above their limit."""
    crossed = [f"feature drift: PSI({f}) = {v:.2f} > {psi_limit}" for f, v in feature_drift.items() if np.isfinite(v) and v > psi_limit]
    for metric, value in performance.items():
        limit = limits.get(metric)
        if limit is not None and np.isfinite(value) and abs(value) > limit:
            crossed.append(f"performance decay: {metric} = {value:.3f} > {limit}")
    return crossed


def champion_drift(
    client, name: str, plant_rows: pd.DataFrame, window_days: int, *, features: list[str], limits: dict[str, float],
    load_model: Callable, evaluate: Callable,
) -> dict:
    """The nightly check of `name`'s @champion on one plant's rows: PSI of each feature (the last `window_days`
    after the champion's training window vs the window) and the champion's metrics in `limits` on those days;
    `crossed` lists the retraining rules hit, `incident_id` names the incident they open."""
    report = {"model_name": name, "model_version": None, "psi": {}, "performance": {}, "crossed": [], "window": "", "incident_id": ""}
    version = governance.alias_version(client, name, governance.CHAMPION)
    if version is None:
        return report
    mv = client.get_model_version(name, version)
    start, end = (pd.Timestamp(d) for d in mv.tags.get("training_window", "..").split(".."))
    reference = plant_rows[(plant_rows["production_date"] >= start) & (plant_rows["production_date"] <= end)]
    recent = plant_rows[plant_rows["production_date"] > end]
    recent = recent[recent["production_date"] > recent["production_date"].max() - pd.Timedelta(days=window_days)] if len(recent) else recent
    report["model_version"] = version
    if recent.empty or reference.empty:
        return report
    report["window"] = f"{recent['production_date'].min().date()}..{recent['production_date'].max().date()}"
    report["psi"] = feature_psi(reference, recent, features)
    metrics = evaluate(load_model(f"models:/{name}@{governance.CHAMPION}"), recent)
    report["performance"] = {metric: metrics[metric] for metric in limits}
    report["crossed"] = check(report["psi"], report["performance"], limits)
    report["incident_id"] = hashlib.sha256(f"{name}|{version}|{report['window']}".encode()).hexdigest()[:20]
    return report


def record_incident(con, plant_id: str, report: dict) -> None:
    """Open (or re-open) the incident of a crossed drift report in actions.model_incidents."""
    con.execute("create schema if not exists actions")
    con.execute(INCIDENTS_DDL)
    con.execute(
        f"insert or replace into {INCIDENTS_TABLE} values (?, ?, ?, ?, ?, ?, ?, now())",
        [report["incident_id"], plant_id, report["model_name"], report["model_version"],
         report["window"], "; ".join(report["crossed"]), "open"],
    )
