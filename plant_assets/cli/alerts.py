"""`plant-assets alerts ...`: list, acknowledge, resolve and deliver alerts (actions.alerts, actions.alert_outbox)."""

from __future__ import annotations

import getpass

import typer

from plant_assets.cli.common import connect_warehouse, console, fail, require_plant

app = typer.Typer(
    help="Alerts and recommendations: lifecycle (open -> acknowledged -> resolved) and delivery.\n\n"
    "Example: plant-assets alerts list --plant plant_b --status open",
    no_args_is_help=True,
)

STATUSES = ("open", "acknowledged", "resolved")


def _connect(read_only: bool = False):
    # The warehouse must exist: connecting would otherwise create an empty one and list no alerts.
    return connect_warehouse(read_only=read_only)


@app.command("list")
def list_(
    plant: str = typer.Option(None, help="Only this plant."),
    status: str = typer.Option(None, help="open, acknowledged or resolved."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON rows instead of a table."),
) -> None:
    """List alerts with their severity, owner, status and recommended action.

    Example: plant-assets alerts list --plant plant_b --status open
    """
    from rich.table import Table

    from plant_assets.operations.alerts.store import list_alerts

    if plant:
        require_plant(plant)
    if status and status not in STATUSES:
        raise typer.BadParameter(f"{status!r} is not a status; use one of {', '.join(STATUSES)}", param_hint="--status")
    con = _connect()
    try:
        alerts = list_alerts(con, plant, status)
    finally:
        con.close()
    if as_json:
        console.print_json(alerts.drop(columns=["evidence"]).to_json(orient="records", date_format="iso"))
        return
    table = Table(title=f"{len(alerts)} alert(s) (actions.alerts)")
    for column in ("alert_id", "plant", "kind", "severity", "status", "last seen", "owner", "title"):
        table.add_column(column)
    for r in alerts.itertuples():
        table.add_row(r.alert_id, r.plant_id, r.kind, r.severity, r.status, str(r.last_seen_date or r.production_date),
                      f"{r.owner} ({r.owner_role})", r.title)
    console.print(table)


def _change_status(transition, alert_id: str, by: str | None) -> None:
    """Apply one lifecycle transition (acknowledge / resolve) and report it, or the reason it is refused."""
    con = _connect()
    try:
        status = transition(con, alert_id, by or getpass.getuser())
    except KeyError:
        fail(f"no alert {alert_id!r}", "`plant-assets alerts list` shows the alert ids")
    except ValueError as exc:
        fail(str(exc), "only open alerts can be acknowledged, and open or acknowledged ones resolved; "
             "`plant-assets alerts list` shows each alert's status")
    finally:
        con.close()
    console.print(f"{alert_id}: {status}")


@app.command("ack")
def ack(alert_id: str = typer.Argument(..., help="Alert id (see `alerts list`)."), by: str = typer.Option(None, help="Who acknowledges (default: the current user).")) -> None:
    """Acknowledge an open alert: its owner has seen it and is on it.

    Example: plant-assets alerts ack <alert_id> --by jane.doe
    """
    from plant_assets.operations.alerts.store import acknowledge

    _change_status(acknowledge, alert_id, by)


@app.command("resolve")
def resolve_(alert_id: str = typer.Argument(..., help="Alert id (see `alerts list`)."), by: str = typer.Option(None, help="Who resolves (default: the current user).")) -> None:
    """Resolve an open or acknowledged alert (if the condition comes back, a new alert is raised).

    Example: plant-assets alerts resolve <alert_id> --by jane.doe
    """
    from plant_assets.operations.alerts.store import resolve

    _change_status(resolve, alert_id, by)


@app.command("deliver")
def deliver(
    attempts: int = typer.Option(4, min=1, help="Tries per alert before it waits for the next call."),
    backoff: float = typer.Option(0.5, min=0, help="First retry delay in seconds (doubles each try)."),
) -> None:
    """Post pending alerts in the outbox to each plant's webhook (idempotent; undelivered ones stay queued).

    Example: plant-assets alerts deliver --attempts 2
    """
    from contextlib import closing

    from plant_assets.core.plant_config import validate_plants
    from plant_assets.core.settings import get_settings
    from plant_assets.operations.alerts.outbox import deliver_with_short_connections, webhooks
    from plant_assets.operations.alerts.outbox_handoff import apply_outcomes

    settings = get_settings()
    plants, _ = validate_plants(settings.plants_dir)
    # First the outcomes a notifier run left in the lake (nothing lost, nothing sent twice); afterwards the
    # lake's due list is written afresh, so the next notifier run does not re-send what went out here.
    with closing(_connect()) as con:
        apply_outcomes(con, settings.lake_dir)
    # The warehouse is open only to read the due rows and to write the outcomes, not during the POSTs.
    counts = deliver_with_short_connections(lambda: closing(_connect()), webhooks(plants),
                                            max_attempts=attempts, backoff_seconds=backoff)
    with closing(_connect()) as con:
        apply_outcomes(con, settings.lake_dir)
    console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    if counts["waiting"] or counts["deferred"]:
        console.print(f"{counts['waiting'] + counts['deferred']} alert(s) wait for their next try "
                      "(next_attempt_at in actions.alert_outbox, or the call's time budget ran out)")
    if counts["rejected"] or counts["refused"]:
        fail(f"{counts['rejected']} alert(s) rejected by their receiver (4xx), {counts['refused']} refused "
             "(webhook host not allowed); each row's last_error in actions.alert_outbox says why",
             "fix the receiver or the plant's webhook_url, or allow the host in PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS "
             "(docs/operations.md); refused rows are retried by the next call, rejected ones are not",
             exit_code=2)
    if counts["failed"]:
        fail(f"{counts['failed']} alert(s) could not be delivered; they stay in the outbox",
             "check each plant's webhook URL in plant.yaml and that it answers, then run `plant-assets alerts deliver` again",
             exit_code=2)
