"""Unit conversion through pint: a tag's declared source unit to its signal's canonical unit."""

from __future__ import annotations

from functools import lru_cache

import pint

_UNITS = pint.UnitRegistry()
# Piece counts are dimensionless in pint; name them so tag maps can say "count".
_UNITS.define("count = [] = unit = pcs = piece")
# Reactive power and energy (var, kvar, kvarh): a dimension of their own, so a reactive meter can never be
# mapped onto active energy by a unit slip.
_UNITS.define("volt_ampere_reactive = [reactive_power] = var = VAr")
_UNITS.define("var_hour = volt_ampere_reactive * hour = varh = VArh")


@lru_cache(maxsize=512)
def conversion_to(source_unit: str, canonical_unit: str) -> tuple[float, float]:
    """(scale, offset) so that canonical = source * scale + offset (offset only for temperatures)."""
    try:
        zero = _UNITS.Quantity(0.0, source_unit).to(canonical_unit).magnitude
        # A wide span keeps the scale exact to float precision (degF: 5/9, not 0.55555555555554).
        hundred = _UNITS.Quantity(100.0, source_unit).to(canonical_unit).magnitude
    except (pint.errors.UndefinedUnitError, pint.errors.DimensionalityError, AttributeError, ValueError) as exc:
        raise ValueError(f"cannot convert unit {source_unit!r} to {canonical_unit!r}: {exc}") from exc
    return float((hundred - zero) / 100.0), float(zero)
