"""What a line can physically do: its rated load (kW) and its highest output rate (units per hour).

Declared in plant.yaml per line (`rated_kw`, `max_units_per_hour`); when not declared, derived from what the
plant does declare for output (products' ideal rates), with a margin, because a bound that is too tight fails good days. The counter checks
(int_counter_deltas, through the registry's lines table) and the marts gate (physical bounds of a plant-day)
treat more than this as impossible.
"""

from __future__ import annotations

from plant_assets.core.plant_config import Line, PlantConfig

# Products' ideal rates are what a line is designed for; a line may run somewhat faster.
IDEAL_RATE_MARGIN = 1.5


def line_rated_kw(line: Line) -> float | None:
    """As declared (the line's connected load), else None. Not derived from its motors: on the demo plants the
    motors are a fifth to a half of what a line draws (heaters, compressors, ovens), so 2x their rating failed
    every good day of plant_a (22 MWh against a 9.5 MWh bound)."""
    return line.rated_kw


def line_max_units_per_hour(plant: PlantConfig, line: Line) -> float | None:
    """As declared, else IDEAL_RATE_MARGIN x 60 x the fastest product's ideal rate per minute; else None."""
    if line.max_units_per_hour is not None:
        return line.max_units_per_hour
    rates = [p.ideal_rate_per_min for p in plant.products or () if p.ideal_rate_per_min]
    return IDEAL_RATE_MARGIN * 60 * max(rates) if rates else None
