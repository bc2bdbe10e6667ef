"""What an alert rule is. Each rule is one module `rules/<kind>.py` holding `RULE`, an `AlertRule` whose
`name` is the `kind` of the alerts it raises. `evaluate(inputs)` returns both decisions of one evaluation:

- `raised`: candidate alerts (`ALERT_COLUMNS`: the columns of actions.alerts plus `condition_key` and
  `explanation`), one row per condition and day; `operations.alerts.store.upsert_alerts` de-duplicates them
  into one alert per persisting condition (`condition_key`).
- `cleared`: the evaluated days on which a condition was clear, with the reason in words (`CLEAR_COLUMNS`,
  built with `clear_days`); `operations.alerts.store.auto_resolve` resolves an alert once its condition has been
  clear on the plant's `alerting.auto_resolve_days` of them in a row.

`phase` says which nightly evaluation runs the rule: `ENERGY` right after the energy scoring of the day range,
`OPERATIONAL` (the default) once the champion models and the data-quality gates have run.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

import duckdb
import pandas as pd

from plant_assets.core.plant_config import PlantConfig
from plant_assets.operations.alerts.store import CLEAR_COLUMNS

ALERT_COLUMNS = [
    "alert_id", "condition_key", "plant_id", "production_date", "asset_path", "kind", "severity", "owner_role", "owner",
    "title", "recommended_action", "explanation", "evidence", "model_name", "model_version", "status", "raised_at",
]
ENERGY = "energy"
OPERATIONAL = "operational"
PHASES = (ENERGY, OPERATIONAL)


@dataclass(frozen=True)
class RuleInputs:
    """What the nightly evaluation knows about the day range [first_day, last_day]; each rule reads what it needs
    (marts and actions tables through `con`)."""

    con: duckdb.DuckDBPyConnection
    plants: dict[str, PlantConfig]
    first_day: date
    last_day: date
    failed_gates: AbstractSet[tuple[str, date]] = frozenset()  # (plant_id, day) with a failed blocking gate
    checked_gates: AbstractSet[tuple[str, date]] = frozenset()  # (plant_id, day) whose gates ran
    motor_versions: Mapping[str, str | None] = field(default_factory=dict)  # plant_id -> motor health champion version
    quality_models: Mapping[str, tuple] = field(default_factory=dict)  # plant_id -> (quality champion, version)


@dataclass(frozen=True)
class Decisions:
    raised: pd.DataFrame  # ALERT_COLUMNS
    cleared: pd.DataFrame  # CLEAR_COLUMNS


class AlertRule(ABC):
    name: ClassVar[str]  # the alerts' `kind`, and the rule module's name
    phase: ClassVar[str] = OPERATIONAL

    @abstractmethod
    def evaluate(self, inputs: RuleInputs) -> Decisions:
        """The candidate alerts and the clear days of the day range."""


def alert_id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:20]


def no_alerts() -> pd.DataFrame:
    return pd.DataFrame(columns=ALERT_COLUMNS)


def clear_days(frame: pd.DataFrame, reason: str) -> pd.DataFrame:
    """`frame` (plant_id, kind, asset_path, production_date) with the reason, as CLEAR_COLUMNS."""
    return frame.assign(reason=reason)[CLEAR_COLUMNS] if len(frame) else pd.DataFrame(columns=CLEAR_COLUMNS)
