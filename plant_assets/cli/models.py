"""`plant-assets models ...`: model governance in MLflow (list, approve, reject, rollback).

Decisions are recorded as tags on the model version (who, when, why); aliases move in the registry.
The tracking store is MLFLOW_TRACKING_URI (SQLite by default, or an `mlflow server` URL).
"""

from __future__ import annotations

import typer

from plant_assets.cli.common import console, fail, require_mlflow_store
from plant_assets.core.settings import get_settings

app = typer.Typer(
    help="Model governance: champion / challenger per use case and plant (MLflow registry).\n\n"
    "Example: plant-assets models list --use-case energy_baseline",
    no_args_is_help=True,
)


def _client(tracking_uri: str | None):
    from mlflow import MlflowClient

    uri = require_mlflow_store(tracking_uri or get_settings().mlflow_tracking_uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _require_version(client, model: str, version: str | None = None) -> None:
    """The registered model (and version) must exist; otherwise say which ones do."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(model)
    except MlflowException:
        names = sorted(m.name for m in client.search_registered_models(max_results=1000))
        fail(f"no registered model {model!r}",
             f"registered models: {', '.join(names) or 'none'} (`plant-assets models list`)")
    if version is None:
        return
    versions = sorted((str(v.version) for v in client.search_model_versions(f"name = '{model}'")), key=int)
    if version not in versions:
        fail(f"{model} has no version {version!r}",
             f"its versions: {', '.join(versions) or 'none'}; `plant-assets models list` shows champion and challenger")


TRACKING = typer.Option(None, "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI).")
BY = typer.Option(..., "--by", help="Who decides (name or e-mail); recorded on the version.")
REASON = typer.Option(..., "--reason", help="Why; recorded on the version.")
MODEL = typer.Argument(..., help="Registered model, e.g. energy_baseline.plant_a")

# The headline metric shown per use case.
HEADLINE = {
    "energy_baseline": ("calibrated_cv_rmse_hourly", "CV(RMSE)"),
    "motor_health": ("calibrated_alert_days", "alert days"),
    "quality": ("calibrated_mae_scrap_share", "MAE scrap"),
}


def _fmt(metrics: dict, use_case: str) -> str:
    key, label = HEADLINE.get(use_case, ("", ""))
    if key not in metrics and key.endswith("_hourly"):  # an energy baseline at daily grain
        key, label = key.replace("_hourly", "_daily"), f"{label} (daily)"
    if key in metrics:
        return f"{label} {metrics[key]:.3f}"
    return ""


@app.command("list")
def list_models(
    use_case: str = typer.Option(None, "--use-case", help="Only this use case (energy_baseline, motor_health, quality)."),
    tracking_uri: str = TRACKING,
) -> None:
    """Per plant and use case: champion and challenger versions with their headline metrics.

    Example: plant-assets models list --use-case energy_baseline
    """
    from rich.table import Table

    from ml.governance import list_models as rows

    if use_case and use_case not in HEADLINE:
        raise typer.BadParameter(f"{use_case!r} is not a use case; use one of {', '.join(HEADLINE)}",
                                 param_hint="--use-case")

    table = Table(title="Registered models")
    for column in ("use case", "plant", "model", "champion", "champion metrics", "challenger", "challenger metrics"):
        table.add_column(column)
    for row in rows(_client(tracking_uri), use_case):
        table.add_row(
            row["use_case"], row["plant_id"], row["model"], f"v{row['champion']}" if row["champion"] else "-",
            _fmt(row["champion_metrics"], row["use_case"]), f"v{row['challenger']}" if row["challenger"] else "-",
            _fmt(row["challenger_metrics"], row["use_case"]),
        )
    console.print(table)


def _decide(decision: str, model: str, version: str, by: str, reason: str, tracking_uri: str | None, hint: str):
    """Run one governance decision (ml.governance.approve / reject) on an existing version; a refusal exits with `hint`."""
    from ml import governance

    client = _client(tracking_uri)
    _require_version(client, model, version)
    try:
        return getattr(governance, decision)(client, model, version, by, reason)
    except governance.GovernanceError as exc:
        fail(str(exc), hint)


@app.command("approve")
def approve(model: str = MODEL,
            version: str = typer.Argument(..., help="Version number (the current @challenger)"),
            by: str = BY, reason: str = REASON, tracking_uri: str = TRACKING) -> None:
    """Promote the @challenger to @champion (scoring switches to it on its next run).

    Example: plant-assets models approve energy_baseline.plant_a 2 --by jane.doe --reason "CV(RMSE) 9 % < 15 %"
    """
    previous = _decide("approve", model, version, by, reason, tracking_uri,
                       "`plant-assets models list` shows the current @challenger")
    console.print(f"{model} v{version} is @champion (approved by {by}); previous champion: {('v' + previous) if previous else 'none'}")


@app.command("reject")
def reject(model: str = MODEL,
           version: str = typer.Argument(..., help="Version number to reject"),
           by: str = BY, reason: str = REASON, tracking_uri: str = TRACKING) -> None:
    """Reject a version: it loses @challenger and the decision is recorded.

    Example: plant-assets models reject energy_baseline.plant_a 3 --by jane.doe --reason "trained on a shutdown week"
    """
    _decide("reject", model, version, by, reason, tracking_uri,
            f"`plant-assets models rollback {model}` moves @champion back to the previous version")
    console.print(f"{model} v{version} rejected by {by}")


@app.command("rollback")
def rollback(model: str = MODEL,
             by: str = BY, reason: str = REASON, tracking_uri: str = TRACKING) -> None:
    """Move @champion back to the previous champion.

    Example: plant-assets models rollback energy_baseline.plant_a --by jane.doe --reason "alerts after go-live"
    """
    from ml.governance import GovernanceError
    from ml.governance import rollback as do

    client = _client(tracking_uri)
    _require_version(client, model)
    try:
        current, target = do(client, model, by, reason)
    except GovernanceError as exc:
        fail(str(exc), "a rollback needs an earlier approved champion; approve a challenger with `plant-assets models approve`")
    console.print(f"{model}: @champion moved from v{current} back to v{target} by {by}")
