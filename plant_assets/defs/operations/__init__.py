"""Operations stage: champion scoring, alerts with an owner, their delivery, savings and the rollout scorecard."""

import dagster as dg

from plant_assets.defs.operations.assets import (
    alert_notifier,
    energy_alerts,
    energy_performance,
    operational_alerts,
    rollout_scorecard,
)

defs = dg.Definitions(
    assets=[energy_performance, energy_alerts, operational_alerts, alert_notifier, rollout_scorecard],
)
