import json
from datetime import date, datetime

import pytest

from plant_assets.standardize.dbt_build import (
    days_of_window,
    dbt_build_args,
    dbt_vars_for_days,
)


def test_vars_are_an_inclusive_iso_day_range():
    assert dbt_vars_for_days(date(2026, 9, 7), date(2026, 9, 8)) == {"min_date": "2026-09-07", "max_date": "2026-09-08"}


def test_empty_range_is_refused():
    with pytest.raises(ValueError):
        dbt_vars_for_days(date(2026, 9, 8), date(2026, 9, 7))


def test_nightly_build_skips_unit_tests_but_ci_can_include_them():
    args = dbt_build_args(date(2026, 9, 7), date(2026, 9, 7))
    assert args[0] == "build"
    assert json.loads(args[args.index("--vars") + 1]) == {"min_date": "2026-09-07", "max_date": "2026-09-07"}
    assert args[-2:] == ["--exclude-resource-type", "unit_test"]
    assert "--exclude-resource-type" not in dbt_build_args(date(2026, 9, 7), date(2026, 9, 7), include_unit_tests=True)


def test_partition_window_to_days():
    assert days_of_window(datetime(2026, 9, 7), datetime(2026, 9, 10)) == (date(2026, 9, 7), date(2026, 9, 9))
