"""Shared by every command group: the consoles, clear errors with a hint at the fix, and the checks
that turn a missing plant, state or model into such an error instead of a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from plant_assets.core.settings import Settings, get_settings

console = Console()
# Errors go to stderr, so `--json` output on stdout stays parseable.
err_console = Console(stderr=True)

# What to run when the state a command reads does not exist yet.
NO_STATE_HINT = ("run `make demo` (or `plant-assets demo`) first, or point PLANT_ASSETS_HOME at the state "
                 "folder of an earlier run")


def fail(message: str, hint: str, exit_code: int = 1) -> NoReturn:
    """Print `Error: <message>` and `Hint: <hint>` on stderr and exit with `exit_code`."""
    # Escaped: a message may quote a pattern such as [a-z0-9_], which rich would take for markup and drop.
    err_console.print(f"[bold red]Error:[/bold red] {escape(message)}", soft_wrap=True, highlight=False)
    err_console.print(f"[bold]Hint:[/bold] {escape(hint)}", soft_wrap=True, highlight=False)
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
    """The plant's folder, or an error listing the plants there are. The id is checked before any path is
    built from it: `../evil` never reads outside the plants folder."""
    from plant_assets.core.plant_config import plant_id_problem

    settings = settings or get_settings()
    problem = plant_id_problem(plant_id)
    if problem:
        fail(problem, "name the plant by its folder in the plants folder, e.g. plant_a "
             "(`plant-assets plant validate` lists them)")
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


@contextmanager
def tools_log(settings: Settings, name: str) -> Iterator[tuple[Console, Path]]:
    """Send what the tools print (dbt's log, MLflow's and Dagster's INFO lines, their subprocesses) to
    <home>/logs/<name>-<time>.log, and yield a console on the terminal for the steps and progress bars.

    Only when this process writes to its real stdout: under a test runner's capture nothing is redirected."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = settings.home / "logs" / f"{name}-{stamp}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    if sys.stdout is not sys.__stdout__ or sys.stderr is not sys.__stderr__:
        yield console, path
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    try:
        with path.open("ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield Console(file=terminal, force_terminal=console.is_terminal, width=console.width), path
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        terminal.close()


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a tools log, for a failure message."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
