"""`plant-assets`: the command line for demo, plants and the pipeline."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import typer
from plant_assets.settings import get_settings

from plant_assets.cli.common import console

app = typer.Typer(help="plant-assets: one industrial data and ML use case, rolled out across many plants.", no_args_is_help=True)

DEMO_START = date(2026, 9, 7)
DEMO_DAYS = 28


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    console.print("[yellow]DAGSTER_HOME is not set: runs go to a temporary instance the UI will not show.[/yellow]")
    return dg.DagsterInstance.ephemeral()


@app.command()
def simulate(
    start: str = typer.Option(DEMO_START.isoformat(), help="First production day (plant-local)."),
    days: int = typer.Option(DEMO_DAYS, min=1, help="Number of days to simulate."),
) -> None:
    """Write the demo plants' historian and MES exports into their landing folders, plus ground truth."""
    from plant_assets.config import load_plants
    from plant_assets.simulator import simulate_plants

    settings = get_settings()
    plants = load_plants(settings.plants_dir)
    demo_plants = {pid: p for pid, p in plants.items() if p.simulation}
    with console.status(f"simulating {len(demo_plants)} plants x {days} days"):
        summary = simulate_plants(demo_plants, date.fromisoformat(start), days, settings.landing_dir, settings.truth_dir)
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


@app.command()
def run(
    first_day: str = typer.Option(DEMO_START.isoformat(), help="First production day to materialize."),
    last_day: str = typer.Option((DEMO_START + timedelta(days=DEMO_DAYS - 1)).isoformat(), help="Last day (inclusive)."),
    train: bool = typer.Option(True, help="Train and register the per-plant energy models."),
) -> None:
    """Materialize the nightly graph (ingest, gates, dbt, training, scoring, alerts) for a window of days."""
    from rich.progress import Progress

    from plant_assets.config import validate_plants
    from plant_assets.pipeline import day_range, run_window

    settings = get_settings()
    settings.export_env()
    plants, invalid = validate_plants(settings.plants_dir)
    for plant_id, error in invalid.items():
        console.print(f"[red]plant {plant_id} skipped:[/red] {error}")
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    from plant_assets.definitions import defs

    steps = len(day_range(first, last)) * len(plants) + len(plants) + 3
    with Progress(console=console) as progress:
        task = progress.add_task("nightly graph", total=steps)

        def advance(message: str) -> None:
            progress.update(task, advance=1, description=message)

        report = run_window(defs, _instance(), sorted(plants), first, last, train=train, progress=advance)
    if report.gate_failures:
        console.print(f"[yellow]data-quality gate failed for {len(report.gate_failures)} plant-day(s):[/yellow] {report.gate_failures}")
    for key, error in {**report.ingest_failures, **report.training_failures}.items():
        console.print(f"[red]{key} failed:[/red] {error}")
    console.print(f"{report.runs} Dagster runs recorded.")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def summary() -> None:
    """Print KPIs per plant, alerts raised, registered models and where to look next."""
    from plant_assets.summary import print_summary

    print_summary(get_settings(), console)


@app.command()
def demo(
    days: int = typer.Option(DEMO_DAYS, min=3, help="Length of the demo window in days."),
) -> None:
    """Simulate the three demo plants, materialize the whole graph for the demo window, print a summary."""
    simulate(start=DEMO_START.isoformat(), days=days)
    run(first_day=DEMO_START.isoformat(), last_day=(DEMO_START + timedelta(days=days - 1)).isoformat(), train=True)
    summary()


@app.command("dbt-parse")
def dbt_parse() -> None:
    """Parse the dbt project so Dagster can load its manifest."""
    from plant_assets.defs.standardize.project import dbt_project, ensure_manifest

    get_settings().export_env()
    console.print(f"manifest: {ensure_manifest(dbt_project())}")


def _register_command_groups() -> None:
    """Each command group lives in its own module: plant_assets/cli/<group>.py."""
    from plant_assets.cli import gates, models, plant

    app.add_typer(plant.app, name="plant")
    app.add_typer(models.app, name="models")
    app.add_typer(gates.app, name="gates")
    from plant_assets.cli import alerts; app.add_typer(alerts.app, name="alerts")  # noqa: E702
    from plant_assets.cli import report; app.command("report")(report.report)  # noqa: E702


_register_command_groups()

if __name__ == "__main__":
    app()
