"""The plant-assets code location: every stage folder under defs/ brings its own `defs`; this file only
merges them with the resources and the executor. A new stage is a new folder, not an edit here."""

from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

from plant_assets import defs as defs_package
from plant_assets.defs.executor import executor_from_env
from plant_assets.defs.resources import build_resources


def stage_definitions() -> list[dg.Definitions]:
    """The `defs` of every stage package in plant_assets/defs/, in name order."""
    stages = []
    for module in sorted(pkgutil.iter_modules(defs_package.__path__), key=lambda m: m.name):
        if module.ispkg:
            stages.append(importlib.import_module(f"{defs_package.__name__}.{module.name}").defs)
    return stages


defs = dg.Definitions.merge(
    *stage_definitions(),
    dg.Definitions(
        resources=build_resources(),
        executor=executor_from_env(),  # PLANT_ASSETS_EXECUTOR: in_process (default), multiprocess, celery
    ),
)
