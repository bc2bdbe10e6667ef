"""`plant-assets plant ...`: onboarding and validation of plant folders (plants/<id>/)."""

import typer

from plant_assets.cli.common import console
from plant_assets.settings import get_settings

app = typer.Typer(help="Plant onboarding: validate a plant folder (plants/<id>/).", no_args_is_help=True)


@app.command("validate")
def plant_validate(plant_id: str = typer.Argument(None, help="Plant id (folder name); all plants when omitted.")) -> None:
    """Validate plants/<id>/plant.yaml and tag_map.csv; errors name the file, line and reason."""
    from plant_assets.config import validate_plants

    settings = get_settings()
    good, bad = validate_plants(settings.plants_dir)
    if plant_id:
        if plant_id not in good and plant_id not in bad:
            console.print(f"[red]no plant folder {settings.plants_dir / plant_id}[/red]")
            raise typer.Exit(2)
        good = {k: v for k, v in good.items() if k == plant_id}
        bad = {k: v for k, v in bad.items() if k == plant_id}
    for pid, plant in good.items():
        console.print(f"[green]ok[/green] {pid}: {plant.name}, {plant.historian.dialect}, {len(plant.tag_map)} tags, {plant.timezone}")
    for pid, error in bad.items():
        console.print(f"[red]invalid[/red] {pid}:\n{error}")
    if bad:
        raise typer.Exit(1)
