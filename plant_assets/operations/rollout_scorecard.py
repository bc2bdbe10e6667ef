"""Measured value and the rollout scorecard.

Savings (IPMVP, avoided energy): in the reporting period (days after the plant's energy baseline period),
savings = the champion baseline model's expected energy under reporting-period conditions - actual energy,
per day, summed per month and cumulated. Uncertainty (95 %): ASHRAE Guideline 14's savings uncertainty from
the champion's out-of-sample hourly CV(RMSE) and the lag-1 autocorrelation of its hourly residuals (correlated
hours carry less information than independent ones), never below 1.96 x its leave-one-day-out daily RMSE (a day's
hours share conditions, so their errors add up) nor the baseline days' residual spread, x sqrt(reporting days). Only counted when the champion met its validation thresholds (MLflow tag
`validation=passed`).

Scorecard (`actions.rollout_scorecard`): one row per plant, see `SCORECARD_COLUMNS`; the effort it took to map
a plant's data is how many drafted tag-map rows it kept, changed, added or dropped (`mapping_effort`).

`write_savings_and_scorecard` writes the three tables.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd

from ml.metrics import savings_uncertainty
from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.mapping_effort import mapping_effort
from plant_assets.operations.actions_tables import (
    ALERTS,
    ENERGY_PERFORMANCE,
    ENERGY_SAVINGS,
    ENERGY_SAVINGS_MONTHLY,
    ROLLOUT_SCORECARD,
    replace_table,
)

Z95 = 1.96
# Reporting days in a row that cumulative savings must stay above their band to count as an improvement.
SUSTAINED_DAYS = 3
SCORECARD_COLUMNS = [
    "plant_id", "onboarding_date", "first_export_date", "first_kpi_date", "days_first_export_to_first_kpi",
    "tag_map_coverage", "quarantined_share", "gate_pass_rate", "model_validation", "model_adjustment_cv_rmse_points",
    "days_to_first_measurable_improvement", "cumulative_savings_kwh", "savings_uncertainty_kwh", "alerts",
    "alert_ack_rate", "median_hours_to_ack", "tag_map_rows_kept", "tag_map_rows_changed", "tag_map_rows_added",
    "tag_map_rows_dropped", "built_at",
]


def daily_savings(
    performance: pd.DataFrame,
    baseline_end: date,
    validated: bool,
    cv_rmse_hourly: float | None = None,
    residual_rho: float | None = None,
    baseline_hours: float | None = None,
    daily_rmse_oos: float | None = None,
) -> pd.DataFrame:
    """Per reporting day: savings, cumulative savings and the 95 % band. Empty when the champion is not validated.
    The band is the widest of: ASHRAE G14's (`ml.metrics.savings_uncertainty`, from the champion's hourly CV(RMSE),
    residual autocorrelation and baseline size); the champion's leave-one-day-out daily RMSE x sqrt(days); the
    baseline days' residual spread x sqrt(days), floored by the hourly CV(RMSE) scaled to a day."""
    perf = performance.copy()
    perf["production_date"] = pd.to_datetime(perf["production_date"]).dt.date
    perf = perf.sort_values("production_date")
    residual = perf["actual_kwh"] - perf["expected_kwh"]
    baseline = residual[perf["production_date"] <= baseline_end]
    sigma = float(baseline.std(ddof=1)) if len(baseline) > 1 else float("nan")
    if cv_rmse_hourly is not None and len(perf):
        floor = cv_rmse_hourly * float(perf["expected_kwh"].mean()) / math.sqrt(24)
        sigma = floor if pd.isna(sigma) else max(sigma, floor)
    report = perf[perf["production_date"] > baseline_end].copy()
    if not validated or report.empty:
        return report.iloc[0:0].assign(savings_kwh=[], cumulative_savings_kwh=[], uncertainty_kwh=[])
    report["savings_kwh"] = report["expected_kwh"] - report["actual_kwh"]
    report["cumulative_savings_kwh"] = report["savings_kwh"].cumsum()
    n = pd.Series(range(1, len(report) + 1), index=report.index)
    report["uncertainty_kwh"] = Z95 * sigma * n.map(math.sqrt)
    if daily_rmse_oos is not None and not math.isnan(daily_rmse_oos):
        report["uncertainty_kwh"] = report["uncertainty_kwh"].combine(Z95 * daily_rmse_oos * n.map(math.sqrt), max)
    if cv_rmse_hourly is not None and residual_rho is not None and baseline_hours:
        mean_hourly = float(perf["expected_kwh"].mean()) / 24
        g14 = n.map(lambda days: savings_uncertainty(cv_rmse_hourly, mean_hourly, int(baseline_hours), 24 * days, residual_rho))
        report["uncertainty_kwh"] = report["uncertainty_kwh"].combine(g14, max)
    return report


def monthly_savings(daily: pd.DataFrame) -> pd.DataFrame:
    """Per plant and month: savings, the month's 95 % band (one day's band x sqrt(days)), cumulative at month end."""
    columns = ["plant_id", "month", "days", "savings_kwh", "uncertainty_kwh", "cumulative_savings_kwh"]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    frame = daily.assign(month=pd.to_datetime(daily["production_date"]).dt.strftime("%Y-%m"))
    one_day = frame.groupby("plant_id")["uncertainty_kwh"].first()
    out = frame.groupby(["plant_id", "month"], as_index=False).agg(
        days=("savings_kwh", "size"), savings_kwh=("savings_kwh", "sum"), cumulative_savings_kwh=("cumulative_savings_kwh", "last"))
    out["uncertainty_kwh"] = [float(one_day[p]) * math.sqrt(d) for p, d in zip(out["plant_id"], out["days"])]
    return out[columns]


def first_measurable_improvement(daily: pd.DataFrame, sustained_days: int = SUSTAINED_DAYS) -> date | None:
    """The first reporting day from which cumulative savings stay above their uncertainty band for
    `sustained_days` reporting days in a row: one lucky day is not an improvement a plant manager can bank."""
    above = (daily["cumulative_savings_kwh"] > daily["uncertainty_kwh"]).to_numpy()
    for i in range(len(above) - sustained_days + 1):
        if above[i : i + sustained_days].all():
            return daily["production_date"].iloc[i]
    return None


def _champion_tags(client, plant_id: str) -> dict:
    if client is None:
        return {}
    from ml.model_registry import CHAMPION, alias_version, registered_model_name
    from ml.templates import energy_baseline

    name = registered_model_name(energy_baseline.TEMPLATE.name, plant_id)
    version = alias_version(client, name, CHAMPION)
    if version is None:
        return {}
    return dict(client.get_model_version(name, version).tags) | {"version": str(version)}


def _table(con, sql: str, params: list | None = None) -> pd.DataFrame:
    try:
        return con.execute(sql, params or []).df()
    except Exception:  # the table does not exist yet (a plant before its first run)
        return pd.DataFrame()


def build_savings(con, plants: dict[str, PlantConfig], client=None) -> pd.DataFrame:
    """Daily savings rows of every plant whose energy-baseline champion passed validation."""
    perf = _table(con, f"select * from {ENERGY_PERFORMANCE} order by plant_id, production_date")
    frames = []
    for plant_id, rows in perf.groupby("plant_id") if len(perf) else []:
        plant = plants.get(plant_id)
        if plant is None:
            continue
        tags = _champion_tags(client, plant_id)
        validated = tags.get("validation") == "passed" if client is not None else True
        cv, rho, hours, daily_rmse = (tags.get(f"metric.{k}") for k in (
            "calibrated_cv_rmse_hourly", "calibrated_residual_rho1_hourly", "baseline_hours", "calibrated_daily_rmse_kwh_oos"))
        frames.append(daily_savings(
            rows, plant.energy_baseline.end, validated, float(cv) if cv else None,
            float(rho) if rho else None, float(hours) if hours else None, float(daily_rmse) if daily_rmse else None,
        ))
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["plant_id", "production_date", "savings_kwh", "cumulative_savings_kwh", "uncertainty_kwh"])


def tag_map_coverage(plant: PlantConfig, provided: dict[str, dict[str, list[str]]]) -> float:
    """The share of the core signals (core.kpi_inputs.CORE_SIGNALS) the plant maps in any form (energy_interval
    or active_power count as energy_total); optional catalog signals do not lower it."""
    from plant_assets.core.kpi_inputs import CORE_SIGNALS

    mapped = {signal for signals in provided.values() for signal in signals}
    return len(mapped & set(CORE_SIGNALS)) / len(CORE_SIGNALS)


def build_scorecard(con, lake: Path, plants: dict[str, PlantConfig], client=None) -> pd.DataFrame:
    from plant_assets.core.kpi_inputs import provided_signals
    from plant_assets.quality.marts_metrics import ingest_gate_status

    recon = _table(con, "select plant_id, production_date, raw_records, quarantined_records from marts.fct_ingest_reconciliation")
    kpis = _table(con, "select plant_id, min(production_date) as first_kpi_date from marts.kpi_daily group by plant_id")
    alerts = _table(con, f"select plant_id, status, raised_at, acknowledged_at from {ALERTS}")
    gates = ingest_gate_status(lake, date(1970, 1, 1), date(2999, 12, 31))
    # The pass rate is of the plant-day data gates; freshness is a plant-level watch that fails by design while
    # a plant's exports are not due or have stopped, and is reported as incidents of its own.
    gates = gates[gates["layer"] != "freshness"] if len(gates) else gates
    savings = build_savings(con, plants, client)
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    rows = []
    for plant_id, plant in sorted(plants.items()):
        r = recon[recon["plant_id"] == plant_id] if len(recon) else recon
        exported = r[r["raw_records"] > 0] if len(r) else r
        first_export = pd.Timestamp(exported["production_date"].min()).date() if len(exported) else None
        k = kpis[kpis["plant_id"] == plant_id] if len(kpis) else kpis
        first_kpi = pd.Timestamp(k["first_kpi_date"].iloc[0]).date() if len(k) else None
        g = gates[gates["plant_id"] == plant_id] if len(gates) else gates
        a = alerts[alerts["plant_id"] == plant_id] if len(alerts) else alerts
        acked = a[a["acknowledged_at"].notna()] if len(a) else a
        hours = ((pd.to_datetime(acked["acknowledged_at"]) - pd.to_datetime(acked["raised_at"])).dt.total_seconds() / 3600
                 if len(acked) else pd.Series(dtype=float))
        tags = _champion_tags(client, plant_id)
        s = savings[savings["plant_id"] == plant_id] if len(savings) else savings
        improvement = first_measurable_improvement(s) if len(s) else None
        raw_total = float(r["raw_records"].sum()) if len(r) else 0.0
        effort = mapping_effort(plant)  # None: no draft kept (tag map written before plant init drafted one)
        rows.append({
            "plant_id": plant_id,
            "onboarding_date": first_export,  # the first production day whose export reached the platform
            "first_export_date": first_export,
            "first_kpi_date": first_kpi,
            "days_first_export_to_first_kpi": (first_kpi - first_export).days if first_export and first_kpi else None,
            "tag_map_coverage": tag_map_coverage(plant, provided_signals(plant)),
            "quarantined_share": float(r["quarantined_records"].sum()) / raw_total if raw_total else None,
            "gate_pass_rate": float(g["passed"].astype(bool).mean()) if len(g) else None,
            "model_validation": tags.get("validation"),
            "model_adjustment_cv_rmse_points": float(tags["metric.adjustment_cv_rmse_points"])
            if "metric.adjustment_cv_rmse_points" in tags else None,
            "days_to_first_measurable_improvement": (improvement - plant.energy_baseline.end).days if improvement else None,
            "cumulative_savings_kwh": float(s["cumulative_savings_kwh"].iloc[-1]) if len(s) else None,
            "savings_uncertainty_kwh": float(s["uncertainty_kwh"].iloc[-1]) if len(s) else None,
            "alerts": int(len(a)),
            "alert_ack_rate": len(acked) / len(a) if len(a) else None,
            "median_hours_to_ack": float(hours.median()) if len(hours) else None,
            **{f"tag_map_rows_{k}": (getattr(effort, k) if effort else None)
               for k in ("kept", "changed", "added", "dropped")},
            "built_at": now,
        })
    return pd.DataFrame(rows, columns=SCORECARD_COLUMNS)


def write_savings_and_scorecard(con, lake: Path, plants: dict[str, PlantConfig], client=None) -> dict[str, int]:
    """Write actions.energy_savings, actions.energy_savings_monthly and actions.rollout_scorecard (whole tables,
    atomically); returns the rows written to each."""
    daily = build_savings(con, plants, client)
    keep = ["plant_id", "production_date", "actual_kwh", "expected_kwh", "savings_kwh", "cumulative_savings_kwh",
            "uncertainty_kwh", "model_name", "model_version"]
    daily = daily[[c for c in keep if c in daily.columns]]
    written = {"savings_days": replace_table(con, ENERGY_SAVINGS, daily),
               "savings_months": replace_table(con, ENERGY_SAVINGS_MONTHLY, monthly_savings(daily))}
    written["scorecard_plants"] = replace_table(con, ROLLOUT_SCORECARD, build_scorecard(con, lake, plants, client))
    return written
