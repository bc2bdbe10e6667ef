"""`plant-assets report <plant>`: a one-page scorecard for a plant manager (HTML with embedded PNG plots).
Registered as a command (plant_assets/cli/__init__.py): `app.command("report")(report.report)`."""

from __future__ import annotations

from pathlib import Path

import typer

from plant_assets.cli.common import connect_warehouse, console, require_plant


def render_report(con, plant_id: str, out_dir: Path, plant_name: str | None = None) -> Path:
    """Write <out_dir>/<plant>_scorecard.html: scorecard figures, energy intensity vs baseline, cumulative
    savings with their band, and the alerts; plots embedded as PNG. Reads actions.* only."""
    import base64
    import html
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    def table(sql: str) -> pd.DataFrame:
        try:
            return con.execute(sql, [plant_id]).df()
        except Exception:
            return pd.DataFrame()

    card = table("select * from actions.rollout_scorecard where plant_id = ?")
    perf = table("select * from actions.energy_performance where plant_id = ? order by production_date")
    savings = table("select * from actions.energy_savings where plant_id = ? order by production_date")
    alerts = table("select alert_id, kind, severity, status, first_seen_date, last_seen_date, title, owner, "
                   "recommended_action from actions.alerts where plant_id = ? order by raised_at desc")

    def png(fig) -> str:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'

    plots = []
    if len(perf):
        fig, ax = plt.subplots(figsize=(7, 2.6))
        ax.plot(perf["production_date"], perf["actual_kwh_per_unit"], marker="o", label="actual")
        ax.plot(perf["production_date"], perf["expected_kwh_per_unit"], ls="--", label="baseline (champion)")
        ax.set_title("Energy per unit (kWh/unit)")
        ax.legend()
        fig.autofmt_xdate()
        plots.append(png(fig))
    if len(savings):
        fig, ax = plt.subplots(figsize=(7, 2.6))
        c, u = savings["cumulative_savings_kwh"], savings["uncertainty_kwh"]
        ax.plot(savings["production_date"], c, color="green", label="cumulative savings")
        ax.fill_between(savings["production_date"], c - u, c + u, color="green", alpha=0.2, label="95 % band")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_title("Measured savings (kWh, IPMVP avoided energy)")
        ax.legend()
        fig.autofmt_xdate()
        plots.append(png(fig))

    labels = {
        "onboarding_date": "Onboarded (first export)", "days_first_export_to_first_kpi": "Days from first export to first KPI",
        "tag_map_coverage": "Tag-map coverage of the canonical catalog", "quarantined_share": "Rows quarantined",
        "gate_pass_rate": "Data-quality gate pass rate", "model_validation": "Energy model validation",
        "model_adjustment_cv_rmse_points": "Model adjustment before go-live (CV(RMSE) points)",
        "days_to_first_measurable_improvement": "Days to first measurable improvement",
        "cumulative_savings_kwh": "Cumulative savings (kWh)", "savings_uncertainty_kwh": "± uncertainty (kWh)",
        "alerts": "Alerts raised", "alert_ack_rate": "Alerts acknowledged", "median_hours_to_ack": "Median hours to acknowledge",
    }
    percent = {"tag_map_coverage", "quarantined_share", "gate_pass_rate", "alert_ack_rate"}

    def fmt(key, value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "–"
        if key in percent:
            return f"{value:.0%}"
        if isinstance(value, float):
            return f"{value:,.1f}"
        return html.escape(str(value))

    figures = "".join(
        f"<tr><th>{labels[k]}</th><td>{fmt(k, card.iloc[0][k])}</td></tr>" for k in labels if len(card) and k in card
    ) or "<tr><td>no scorecard yet: run the rollout_scorecard asset</td></tr>"
    alert_rows = "".join(
        f"<tr><td>{html.escape(str(r.severity))}</td><td>{html.escape(str(r.status))}</td><td>{html.escape(r.title)}</td>"
        f"<td>{html.escape(str(r.owner))}</td><td>{html.escape(r.recommended_action)}</td></tr>"
        for r in alerts.head(10).itertuples()
    ) or "<tr><td colspan=5>no alerts</td></tr>"
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(plant_id)} scorecard</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:1em auto}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}} .plots img{{width:48%}}</style></head>
<body><h1>{html.escape(plant_name or plant_id)}: rollout scorecard</h1>
<table>{figures}</table><div class="plots">{''.join(plots)}</div>
<h2>Latest alerts</h2><table><tr><th>severity</th><th>status</th><th>alert</th><th>owner</th><th>what to do</th></tr>{alert_rows}</table>
</body></html>"""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{plant_id}_scorecard.html"
    path.write_text(page)
    return path


def report(
    plant: str = typer.Argument(..., help="Plant id (folder name under plants/)."),
    out: Path = typer.Option(None, file_okay=False, help="Folder for the HTML page (default: <home>/reports)."),
) -> None:
    """Render a plant's one-page scorecard (figures, energy-intensity and savings trends, alerts) as HTML.

    Example: plant-assets report plant_a --out reports/
    """
    from plant_assets.core.settings import get_settings

    settings = get_settings()
    require_plant(plant, settings)
    con = connect_warehouse(read_only=True)
    try:
        path = render_report(con, plant, out or settings.reports_dir)
    finally:
        con.close()
    console.print(f"scorecard: {path}")
