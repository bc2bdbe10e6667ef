"""Operations assets. `OPERATIONS_ASSETS`: the closing-the-loop assets to wire into the definitions
(energy_performance and energy_alerts are wired from .assets directly)."""

from plant_assets.defs.operations.alerts_and_scorecard import (
    alert_notifier,
    operational_alerts,
    rollout_scorecard,
)

OPERATIONS_ASSETS = [operational_alerts, alert_notifier, rollout_scorecard]
