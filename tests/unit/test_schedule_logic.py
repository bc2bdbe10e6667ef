from datetime import date, datetime, timezone

from plant_assets.core.plant_config import load_plant
from plant_assets.core.production_day import completed_local_day
from plant_assets.core.settings import REPO_ROOT
from plant_assets.defs.automation.schedules import nightly_requests, not_launched

PLANTS = {pid: load_plant(REPO_ROOT / "plants" / pid) for pid in ("plant_a", "plant_b", "plant_c")}


def test_each_plant_gets_its_own_previous_local_day():
    now = datetime(2026, 9, 10, 3, 15, tzinfo=timezone.utc)
    # Berlin 05:15 on the 10th, Chicago 22:15 on the 9th, Kolkata 08:45 on the 10th.
    assert completed_local_day(PLANTS["plant_a"], now) == date(2026, 9, 9)
    assert completed_local_day(PLANTS["plant_b"], now) == date(2026, 9, 8)
    assert completed_local_day(PLANTS["plant_c"], now) == date(2026, 9, 9)


def test_a_day_is_only_requested_after_the_grace_period():
    berlin = PLANTS["plant_a"]
    just_after_midnight = datetime(2026, 9, 9, 22, 30, tzinfo=timezone.utc)  # 00:30 local
    an_hour_later = datetime(2026, 9, 9, 23, 15, tzinfo=timezone.utc)  # 01:15 local
    assert completed_local_day(berlin, just_after_midnight) == date(2026, 9, 8)
    assert completed_local_day(berlin, an_hour_later) == date(2026, 9, 9)


def test_requests_carry_partition_and_a_stable_run_key():
    now = datetime(2026, 9, 10, 7, 15, tzinfo=timezone.utc)
    requests = nightly_requests(PLANTS, now)
    assert [r.partition_key for r in requests] == ["2026-09-09|plant_a", "2026-09-09|plant_b", "2026-09-09|plant_c"]
    again = nightly_requests(PLANTS, datetime(2026, 9, 10, 8, 15, tzinfo=timezone.utc))
    assert [r.run_key for r in requests] == [r.run_key for r in again]


def test_a_plant_day_already_launched_is_not_requested_again():
    requests = nightly_requests(PLANTS, datetime(2026, 9, 10, 7, 15, tzinfo=timezone.utc))
    due = not_launched(requests, {"nightly:plant_b:2026-09-09", "nightly:plant_b:2026-09-08"})
    assert [r.run_key for r in due] == ["nightly:plant_a:2026-09-09", "nightly:plant_c:2026-09-09"]
