"""What a line can physically do: its rated load (kW) and its highest output rate (units per hour).

Declared in plant.yaml per line (`rated_kw`, `max_units_per_hour`); when not declared, derived from what the
plant does declare, with a margin, because a bound that is too tight fails good days. The counter checks
(int_counter_deltas, through the registry's lines table) and the marts gate (physical bounds of a plant-day)
treat more than this as impossible.
"""

from __future__ import annotations

from plant_assets.core.plant_config import Line, PlantConfig

# Motors are most of a line's load but not all of it (heaters, compressors, lighting).
MOTOR_LOAD_MARGIN = 2.0
# Products' ideal rates are what a line is designed for; a line may run somewhat faster.
IDEAL_RATE_MARGIN = 1.5


def line_rated_kw(line: Line) -> float | None:
    """As declared, else MOTOR_LOAD_MARGIN x the motors' rated kW when every motor declares one; else None."""
    if line.rated_kw is not None:
        return line.rated_kw
    rated = [m.rated_kw for m in line.motors]
    return MOTOR_LOAD_MARGIN * sum(rated) if rated and None not in rated else None


def line_max_units_per_hour(plant: PlantConfig, line: Line) -> float | None:
    """As declared, else IDEAL_RATE_MARGIN x 60 x the fastest product's ideal rate per minute; else None."""
    if line.max_units_per_hour is not None:
        return line.max_units_per_hour
    rates = [p.ideal_rate_per_min for p in plant.products or () if p.ideal_rate_per_min]
    return IDEAL_RATE_MARGIN * 60 * max(rates) if rates else None
