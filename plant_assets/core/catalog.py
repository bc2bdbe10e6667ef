"""The canonical signal catalog: the one list of signals every plant's tags map onto.

It is a dbt seed (dbt_project/seeds/canonical_signals.csv) so analysts see it in the warehouse;
Python reads the same file to validate tag maps and convert units.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from plant_assets.core.settings import REPO_ROOT

SIGNAL_CATALOG_CSV = REPO_ROOT / "dbt_project" / "seeds" / "canonical_signals.csv"


@dataclass(frozen=True)
class CanonicalSignal:
    signal: str
    quantity: str
    canonical_unit: str
    kind: str  # totalizer | counter | step | continuous
    asset_level: str  # line | motor
    min_value: float
    max_value: float
    max_level_factor: float  # day-over-day level change physics explains; beyond it: a unit change?
    description: str


@lru_cache(maxsize=4)
def load_signal_catalog(path: Path = SIGNAL_CATALOG_CSV) -> dict[str, CanonicalSignal]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            row["signal"]: CanonicalSignal(
                signal=row["signal"],
                quantity=row["quantity"],
                canonical_unit=row["canonical_unit"],
                kind=row["kind"],
                asset_level=row["asset_level"],
                min_value=float(row["min_value"]),
                max_value=float(row["max_value"]),
                max_level_factor=float(row["max_level_factor"]),
                description=row["description"],
            )
            for row in csv.DictReader(handle)
        }
