"""Bounds a plant-day's KPIs cannot physically or plausibly exceed, judged by the marts gate.

Two rules per bounded KPI (energy_kwh, units_produced), the tighter one applies:
  - physics: no more than the plant's lines can draw or make in the day's hours (DST days have 23 or 25):
    the sum over the lines that carry the KPI's meter of their rated load (kW) or highest output rate
    (units/h), core.rated_limits. Unknown for a line: no physical bound for that KPI;
  - the plant's own history: no more than `history_factor` (suite threshold, default 10) times the plant's
    highest day of the previous `band_history_days` days, once it has at least MIN_HISTORY_DAYS of them. The
    highest day, not the median, so a plant coming back from a shutdown is not judged against its idle days.
A bound that does not apply is +inf (the expectation then passes). There is no lower bound: a shutdown day
legitimately uses almost nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from plant_assets.core.plant_config import PlantConfig
from plant_assets.core.rated_limits import line_max_units_per_hour, line_rated_kw

MIN_HISTORY_DAYS = 7  # below this a plant has no history bound yet
NO_BOUND = 1e18  # GX compares numbers: "no bound" is a limit nothing reaches

# KPI -> (the signal whose lines count, unit, what a line's rate is called)
BOUNDED_KPIS = {
    "energy_kwh": ("energy_total", "kWh", "rated load"),
    "units_produced": ("production_count_total", "units", "rated output"),
}


def history_column(kpi: str) -> str:
    return f"history_max_{kpi}"


def history_days_column(kpi: str) -> str:
    return f"history_days_{kpi}"


def parameter(kpi: str) -> str:
    """The suite parameter holding a KPI's bound (expectations/marts_kpi_daily.json)."""
    return f"{kpi}_max"


def number(value: float) -> str:
    """A readable figure: thousands separated, at most 3 decimals (9000000.0 -> '9,000,000')."""
    return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.6g}"


@dataclass(frozen=True)
class Bound:
    kpi: str
    limit: float
    why: str

    def reason(self, value: float) -> str:
        unit = BOUNDED_KPIS[self.kpi][1]
        return f"{self.kpi} = {number(value)} {unit} exceeds {number(self.limit)} {unit}: {self.why}"


def _line_rate(plant: PlantConfig, kpi: str, line) -> float | None:
    return line_rated_kw(line) if kpi == "energy_kwh" else line_max_units_per_hour(plant, line)


def physical_bound(plant: PlantConfig, kpi: str, day: date) -> Bound | None:
    """The most the plant's metered lines can draw or make in the day's hours; None when a line's rate is
    unknown (or no line carries the meter)."""
    signal, unit, rate_name = BOUNDED_KPIS[kpi]
    metered = {t.line_id for t in plant.tag_map if t.signal == signal}
    lines = [line for line in plant.lines if line.id in metered]
    rates = [_line_rate(plant, kpi, line) for line in lines]
    if not lines or None in rates:
        return None
    start, end = plant.day_window_utc(day)
    hours = (end - start).total_seconds() / 3600
    per_hour = sum(rates)
    return Bound(kpi, per_hour * hours, f"the {rate_name} of lines {', '.join(sorted(metered))} "
                                        f"({number(per_hour)} {unit}/h) over the day's {hours:g} h")


def history_bound(row: dict[str, Any], kpi: str, factor: float, history_days: int) -> Bound | None:
    """`factor` x the plant's highest day of its recent history, once it has MIN_HISTORY_DAYS days."""
    highest, days = row.get(history_column(kpi)), row.get(history_days_column(kpi)) or 0
    if days < MIN_HISTORY_DAYS or highest is None or not math.isfinite(highest) or highest <= 0:
        return None
    return Bound(kpi, factor * highest, f"{factor:g} x the plant's highest day ({number(highest)}) of its "
                                        f"previous {history_days} days ({days} with a value)")


def day_bounds(plant: PlantConfig, row: dict[str, Any], thresholds: dict[str, Any]) -> dict[str, Bound]:
    """The tighter of the physical and the history bound of each bounded KPI (those that apply)."""
    bounds = {}
    for kpi in BOUNDED_KPIS:
        candidates = [
            b for b in (
                physical_bound(plant, kpi, row["production_date"]),
                history_bound(row, kpi, float(thresholds["history_factor"]), int(thresholds["band_history_days"])),
            ) if b is not None
        ]
        if candidates:
            bounds[kpi] = min(candidates, key=lambda b: b.limit)
    return bounds


def bound_parameters(bounds: dict[str, Bound]) -> dict[str, float]:
    """The suite parameters: each bounded KPI's limit, NO_BOUND where none applies."""
    return {parameter(kpi): (bounds[kpi].limit if kpi in bounds else NO_BOUND) for kpi in BOUNDED_KPIS}


def explain(failed: list[dict[str, Any]], bounds: dict[str, Bound], row: dict[str, Any]) -> list[dict[str, Any]]:
    """The failures with a `reason` naming the KPI, its value and the bound it broke (bounded KPIs only)."""
    out = []
    for failure in failed:
        kpi = failure.get("column")
        limit = (failure.get("threshold") or {}).get("max_value")
        if kpi in bounds and limit is not None and row.get(kpi) == row.get(kpi):
            failure = failure | {"reason": bounds[kpi].reason(float(row[kpi]))}
        out.append(failure)
    return out
