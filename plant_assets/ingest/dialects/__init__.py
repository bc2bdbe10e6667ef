"""The historian dialects: one module per dialect in this package, and `DIALECTS`, the one registry of them.

A dialect module is named for its dialect (the `historian.dialect` of a plant.yaml) and exposes

    parse(plant, files, day, con) -> ParsedExport   one plant-day of its exports (plant_assets.ingest.contract)
    OPTIONS                                         the option names it knows (`historian.options`)
    DESCRIPTION                                     one line: what it reads (the table in docs/contracts.md)

Every module here whose name does not start with an underscore is a dialect, so adding a dialect is adding
its module (and its test); the config validation (plant_assets.core.plant_config), `parse_historian`
(plant_assets.ingest.exports) and `plant-assets plant init --dialect` all read `DIALECTS`, and
tests/unit/test_dialects_registry.py checks the docs table against it (`docs_table()`).
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from types import ModuleType

REQUIRED = ("parse", "OPTIONS", "DESCRIPTION")


def _discover() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = import_module(f"{__name__}.{info.name}")
        missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
        if missing:
            raise TypeError(f"{module.__name__} is not a dialect module: it lacks {missing} "
                            f"(a dialect exposes {list(REQUIRED)}; a helper module's name starts with '_')")
        found[info.name] = module
    return found


# Dialect name -> its module, sorted by name.
DIALECTS: dict[str, ModuleType] = _discover()


def docs_table() -> str:
    """The Markdown table of the dialects (name and description) that docs/contracts.md carries."""
    rows = ["| dialect | reads |", "|---|---|"]
    rows += [f"| `{name}` | {module.DESCRIPTION} |" for name, module in DIALECTS.items()]
    return "\n".join(rows) + "\n"

