"""`plant-assets plant ...`: onboarding and validation of plant folders (plants/<id>/)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from plant_assets.cli.common import console, fail, parse_day, require_plant
from plant_assets.core.settings import get_settings

app = typer.Typer(
    help="Plant onboarding: scaffold (init), validate and check readiness of a plant folder (plants/<id>/).\n\n"
    "Example: plant-assets plant init plant_d --sample exports/plant_d_2026-09-07.csv",
    no_args_is_help=True,
)


@app.command("validate")
def plant_validate(plant_id: str = typer.Argument(None, help="Plant id (folder name); all plants when omitted.")) -> None:
    """Validate plants/<id>/plant.yaml and tag_map.csv; errors name the file, line and reason.

    Beyond the schema: the dialect's option values, an empty tag map, and the last landing exports (a file
    that cannot be read, or of which no record is accepted), as `plant readiness` would find them.
    Exits 1 when a plant is invalid, so CI can run it on every change to plants/.

    Example: plant-assets plant validate plant_a
    """
    from plant_assets.core.plant_config import validate_plants
    from plant_assets.onboarding import plant_problems

    settings = get_settings()
    if plant_id:
        require_plant(plant_id, settings)
    good, bad = validate_plants(settings.plants_dir)
    if plant_id:
        good = {k: v for k, v in good.items() if k == plant_id}
        bad = {k: v for k, v in bad.items() if k == plant_id}
    for pid, plant in list(good.items()):
        problems = plant_problems(plant, plant.landing_path(settings.landing_dir))
        if problems:
            bad[pid] = "\n".join(f"  {p}" for p in problems)
            del good[pid]
    for pid, plant in good.items():
        console.print(f"[green]ok[/green] {pid}: {plant.name}, {plant.historian.dialect}, {len(plant.tag_map)} tags, {plant.timezone}")
    for pid, error in bad.items():
        console.print(f"[red]invalid[/red] {escape(pid)}:\n{escape(error)}")
    if bad:
        fail(f"{len(bad)} invalid plant config(s): {', '.join(sorted(bad))}",
             "fix each file and line named above (docs/onboarding.md), then validate again")
    if not good:
        fail(f"no plant folder in {settings.plants_dir}",
             "onboard one with `plant-assets plant init <id> --sample <export>`, or set PLANT_ASSETS_PLANTS")


@app.command("init")
def plant_init(
    plant_id: str = typer.Argument(..., help="New plant id: lower case, digits, underscores (e.g. plant_d)."),
    sample: Path = typer.Option(..., "--sample", exists=True, dir_okay=False,
                                help="One day's historian export (an existing file)."),
    dialect: str = typer.Option("generic", help="Historian dialect of the sample."),
    timezone: str = typer.Option("UTC", help="Plant IANA time zone, e.g. Europe/Berlin."),
    options: str = typer.Option("{}", help='Dialect options as JSON, e.g. \'{"delimiter": ";"}\'.'),
    name: str = typer.Option(None, help="Plant display name."),
    day: str = typer.Option(None, help="Plant-local day of the sample (ISO); default: the date in its file name."),
    min_confidence: float = typer.Option(0.5, help="Suggestions below this confidence stay out of tag_map.csv."),
    force: bool = typer.Option(False, help="Overwrite an existing plant folder's files."),
) -> None:
    """Scaffold plants/<id>/ from a sample export and draft its tag map (confirm or edit it, then validate).

    Example: plant-assets plant init plant_d --sample exports/plant_d_2026-09-07.csv --dialect generic --timezone Europe/Berlin
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from plant_assets.core.plant_config import plant_id_problem
    from plant_assets.ingest.contract import DialectConfigError
    from plant_assets.ingest.dialects import DIALECTS
    from plant_assets.onboarding import scaffold_plant

    if dialect not in DIALECTS:
        raise typer.BadParameter(f"unknown dialect {dialect!r}; use one of {', '.join(DIALECTS)}", param_hint="--dialect")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"{timezone!r} is not an IANA time zone; e.g. Europe/Berlin, America/Chicago, UTC",
                                 param_hint="--timezone") from None
    try:
        opts = json.loads(options)
    except ValueError as exc:
        opts = exc
    if not isinstance(opts, dict):
        raise typer.BadParameter(f"{options!r} is not a JSON object; e.g. '{{\"delimiter\": \";\"}}'",
                                 param_hint="--options")
    sample_day = parse_day(day, "--day")
    if plant_id_problem(plant_id):
        fail(plant_id_problem(plant_id), "choose an id such as plant_d")
    settings = get_settings()
    try:
        folder, suggestions, read = scaffold_plant(
            settings.plants_dir, plant_id, sample, dialect, timezone, opts, name, sample_day, min_confidence, force,
        )
    except FileExistsError as exc:
        fail(str(exc), f"pass --force to overwrite plants/{plant_id}/, or choose another plant id")
    except (ValueError, FileNotFoundError, DialectConfigError) as exc:  # the sample does not read as the dialect
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
             "check --dialect and --options against the sample (docs/onboarding.md lists each dialect's options)")
    table = Table(title=f"Drafted tag map for {plant_id} ({len(read.tags)} tags in {sample.name}, day {read.day})")
    for col in ("source_tag", "signal", "unit", "asset", "rollover", "confidence", "runner-up", "why"):
        table.add_column(col)
    for s in suggestions:
        colour = "green" if s.confidence >= 0.75 else "yellow" if s.confidence >= min_confidence else "red"
        table.add_row(s.source_tag, s.signal or "-", s.source_unit or "-", s.asset_id or "-",
                      "" if s.rollover is None else f"{s.rollover:g}", f"[{colour}]{s.confidence:.2f}[/{colour}]",
                      s.runner_up or "", "; ".join(s.reasons))
    console.print(table)
    if read.reasons:
        console.print(f"[yellow]sample rows not read: {read.reasons}[/yellow]")
    console.print(f"wrote {folder}/plant.yaml, tag_map.csv, tag_map.review.csv. Next: fill the TODOs, check the "
                  f"tag map, then `plant-assets plant validate {plant_id}` and `plant-assets plant readiness {plant_id}`.")


@app.command("readiness")
def plant_readiness(
    plant_id: str = typer.Argument(..., help="Plant id (folder name)."),
    day: list[str] = typer.Option(None, "--day", help="Day(s) to check (ISO); default: the last 3 with exports."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Which canonical signals and KPIs this plant can compute, what is missing, and rows that failed to parse.

    Example: plant-assets plant readiness plant_a --day 2026-09-07
    """
    from plant_assets.core.plant_config import PlantConfigError, load_plant
    from plant_assets.onboarding import readiness
    from plant_assets.onboarding.plant_checks import webhook_problem

    settings = get_settings()
    days = [parse_day(d, "--day") for d in day] if day else None
    folder = require_plant(plant_id, settings)
    try:
        plant = load_plant(folder)
    except PlantConfigError as exc:
        console.print(f"[red]invalid[/red] {plant_id}:\n{escape(str(exc))}")
        fail(f"plant {plant_id} has an invalid config", f"fix the files and lines named above, then "
             f"`plant-assets plant validate {plant_id}`")
    report = readiness(plant, plant.landing_path(settings.landing_dir), days)
    webhook = webhook_problem(plant)
    if as_json:
        console.print_json(json.dumps({
            "plant_id": report.plant_id, "signals": report.signals, "missing_signals": report.missing_signals,
            "kpis": [k.__dict__ for k in report.kpis], "exports": report.exports, "parse": report.parse,
            "webhook_problem": webhook,
        }, default=str))
        return
    if webhook:
        console.print(f"[red]webhook refused[/red] {escape(webhook)}")
    table = Table(title=f"{plant_id}: canonical signals per asset")
    table.add_column("asset")
    table.add_column("mapped")
    table.add_column("missing")
    for asset in sorted(set(report.signals) | set(report.missing_signals)):
        table.add_row(asset, ", ".join(sorted(report.signals.get(asset, {}))),
                      f"[red]{', '.join(report.missing_signals.get(asset, []))}[/red]")
    console.print(table)
    kpis = Table(title="KPIs")
    for col in ("kpi", "status", "missing"):
        kpis.add_column(col)
    colours = {"ready": "green", "partial": "yellow", "missing": "red"}
    for k in report.kpis:
        kpis.add_row(k.kpi, f"[{colours[k.status]}]{k.status}[/{colours[k.status]}]", "; ".join(k.missing))
    console.print(kpis)
    p = report.parse
    console.print(f"exports checked for days {p['days'] or 'none found'}: "
                  + ", ".join(f"{s} {len(f)} file(s)" for s, f in report.exports.items()))
    console.print(f"historian records: {p['raw']} raw = {p['accepted']} accepted + {p['quarantined']} quarantined; "
                  f"reasons {p['reasons']}")
    for detail, n in list(p["unmapped_tags"].items())[:10]:
        console.print(f"  [yellow]unmapped[/yellow] {detail} ({n} records)")
    for row in p["failed_rows"]:
        console.print(f"  [red]{row['reason_code']}[/red] {row['source_file']}:{row['source_line']}: "
                      f"{row['reason_detail']}  | {row['raw_record'][:120]}")
