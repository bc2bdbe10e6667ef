"""The ML use cases: one module per use case in this package, named after it, exposing `USE_CASE` (an
ml.use_case.UseCase). `use_cases()` finds them all, so a new use case is its module (and its test): the
Dagster wiring (plant_assets/defs/ml) builds its per-plant asset from it and the training job picks it up.

Modules starting with `_` are helpers, not use cases. A template module imports nothing heavy at its top
(LightGBM, MLflow, matplotlib load inside the functions that need them): the code location imports every
use case to build its assets, and every step process loads the code location.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from ml.use_case import UseCase


@cache
def use_cases() -> dict[str, UseCase]:
    """Every use case by name, in module-name order."""
    found: dict[str, UseCase] = {}
    assets: dict[str, str] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        use_case = getattr(module, "USE_CASE", None)
        if not isinstance(use_case, UseCase):
            raise TypeError(f"{module.__name__} must expose USE_CASE, an ml.use_case.UseCase instance")
        if use_case.name != module_info.name:
            raise ValueError(f"{module.__name__}: the use case is named {use_case.name!r}; name the module after it")
        for facts in (use_case.asset, *([use_case.drift.asset] if use_case.drift else [])):
            if facts.name in assets:
                raise ValueError(f"asset {facts.name!r} of {use_case.name} is also {assets[facts.name]}'s")
            assets[facts.name] = use_case.name
        found[use_case.name] = use_case
    return found
