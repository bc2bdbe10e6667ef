"""Issue 9 in a real browser: a plant-team engineer backfills one plant over a range of days from the
Dagster UI (the dagster-daemon started by the fixture runs it), and the Automation page lists every
schedule and sensor with its description. Screenshots: tests/artifacts/ (the finished backfill also in
docs/img/ with UPDATE_DOCS_SCREENSHOTS=1)."""

from __future__ import annotations

import time
from datetime import date, timedelta

import dagster as dg
import pytest

from tests.e2e.browser.dagster_ui import (
    dismiss_dagster_popups,
    select_plant_days,
    settle,
)

# Same ordering as test_uis.py: after the read-only e2e tests (a backfill re-materializes two plant-days).
pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.mutates_session]

INGEST_JOB = "ingest_plant_day"
PLANT = "plant_a"
# Two days inside the e2e window, not the day test_uis.py materializes: small enough to keep the test short.
FIRST_DAY, LAST_DAY = date(2026, 9, 8), date(2026, 9, 9)
FINISHED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def _ingest_assets() -> list[dg.AssetKey]:
    """The plant x day assets of the ingest job (historian, MES streams, ...), from the definitions."""
    from plant_assets.definitions import defs

    return sorted(defs.resolve_job_def(INGEST_JOB).asset_layer.executable_asset_keys)


def _days() -> list[str]:
    return [(FIRST_DAY + timedelta(days=n)).isoformat() for n in range((LAST_DAY - FIRST_DAY).days + 1)]


def _wait_for_backfill(instance: dg.DagsterInstance, backfill_id: str, timeout: float = 240):
    """The backfill once the daemon has finished it (runs launch as subprocesses that load the code
    location: slow on a busy CI box)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        backfill = instance.get_backfill(backfill_id)
        if backfill is not None and backfill.status.value in FINISHED:
            return backfill
        time.sleep(2)
    raise AssertionError(f"backfill {backfill_id} not finished within {timeout} s (see tests/artifacts/dagster-daemon.log)")


def test_backfill_of_one_plant_over_a_day_range_from_the_ui(ui_servers, page, screenshot, e2e_run):
    instance: dg.DagsterInstance = e2e_run["instance"]
    before = {b.backfill_id for b in instance.get_backfills()}
    started = time.time()

    dismiss_dagster_popups(page)
    page.goto(ui_servers["dagster"] + f"/locations/plant_assets/jobs/{INGEST_JOB}")
    page.get_by_role("button", name="Materialize all").click()
    assets = _ingest_assets()
    dialog = page.get_by_role("dialog").filter(has_text=f"Launch runs to materialize {len(assets)} assets")
    select_plant_days(page, dialog, f"[{FIRST_DAY}...{LAST_DAY}]", [PLANT])
    dialog.get_by_text(f"{len(_days())} partitions", exact=True).wait_for()
    launch = dialog.get_by_role("button", name="Launch backfill")
    launch.wait_for()
    screenshot("dagster_launch_backfill")
    launch.click()
    page.get_by_text("Created backfill").wait_for()

    new = [b for b in instance.get_backfills() if b.backfill_id not in before]
    assert len(new) == 1, f"expected one new backfill, got {[b.backfill_id for b in new]}"
    backfill = _wait_for_backfill(instance, new[0].backfill_id)
    assert backfill.status.value == "COMPLETED_SUCCESS", backfill.status

    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
    wanted = {f"{day}|{PLANT}" for day in _days()}
    assert {r.tags.get("dagster/partition") for r in runs} == wanted
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [(r.run_id, r.status) for r in runs]

    # Every ingest asset now has these plant-days from this backfill, and no other partition was touched.
    run_ids = {r.run_id for r in runs}
    for asset in assets:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset, after_timestamp=started), limit=100
        ).records
        assert {r.partition_key for r in records} == wanted, asset
        assert {r.run_id for r in records} <= run_ids, asset

    # The backfill page: its status and one run per partition.
    page.goto(ui_servers["dagster"] + f"/runs/b/{backfill.backfill_id}?tab=runs")
    page.get_by_text("Succeeded", exact=True).first.wait_for()
    for partition in sorted(wanted):
        page.get_by_text(partition).first.wait_for()
    settle(page, 500)
    screenshot("dagster_backfill", docs=True)


def test_automation_page_lists_schedules_and_sensors_with_descriptions(ui_servers, page, screenshot):
    from plant_assets.definitions import defs

    repository = defs.get_repository_def()
    automations = [("schedules", s) for s in repository.schedule_defs] + [("sensors", s) for s in repository.sensor_defs]
    assert automations

    dismiss_dagster_popups(page)
    page.goto(ui_servers["dagster"] + "/automation")
    for _, definition in automations:
        page.get_by_text(definition.name, exact=True).first.wait_for()
    settle(page, 500)
    screenshot("dagster_automation")

    for kind, definition in automations:
        assert definition.description, f"{definition.name} has no description"
        page.goto(ui_servers["dagster"] + f"/locations/plant_assets/{kind}/{definition.name}")
        page.get_by_text(definition.description[:60], exact=False).first.wait_for()
    settle(page, 500)
    screenshot("dagster_sensor_description")
