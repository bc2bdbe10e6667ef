"""The canonical signal catalog: the one list of signals every plant's tags map onto.

It is a dbt seed (dbt_project/seeds/canonical_signals.csv) so analysts see it in the warehouse;
Python reads the same file to validate tag maps and convert units.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from plant_assets.core.settings import REPO_ROOT

SIGNAL_CATALOG_CSV = REPO_ROOT / "dbt_project" / "seeds" / "canonical_signals.csv"


@dataclass(frozen=True)
class CanonicalSignal:
    signal: str
    quantity: str
    canonical_unit: str
    kind: str  # totalizer | counter | interval | step | continuous
    asset_level: str  # line | motor
    min_value: float
    max_value: float
    max_level_factor: float  # day-over-day level change physics explains; beyond it: a unit change?
    description: str
    form_of: str  # the signal whose KPI inputs this form provides (energy_interval -> energy_total); "" itself
    # totalizer / counter: the largest increase per hour (canonical unit) any line can show; None otherwise
    max_rate_per_hour: float | None = None

    @property
    def provides(self) -> str:
        """The signal a KPI requirement names for this one (itself, or the signal it is a form of)."""
        return self.form_of or self.signal


def _read_seed(path: Path, cls: type, **convert: Callable[[str], Any]) -> dict[str, Any]:
    """A seed CSV as `cls` instances keyed by their first field; `convert` turns named cells from text."""
    key = fields(cls)[0].name
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row[key]: cls(**{f.name: convert.get(f.name, str)(row[f.name]) for f in fields(cls)}) for row in rows
    }


@lru_cache(maxsize=4)
def load_signal_catalog(path: Path = SIGNAL_CATALOG_CSV) -> dict[str, CanonicalSignal]:
    return _read_seed(
        path, CanonicalSignal, min_value=float, max_value=float, max_level_factor=float,
        max_rate_per_hour=lambda cell: float(cell) if cell else None,
    )


KPI_CATALOG_CSV = REPO_ROOT / "dbt_project" / "seeds" / "kpi_catalog.csv"
KPI_DAILY_MART = "marts.kpi_daily"
OPTIONAL_EXPORTS = ("production_runs", "downtime_events", "lab_results")


@dataclass(frozen=True)
class Kpi:
    """One row of the KPI catalog (dbt seed dbt_project/seeds/kpi_catalog.csv, published as marts.dim_kpi)."""

    kpi: str
    name: str
    unit: str
    grain: str
    mart: str  # where it lives: marts.kpi_daily (rows of the long table), a mart column, or 'not built (...)'
    requires_signals: tuple[str, ...]  # canonical signals: line-level ones on every counted line, motor-level on a motor
    requires_exports: tuple[str, ...]  # optional exports (OPTIONAL_EXPORTS); "a|b": either (core.kpi_inputs)
    requires_config: tuple[str, ...]  # plant.yaml settings (products.mass_kg, energy_baseline, quality_specs)

    @property
    def in_kpi_daily(self) -> bool:
        """A day-grain KPI of marts.kpi_daily (and so a column of marts.kpi_daily_wide)."""
        return self.mart.split(" ", 1)[0] == KPI_DAILY_MART


def _words(cell: str | None) -> tuple[str, ...]:
    return tuple((cell or "").split())


@lru_cache(maxsize=4)
def load_kpi_catalog(path: Path = KPI_CATALOG_CSV) -> dict[str, Kpi]:
    """The KPI catalog in file order: the one list of KPIs dbt (kpi_daily, kpi_daily_wide), the onboarding
    readiness report and the marts gate share. Requirement cells are space-separated lists; a signal must
    be in the canonical signal catalog."""
    signals = load_signal_catalog()
    kpis = _read_seed(path, Kpi, requires_signals=_words, requires_exports=_words, requires_config=_words)
    unknown = sorted({s for k in kpis.values() for s in k.requires_signals} - set(signals))
    if unknown:
        raise ValueError(f"{path.name}: requires_signals names {unknown}, which are not canonical signals")
    # requires_exports: optional exports, `a|b` = any one alternative, a canonical signal as an alternative
    alternatives = {a for k in kpis.values() for e in k.requires_exports for a in e.split("|")}
    unknown = sorted(alternatives - set(OPTIONAL_EXPORTS) - set(signals))
    if unknown:
        raise ValueError(f"{path.name}: requires_exports names {unknown}; known: {OPTIONAL_EXPORTS} or a signal")
    return kpis
