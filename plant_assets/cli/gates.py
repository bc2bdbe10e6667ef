"""`plant-assets gates ...`: the data-quality gates' Data Docs."""

import typer

from plant_assets.cli.common import console

app = typer.Typer(help="Data-quality gates (Great Expectations).\n\nExample: plant-assets gates docs", no_args_is_help=True)


@app.command("docs")
def docs() -> None:
    """Render Great Expectations Data Docs for every stored gate result and print where they are.

    Example: plant-assets gates docs
    """
    from plant_assets.quality.suites import build_docs_site

    with console.status("rendering Data Docs"):
        url = build_docs_site()
    console.print(f"Data Docs: {url}")
