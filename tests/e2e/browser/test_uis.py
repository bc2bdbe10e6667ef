"""The product as its users meet it, in a real browser: the Dagster UI (code location, asset groups, a
partition materialized from the UI) and the MLflow UI (a plant's registered model, champion alias,
model card). Screenshots: tests/artifacts/ (and docs/img/ with UPDATE_DOCS_SCREENSHOTS=1)."""

from __future__ import annotations

import time

import dagster as dg
import pytest

from tests.e2e.browser.dagster_ui import (
    dismiss_dagster_popups as _dismiss_dagster_popups,
)
from tests.e2e.browser.dagster_ui import select_plant_days
from tests.e2e.browser.dagster_ui import settle as _settle

# Ordered after the e2e tests that read the session state (a UI run adds a materialization), before the
# fault-injecting tests (stable sort, this directory is collected first).
pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.mutates_session]

GROUPS = ["ingest", "standardize", "ml", "operations"]
UI_ASSET = "raw_downtime_events"


def test_dagster_ui_loads_code_location_and_every_asset_group(ui_servers, page, screenshot):
    _dismiss_dagster_popups(page)
    page.goto(ui_servers["dagster"] + "/locations")
    page.get_by_text("plant_assets.definitions").first.wait_for()
    page.get_by_text("Loaded", exact=True).first.wait_for()

    page.goto(ui_servers["dagster"] + "/asset-groups")
    page.get_by_text("Global asset lineage").wait_for()
    for group in GROUPS:
        page.get_by_text(group, exact=True).first.wait_for()
    _settle(page)  # let the graph lay out before the screenshot
    screenshot("dagster_asset_graph", docs=True)

    page.goto(ui_servers["dagster"] + f"/assets/{UI_ASSET}")
    page.get_by_text("plant-teams").first.wait_for()  # owner: the plant tier
    page.get_by_text("Downtime events", exact=False).first.wait_for()
    _settle(page, 500)
    screenshot("dagster_asset_page")


def test_partition_materialized_from_dagster_ui_completes_with_metadata(ui_servers, page, screenshot, e2e_run):
    instance: dg.DagsterInstance = e2e_run["instance"]
    day, plant = "2026-09-10", "plant_a"
    before = {r.run_id for r in instance.get_runs()}

    _dismiss_dagster_popups(page)
    page.goto(ui_servers["dagster"] + f"/assets/{UI_ASSET}")
    page.get_by_role("button", name="Materialize…").click()
    dialog = page.get_by_role("dialog").filter(has_text=f"Launch runs to materialize {UI_ASSET}")
    select_plant_days(page, dialog, day, [plant])
    launch = dialog.get_by_role("button", name="Launch 1 run")
    launch.wait_for()
    screenshot("dagster_launch_partition")
    launch.click()

    deadline = time.monotonic() + 240  # the run's subprocess loads the code location: slow on a busy CI box
    run = None
    while time.monotonic() < deadline:
        new = [r for r in instance.get_runs() if r.run_id not in before]
        if new and new[0].is_finished:
            run = new[0]
            break
        time.sleep(1)
    assert run is not None, "the run launched from the UI did not finish within 240 s"
    assert run.status == dg.DagsterRunStatus.SUCCESS, run.status
    assert run.tags.get("dagster/partition") == f"{day}|{plant}"

    page.goto(ui_servers["dagster"] + f"/runs/{run.run_id}")
    page.get_by_text("Success", exact=True).first.wait_for()
    _settle(page, 500)
    screenshot("dagster_ui_run")

    page.goto(ui_servers["dagster"] + f"/assets/{UI_ASSET}?partition={day}%7C{plant}")
    for key in ("accepted_records", "quarantined_records", "reconciliation"):
        page.get_by_text(key, exact=True).first.wait_for()
    _settle(page, 500)
    screenshot("dagster_partition_metadata")


def test_mlflow_ui_shows_registered_model_with_champion_and_model_card(ui_servers, page, screenshot, e2e_run):
    from mlflow import MlflowClient

    name = "energy_baseline.plant_a"
    uri = e2e_run["settings"].mlflow_tracking_uri  # explicit registry too: other tests move the global one
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    champion = client.get_model_version_by_alias(name, "champion")
    card_line = next(line.strip("# ").strip() for line in (champion.description or "").splitlines() if line.strip())

    page.goto(ui_servers["mlflow"] + f"/#/models/{name}")
    page.get_by_text(name).first.wait_for()
    page.get_by_text("champion").first.wait_for()
    page.wait_for_timeout(1000)
    screenshot("mlflow_registered_model", docs=True)

    page.goto(ui_servers["mlflow"] + f"/#/models/{name}/versions/{champion.version}")
    page.get_by_text("champion").first.wait_for()
    page.get_by_text(card_line[:40], exact=False).first.wait_for()  # the model card
    page.wait_for_timeout(1000)
    screenshot("mlflow_model_version", docs=True)
