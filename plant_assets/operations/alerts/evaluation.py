"""One evaluation of alert rules on a day range: their candidate alerts go into actions.alerts (de-duplicated
per condition, new and escalated revisions queued in the outbox), then their clear days resolve the alerts whose
condition has cleared (`operations.alerts.store`)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from plant_assets.operations.alerts.rules.base import AlertRule, RuleInputs, no_alerts
from plant_assets.operations.alerts.store import (
    auto_resolve,
    ensure_tables,
    upsert_alerts,
)


def raise_and_resolve(inputs: RuleInputs, rules: Iterable[AlertRule]) -> tuple[dict[str, int], pd.DataFrame]:
    """Evaluate `rules` (e.g. `rules_for(OPERATIONAL)`) on `inputs`. Returns the counts of new / escalated /
    updated / resolved alerts and the candidate alerts the rules raised."""
    ensure_tables(inputs.con)
    decisions = [rule.evaluate(inputs) for rule in rules]
    raised = [d.raised for d in decisions if len(d.raised)]
    candidates = pd.concat(raised, ignore_index=True) if raised else no_alerts()
    counts = upsert_alerts(inputs.con, candidates)
    cleared = [d.cleared for d in decisions]
    counts["resolved"] = auto_resolve(inputs.con, pd.concat(cleared, ignore_index=True) if cleared else None, inputs.plants)
    return counts, candidates
