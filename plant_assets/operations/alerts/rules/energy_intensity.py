"""Energy intensity: a plant-day whose energy per unit exceeds its champion energy baseline's expectation beyond
the plant's `alerting.energy_tolerance` (actions.energy_performance, `operations.energy_scoring`); critical beyond
twice the tolerance. Energy intensity is a daily KPI, so each plant-day above tolerance is its own condition (one
alert per plant-day, for the energy owner, with the champion's top drivers of the day's expectation); open ones
resolve once later days are back within tolerance. Evaluated right after the energy scoring (phase ENERGY)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.actions_tables import ENERGY_PERFORMANCE, ensure, utc_now
from plant_assets.operations.alerts.rules import base
from plant_assets.operations.alerts.store import condition_key

KIND = "energy_intensity"


class EnergyIntensity(base.AlertRule):
    name = KIND
    phase = base.ENERGY

    def evaluate(self, inputs: base.RuleInputs) -> base.Decisions:
        performance = read_performance(inputs.con, inputs.first_day, inputs.last_day)
        return base.Decisions(
            raised=with_condition_keys(build_energy_alerts(performance, inputs.plants)),
            cleared=energy_clear_days(performance, inputs.plants),
        )


RULE = EnergyIntensity()


def read_performance(con, first_day: date, last_day: date) -> pd.DataFrame:
    """The scored plant-days of the range (actions.energy_performance)."""
    ensure(con, ENERGY_PERFORMANCE)
    performance = con.execute(
        f"select * from {ENERGY_PERFORMANCE} where production_date between ? and ?", [first_day, last_day]
    ).df()
    if len(performance):
        performance["production_date"] = pd.to_datetime(performance["production_date"]).dt.date
    return performance


def _drivers(rec) -> dict:
    """The champion's top drivers of the day's expected energy, in an operator's words (when scored with them)."""
    raw = getattr(rec, "top_drivers", None)
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return {}
    drivers = json.loads(raw) if isinstance(raw, str) else raw
    return {"top_drivers": [d["text"] for d in drivers]} if drivers else {}


def build_energy_alerts(performance: pd.DataFrame, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """One alert per plant-day whose energy per unit exceeds the baseline beyond the plant's tolerance."""
    rows = []
    for rec in performance.itertuples(index=False):
        plant = plants.get(rec.plant_id)
        if plant is None or pd.isna(rec.deviation) or rec.deviation <= rec.tolerance:
            continue
        severity = "critical" if rec.deviation > 2 * rec.tolerance else "warning"
        day: date = rec.production_date
        rows.append(
            {
                "alert_id": base.alert_id(rec.plant_id, KIND, plant.isa95_path(), day),
                "plant_id": rec.plant_id,
                "production_date": day,
                "asset_path": plant.isa95_path(),
                "kind": KIND,
                "severity": severity,
                "owner_role": "energy",
                "owner": plant.owner_for("energy"),
                "title": f"{plant.name}: energy per unit {rec.deviation:+.0%} above baseline on {day}",
                "recommended_action": (
                    "Check for energy used outside production: equipment left running during idle and "
                    "changeover periods, compressed-air leaks, HVAC or chiller setpoints; compare the hourly "
                    "profile against the baseline in the warehouse (actions.energy_performance)."
                ),
                "evidence": pd.Series(
                    {
                        "actual_kwh": round(rec.actual_kwh, 1),
                        "expected_kwh": round(rec.expected_kwh, 1),
                        "actual_kwh_per_unit": round(rec.actual_kwh_per_unit, 5),
                        "expected_kwh_per_unit": round(rec.expected_kwh_per_unit, 5),
                        "deviation": round(rec.deviation, 4),
                        "tolerance": rec.tolerance,
                    }
                    | _drivers(rec)
                ).to_json(),
                "model_name": rec.model_name,
                "model_version": rec.model_version,
                "status": "open",
                "raised_at": utc_now(),
            }
        )
    columns = [
        "alert_id", "plant_id", "production_date", "asset_path", "kind", "severity", "owner_role", "owner", "title",
        "recommended_action", "evidence", "model_name", "model_version", "status", "raised_at",
    ]
    return pd.DataFrame(rows, columns=columns)


def with_condition_keys(energy_alerts: pd.DataFrame) -> pd.DataFrame:
    """Energy intensity is a daily KPI: each plant-day above tolerance is its own condition."""
    out = energy_alerts.copy()
    out["condition_key"] = [
        condition_key(r.plant_id, r.kind, r.asset_path, pd.Timestamp(r.production_date).date())
        for r in out.itertuples()
    ]
    if "explanation" not in out:
        out["explanation"] = [
            "; ".join(json.loads(e).get("top_drivers", [])) if isinstance(e, str) else None for e in out["evidence"]
        ]
    return out


def energy_clear_days(performance: pd.DataFrame, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """Plant-days whose energy per unit was within tolerance of the champion baseline."""
    if performance is None or performance.empty:
        return base.clear_days(pd.DataFrame(), "")
    ok = performance[performance["deviation"].notna() & (performance["deviation"] <= performance["tolerance"])
                     & performance["plant_id"].isin(list(plants))]
    ok = ok.assign(kind=KIND, asset_path=[plants[p].isa95_path() for p in ok["plant_id"]])
    return base.clear_days(ok, "energy intensity within tolerance of the baseline")
