"""Helpers shared by the Dagster UI browser tests."""

from __future__ import annotations

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError:  # the tests skip without playwright (conftest)
    PlaywrightTimeoutError = Exception

COMMUNITY_DIALOG = "Join the Dagster community"


def dismiss_dagster_popups(page) -> None:
    """The Dagster UI greets a fresh instance with a 'Join the Dagster community' dialog: skip it whenever
    it blocks an action."""
    page.add_locator_handler(
        page.get_by_role("dialog").filter(has_text=COMMUNITY_DIALOG),
        # A DOM click event, not a pointer click: another open dialog's overlay may cover the button.
        lambda dialog: dialog.get_by_role("button", name="Skip").dispatch_event("click"),
    )


def settle(page, ms: int = 1500) -> None:
    """Let the page render (and the community dialog appear), then skip the dialog before a screenshot."""
    page.wait_for_timeout(ms)
    skip = page.get_by_role("dialog").filter(has_text=COMMUNITY_DIALOG).get_by_role("button", name="Skip")
    if skip.is_visible():
        try:  # the locator handler may win the race and close it first
            skip.dispatch_event("click", timeout=2000)
        except PlaywrightTimeoutError:
            pass
        page.wait_for_timeout(500)


def select_plant_days(page, dialog, days: str, plants: list[str]) -> None:
    """Fill the plant x day partition picker of a 'Launch runs to materialize' dialog: `days` in the UI's
    own syntax ('2026-09-10' or a range '[2026-09-08...2026-09-09]'), then tick each plant."""
    day_input = dialog.get_by_placeholder("ex: 2026-09-01", exact=False)
    day_input.fill(days)
    day_input.press("Enter")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_placeholder("Filter partitions").wait_for()
    for plant in plants:
        page.locator("label", has_text=plant).last.click()
    dialog.get_by_text("Partition selection").click()  # close the plant picker
    dialog.get_by_text("Partition selection").click()  # and reopen the section it collapsed
