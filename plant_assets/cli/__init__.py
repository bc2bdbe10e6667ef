"""`plant-assets`: the command line for demo, plants and the pipeline."""

from __future__ import annotations

import os
from datetime import date, timedelta

import typer

from plant_assets.cli.common import (
    console,
    fail,
    log_tail,
    parse_day,
    require_plant,
    require_warehouse,
    tools_log,
)
from plant_assets.core.settings import get_settings

app = typer.Typer(
    help="plant-assets: one industrial data and ML use case, rolled out across many plants.\n\n"
    "Start with `plant-assets demo` (simulate the demo plants, run the whole graph, print a summary); "
    "then `plant` to onboard plants, `models` for model governance, `alerts` for the alert lifecycle and "
    "`report` for a plant's scorecard. Every command has --help with an example.\n\n"
    "Example: plant-assets demo --days 14",
    no_args_is_help=True,
)

# Help panels: the command tree as a user meets it.
START, PIPELINE, OPERATE = "Start here", "Pipeline steps", "Plants, models, alerts, reports"

DEMO_START = date(2026, 9, 7)
DEMO_DAYS = 28


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    console.print("[yellow]DAGSTER_HOME is not set: runs go to a temporary instance the UI will not show.[/yellow]")
    return dg.DagsterInstance.ephemeral()


@app.command(rich_help_panel=START)
def demo(
    days: int = typer.Option(DEMO_DAYS, min=3, help="Length of the demo window in days."),
) -> None:
    """Simulate the three demo plants, materialize the whole graph for the demo window, print a summary.

    Safe to re-run: every step is idempotent. `make demo` runs this after setting up the venv.

    Example: plant-assets demo --days 14
    """
    console.rule(f"[bold]1/3 simulate {days} days")
    simulate(start=DEMO_START.isoformat(), days=days)
    console.rule("[bold]2/3 run the nightly graph")
    run(first_day=DEMO_START.isoformat(), last_day=(DEMO_START + timedelta(days=days - 1)).isoformat(), plant=None,
        train=True)
    console.rule("[bold]3/3 summary")
    summary()


@app.command(rich_help_panel=START)
def summary() -> None:
    """Print KPIs per plant, alerts raised, registered models and where to look next.

    Example: plant-assets summary
    """
    from plant_assets.cli.summary import print_summary

    settings = get_settings()
    require_warehouse(settings)
    print_summary(settings, console)


@app.command(rich_help_panel=PIPELINE)
def simulate(
    start: str = typer.Option(DEMO_START.isoformat(), help="First production day (plant-local), YYYY-MM-DD."),
    days: int = typer.Option(DEMO_DAYS, min=1, help="Number of days to simulate."),
) -> None:
    """Write the demo plants' historian and MES exports into their landing folders, plus ground truth.

    Only plants with a `simulation:` section in their plant.yaml are simulated.

    Example: plant-assets simulate --start 2026-09-07 --days 7
    """
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from plant_assets.core.plant_config import validate_plants
    from plant_assets.simulator import simulate_plants

    first = parse_day(start, "--start")
    settings = get_settings()
    plants, invalid = validate_plants(settings.plants_dir)
    for plant_id, error in invalid.items():
        console.print(f"[yellow]plant {plant_id} skipped, its config is invalid[/yellow] "
                      f"(see `plant-assets plant validate {plant_id}`)")
    demo_plants = {pid: p for pid, p in plants.items() if p.simulation}
    if not demo_plants:
        fail(f"no plant in {settings.plants_dir} has a `simulation:` section",
             "simulate needs the demo plants (plants/plant_a..c) or a plant.yaml with a `simulation:` section; "
             "set PLANT_ASSETS_PLANTS to their folder")
    # The simulator reports nothing until it is done: a pulsing bar with the elapsed time.
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        progress.add_task(f"simulating {len(demo_plants)} plants x {days} days", total=None)
        summary = simulate_plants(demo_plants, first, days, settings.landing_dir, settings.truth_dir)
    from rich.table import Table

    table = Table(title=f"Simulated {days} days from {start} in {summary['seconds']:.1f} s")
    for column in ("plant", "dialect", "files", "historian rows", "runs", "downtime events"):
        table.add_column(column, justify="left" if column in ("plant", "dialect") else "right")
    for plant_id, info in summary["plants"].items():
        table.add_row(
            plant_id, demo_plants[plant_id].historian.dialect, str(len(info["files"])), f"{info['historian_rows']:,}",
            str(info["production_runs"]), str(info["downtime_events"]),
        )
    console.print(table)
    console.print(f"exports in {settings.landing_dir}, ground truth in {settings.truth_dir}")


def _selected_plants(plant_ids: list[str] | None) -> list[str]:
    """The plants to run: the valid ones, or those named (each must exist and be valid)."""
    from plant_assets.core.plant_config import validate_plants

    settings = get_settings()
    plants, invalid = validate_plants(settings.plants_dir)
    for plant_id in plant_ids or []:
        require_plant(plant_id, settings)
        if plant_id in invalid:
            fail(f"plant {plant_id} has an invalid config", f"see `plant-assets plant validate {plant_id}`")
    if not plant_ids:
        for plant_id in invalid:
            console.print(f"[yellow]plant {plant_id} skipped, its config is invalid[/yellow] "
                          f"(see `plant-assets plant validate {plant_id}`)")
    selected = sorted(plant_ids or plants)
    if not selected:
        fail(f"no valid plant in {settings.plants_dir}",
             "onboard one with `plant-assets plant init <id> --sample <export>`, or set PLANT_ASSETS_PLANTS")
    return selected


@app.command(rich_help_panel=PIPELINE)
def run(
    first_day: str = typer.Option(DEMO_START.isoformat(), "--first-day", "--from",
                                  help="First production day to materialize, YYYY-MM-DD."),
    last_day: str = typer.Option((DEMO_START + timedelta(days=DEMO_DAYS - 1)).isoformat(), "--last-day", "--to",
                                 help="Last day (inclusive), YYYY-MM-DD."),
    plant: list[str] = typer.Option(None, "--plant", help="Only this plant (repeatable); default: every valid plant."),
    train: bool = typer.Option(True, help="Train and register every use case's per-plant models (the train_models job)."),
) -> None:
    """Materialize the nightly graph (ingest, gates, dbt, training, scoring, alerts) for a window of days.

    A backfill from the command line: each plant-day is one Dagster run in the instance at DAGSTER_HOME
    (the UI shows them). Exports must be in the landing folders (`plant-assets simulate` for the demo).

    A plant's history (a yearly export in its landing folder) backfills the same way, from its
    `history_start` on: plant-assets run --plant plant_x --from 2018-01-01 --to 2018-12-31

    Example: plant-assets run --first-day 2026-09-07 --last-day 2026-09-09 --plant plant_a
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from plant_assets.defs.run_window import day_range, run_window

    first, last = parse_day(first_day, "--first-day"), parse_day(last_day, "--last-day")
    if last < first:
        raise typer.BadParameter(f"{last_day} is before --first-day {first_day}", param_hint="--last-day")
    plant_ids = _selected_plants(plant)
    settings = get_settings()
    settings.export_env()
    from plant_assets.definitions import defs
    from plant_assets.defs.partitions import FIRST_PRODUCTION_DAY

    if first.isoformat() < FIRST_PRODUCTION_DAY:
        fail(f"--first-day {first} is before the first day partition {FIRST_PRODUCTION_DAY}",
             "set `history_start: <first day of its exports>` in the plant's plant.yaml")

    # run_window announces each step before it starts: registry, every plant-day, dbt, training, actions.
    steps = 1 + len(day_range(first, last)) * len(plant_ids) + 1 + (len(plant_ids) if train else 0) + 1
    columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with tools_log(settings, "run") as (terminal, log_path):
        terminal.print(f"dbt, MLflow and Dagster log to {log_path}")
        with Progress(*columns, console=terminal) as progress:
            task = progress.add_task("nightly graph", total=steps)
            started = []

            def advance(message: str) -> None:
                progress.update(task, advance=1 if started else 0, description=message)
                started.append(message)

            try:
                report = run_window(defs, _instance(), plant_ids, first, last, train=train, progress=advance,
                                    notice=lambda line: terminal.print(line, style="yellow", markup=False, highlight=False))
            except Exception as exc:  # a step that raises (dbt build, ...) stops the window: say where
                if os.environ.get("PLANT_ASSETS_DEBUG"):
                    raise
                error = exc
            else:
                error = None
                progress.update(task, completed=steps, description="done")
    if error is not None:
        tail = log_tail(log_path)
        if tail:
            console.print(f"[dim]last lines of {log_path}:[/dim]")
            console.print(tail, highlight=False, markup=False)
        fail(f"the nightly graph stopped at step {started[-1] if started else 'start'!r}: "
             f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}",
             f"the full log is {log_path}; the Dagster run's logs have the details (`make ui`, Runs); "
             "PLANT_ASSETS_DEBUG=1 shows the traceback")
    if report.gate_failures:
        console.print(f"[yellow]data-quality gate failed for {len(report.gate_failures)} plant-day(s):[/yellow] {report.gate_failures}")
    for key, failure in {**report.ingest_failures, **report.training_failures}.items():
        console.print(f"[red]{key} failed:[/red] {failure}")
    console.print(f"{report.runs} Dagster runs recorded.")
    if not report.ok:
        fail(f"{len(report.ingest_failures)} ingest and {len(report.training_failures)} training run(s) failed",
             "the lines above name each failed step; inspect the runs in the Dagster UI (`make ui`)")


@app.command("dbt-parse", rich_help_panel=PIPELINE)
def dbt_parse() -> None:
    """Parse the dbt project so Dagster can load its manifest (`make install` runs it once).

    Example: plant-assets dbt-parse
    """
    from plant_assets.standardize.dbt_build import ensure_manifest

    get_settings().export_env()
    console.print(f"manifest: {ensure_manifest()}")


def _register_command_groups() -> None:
    """Each command group lives in its own module: plant_assets/cli/<group>.py."""
    from plant_assets.cli import alerts, gates, models, plant, report

    app.add_typer(plant.app, name="plant", rich_help_panel=OPERATE)
    app.add_typer(models.app, name="models", rich_help_panel=OPERATE)
    app.add_typer(alerts.app, name="alerts", rich_help_panel=OPERATE)
    app.command("report", rich_help_panel=OPERATE)(report.report)
    app.add_typer(gates.app, name="gates", rich_help_panel=OPERATE)


_register_command_groups()

if __name__ == "__main__":
    app()
