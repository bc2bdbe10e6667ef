"""Shared by every command group: the consoles, clear errors with a hint at the fix, and the checks
that turn a missing plant, state or model into such an error instead of a traceback."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from plant_assets.core.settings import Settings, get_settings

console = Console()
# Errors go to stderr, so `--json` output on stdout stays parseable.
err_console = Console(stderr=True)

# What to run when the state a command reads does not exist yet.
NO_STATE_HINT = ("run `make demo` (or `plant-assets demo`) first, or point PLANT_ASSETS_HOME at the state "
                 "folder of an earlier run")


def fail(message: str, hint: str, exit_code: int = 1) -> NoReturn:
    """Print `Error: <message>` and `Hint: <hint>` on stderr and exit with `exit_code`."""
    err_console.print(f"[bold red]Error:[/bold red] {message}", soft_wrap=True, highlight=False)
    err_console.print(f"[bold]Hint:[/bold] {hint}", soft_wrap=True, highlight=False)
    raise typer.Exit(exit_code)


def parse_day(value: str | None, option: str = "--day") -> date | None:
    """An ISO day from an option, or a usage error that shows the expected form."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day; use YYYY-MM-DD, e.g. 2026-09-07", param_hint=option) from None


def known_plant_ids(settings: Settings | None = None) -> list[str]:
    from plant_assets.core.plant_config import plant_folders

    settings = settings or get_settings()
    return [folder.name for folder in plant_folders(settings.plants_dir)]


def require_plant(plant_id: str, settings: Settings | None = None) -> Path:
    """The plant's folder, or an error listing the plants there are."""
    settings = settings or get_settings()
    folder = settings.plants_dir / plant_id
    if not folder.is_dir():
        known = ", ".join(known_plant_ids(settings)) or "none"
        fail(f"unknown plant {plant_id!r}: no folder {folder}",
             f"known plants: {known}. Onboard a new one with `plant-assets plant init {plant_id} --sample <export>`.")
    return folder


def require_warehouse(settings: Settings | None = None) -> Path:
    """The DuckDB warehouse file, or an error saying how to create it (never an empty new file)."""
    settings = settings or get_settings()
    if not settings.duckdb_path.exists():
        fail(f"no warehouse at {settings.duckdb_path}", NO_STATE_HINT)
    return settings.duckdb_path


def require_mlflow_store(tracking_uri: str) -> str:
    """A SQLite tracking URI must name an existing store (MLflow would silently create an empty one)."""
    if tracking_uri.startswith("sqlite:///"):
        path = Path(tracking_uri.removeprefix("sqlite:///"))
        if not path.exists():
            fail(f"no MLflow store at {path}", f"{NO_STATE_HINT}; or pass --tracking-uri / set MLFLOW_TRACKING_URI")
    return tracking_uri


def connect_warehouse(read_only: bool = True):
    """A DuckDB connection to the existing warehouse; a lock held by a running pipeline is an error
    with a hint, not a traceback."""
    import duckdb

    path = require_warehouse()
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        fail(f"cannot open the warehouse {path}: {str(exc).splitlines()[0]}",
             "another process (a pipeline run, dbt, the UI's runs) holds it; retry when it has finished, "
             "or query the analysts' copy (docs/analysts.md)")
