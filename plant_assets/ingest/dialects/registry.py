"""Which option names each historian dialect knows (for config validation; values are checked at parse)."""

from __future__ import annotations

from importlib import import_module

MODULES = {
    "pi_recorded": "pi_recorded",
    "aveva_wide": "aveva_wide",
    "aveva_narrow": "aveva_narrow",
    "ignition_sqlt": "ignition_sqlt",
    "canary_tvq": "canary_tvq",
    "generic": "generic",
}


def known_options(dialect: str) -> tuple[str, ...] | None:
    """The option names of a dialect, or None when the dialect is unknown (reported elsewhere)."""
    name = MODULES.get(dialect)
    if name is None:
        return None
    return tuple(import_module(f"plant_assets.ingest.dialects.{name}").OPTIONS)
