"""The short summary `make demo` prints: KPIs per plant, alerts, models, and where to look next."""

from __future__ import annotations

import duckdb
from rich.console import Console
from rich.table import Table

from plant_assets.core.settings import Settings


def kpi_table(con: duckdb.DuckDBPyConnection) -> Table:
    rows = con.execute(
        """
        select plant_id,
               count(distinct production_date) as days,
               sum(value) filter (where kpi = 'energy_kwh') as energy_kwh,
               sum(value) filter (where kpi = 'units_produced') as units,
               sum(value) filter (where kpi = 'energy_kwh') / nullif(sum(value) filter (where kpi = 'units_produced'), 0)
                   as kwh_per_unit
        from marts.kpi_daily group by plant_id order by plant_id
        """
    ).fetchall()
    table = Table(title="KPIs per plant over the window (marts.kpi_daily)")
    for column in ("plant", "days", "energy kWh", "units", "kWh/unit"):
        table.add_column(column, justify="right" if column != "plant" else "left")
    for plant_id, days, energy, units, intensity in rows:
        table.add_row(plant_id, str(days), f"{energy:,.0f}", f"{units:,.0f}", f"{intensity:.4f}")
    return table


def alerts_table(con: duckdb.DuckDBPyConnection) -> Table:
    table = Table(title="Alerts raised (actions.alerts)")
    for column in ("plant", "day", "kind", "severity", "owner role", "vs baseline"):
        table.add_column(column)
    try:
        rows = con.execute(
            """select plant_id, production_date, kind, severity, owner_role, evidence->>'deviation'
               from actions.alerts order by plant_id, production_date"""
        ).fetchall()
    except duckdb.CatalogException:
        rows = []
    for plant_id, day, kind, severity, role, deviation in rows:
        table.add_row(plant_id, str(day), kind, severity, role, f"{float(deviation):+.0%}" if deviation else "")
    if not rows:
        table.add_row("-", "-", "none", "", "", "")
    return table


def models_table(tracking_uri: str) -> Table:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    table = Table(title="Registered models (MLflow)")
    for column in ("model", "versions", "@champion", "@challenger"):
        table.add_column(column)
    for model in sorted(client.search_registered_models(), key=lambda m: m.name):
        versions = client.search_model_versions(f"name = '{model.name}'")
        aliases = model.aliases or {}
        table.add_row(model.name, str(len(versions)), str(aliases.get("champion", "-")), str(aliases.get("challenger", "-")))
    return table


def print_summary(settings: Settings, console: Console | None = None) -> None:
    console = console or Console()
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        console.print(kpi_table(con))
        console.print(alerts_table(con))
    console.print(models_table(settings.mlflow_tracking_uri))
    console.print(
        "\n[bold]Where to look next[/bold]\n"
        "  Dagster UI and MLflow UI:   make ui   (Dagster http://127.0.0.1:3000, MLflow http://127.0.0.1:5000)\n"
        f"  Query the analyst database: .venv/bin/python -c \"import duckdb; print(duckdb.connect('{settings.analyst_duckdb_path}', read_only=True).sql('from marts.kpi_daily limit 10'))\"\n"
        f"  or with the DuckDB CLI:     duckdb -readonly {settings.analyst_duckdb_path} \"from marts.kpi_daily\"  (docs/analysts.md)\n"
        f"  Simulator ground truth:     {settings.truth_dir}\n"
    )
