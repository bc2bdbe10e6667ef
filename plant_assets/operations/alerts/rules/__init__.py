"""The alert rules: every module of this package but `base` is one rule, `rules/<kind>.py` holding `RULE` (an
`AlertRule` named `<kind>`). They are found here, so adding a rule is its module and its test; the nightly
assets evaluate `rules_for(phase)` (see `base` for the interface)."""

from __future__ import annotations

import importlib
import pkgutil

from plant_assets.operations.alerts.rules.base import PHASES, AlertRule


def _discover() -> tuple[AlertRule, ...]:
    found = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name == "base" or module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, AlertRule):
            raise TypeError(f"{module.__name__} is not an alert rule: it lacks RULE = <an AlertRule instance>")
        if rule.name != module_info.name or rule.phase not in PHASES:
            raise ValueError(f"{module.__name__}: RULE.name must be the module's name ({rule.name!r} given) and "
                             f"RULE.phase one of {PHASES} ({rule.phase!r} given)")
        found.append(rule)
    return tuple(found)


RULES: tuple[AlertRule, ...] = _discover()


def rules_for(phase: str) -> tuple[AlertRule, ...]:
    """The rules one nightly evaluation runs (base.ENERGY or base.OPERATIONAL), in module-name order."""
    return tuple(rule for rule in RULES if rule.phase == phase)
