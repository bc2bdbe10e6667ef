"""Failed data-quality gates: one alert per plant-day whose blocking gate failed, for the central data team (the
day's KPIs and scores are withheld until it passes); it resolves once the plant's gates pass again."""

from __future__ import annotations

import json

import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.actions_tables import utc_now
from plant_assets.operations.alerts.rules import base
from plant_assets.operations.alerts.store import condition_key

KIND = "data_quality"


class DataQuality(base.AlertRule):
    name = KIND

    def evaluate(self, inputs: base.RuleInputs) -> base.Decisions:
        return base.Decisions(
            raised=build_gate_alerts(inputs.failed_gates, inputs.plants),
            cleared=gate_clear_days(inputs.checked_gates, inputs.failed_gates, inputs.plants),
        )


RULE = DataQuality()


def build_gate_alerts(failed: set, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """One candidate per plant-day with a failed data-quality gate, for the central data team."""
    rows = []
    for plant_id, day in sorted(failed):
        plant = plants.get(plant_id)
        if plant is None:
            continue
        path = plant.isa95_path()
        rows.append({
            "alert_id": base.alert_id(plant_id, KIND, path, day),
            "condition_key": condition_key(plant_id, KIND, path),
            "plant_id": plant_id, "production_date": day, "asset_path": path, "kind": KIND,
            "severity": "warning", "owner_role": "central_data_team", "owner": plant.owner_for("central_data_team"),
            "title": f"{plant.name}: data-quality gate failed on {day}",
            "recommended_action": "Open the gate's Data Docs (`plant-assets gates docs`), fix the export or the tag map, "
                                  "then re-run the plant-day; its KPIs and scores are withheld until it passes.",
            "explanation": "a blocking data-quality gate failed; downstream KPIs skip this plant-day",
            "evidence": json.dumps({"failed_day": str(day)}), "model_name": None, "model_version": None,
            "status": "open", "raised_at": utc_now(),
        })
    return pd.DataFrame(rows, columns=base.ALERT_COLUMNS)


def gate_clear_days(checked: set, failed: set, plants: dict[str, PlantConfig]) -> pd.DataFrame:
    """Plant-days whose data-quality gates were evaluated and all passed."""
    ok = pd.DataFrame([(p, d) for p, d in sorted(set(checked) - set(failed)) if p in plants],
                      columns=["plant_id", "production_date"])
    ok = ok.assign(kind=KIND, asset_path=[plants[p].isa95_path() for p in ok["plant_id"]])
    return base.clear_days(ok, "data-quality gates passed")
