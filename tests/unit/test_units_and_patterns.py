from datetime import date

import pytest

from plant_assets.core.units import conversion_to
from plant_assets.ingest.patterns import file_name_for, match_day


@pytest.mark.parametrize(
    "source, canonical, value, expected",
    [("MWh", "kWh", 1.5, 1500.0), ("Wh", "kWh", 2500.0, 2.5), ("degF", "degC", 212.0, 100.0),
     ("in/s", "mm/s", 0.1, 2.54), ("count", "count", 7.0, 7.0)],
)
def test_conversion(source, canonical, value, expected):
    scale, offset = conversion_to(source, canonical)
    assert value * scale + offset == pytest.approx(expected, rel=1e-12)


def test_unknown_unit_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot convert unit 'furlongs' to 'kWh'"):
        conversion_to("furlongs", "kWh")


@pytest.mark.parametrize(
    "pattern, name, day",
    [
        ("PI_RecordedValues_{date:%Y%m%d}.csv", "PI_RecordedValues_20260907.csv", date(2026, 9, 7)),
        ("WideHistory_{date:%Y-%m-%d}.csv", "WideHistory_2026-09-07.csv", date(2026, 9, 7)),
        ("sqlt_data_1_{date:%Y_%m_%d}.csv", "sqlt_data_1_2026_09_07.csv", date(2026, 9, 7)),
        ("sqlt_data_1_{date:%Y_%m_%d}.csv", "sqlth_te.csv", None),
        ("PI_RecordedValues_{date:%Y%m%d}.csv", "PI_RecordedValues_20261341.csv", None),
        ("export_{date:%Y%m%d}*.csv", "export_20260907_resend.csv", date(2026, 9, 7)),
    ],
)
def test_match_day(pattern, name, day):
    assert match_day(pattern, name) == day


def test_file_name_round_trip():
    pattern = "Auftraege_{date:%Y%m%d}.csv"
    assert match_day(pattern, file_name_for(pattern, date(2026, 12, 31))) == date(2026, 12, 31)
