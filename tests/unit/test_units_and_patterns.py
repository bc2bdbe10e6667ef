from datetime import date

import pytest

from plant_assets.core.units import conversion_to
from plant_assets.ingest.patterns import file_name_for, match_day


# Every conversion the demo plants use, with factors written here from their definitions (not from pint):
# 1 in = 25.4 mm; 1 US fl oz = 29.5735295625 ml; degF = degC x 9/5 + 32.
PINNED = [
    ("kWh", "kWh", 123.4567, 123.4567),
    ("MWh", "kWh", 1.5, 1500.0),
    ("Wh", "kWh", 2500.0, 2.5),
    ("MW", "kW", 7.25, 7250.0),  # a power meter in MW (the historian-only and energy-only e2e plants)
    ("kW", "kW", 812.5, 812.5),
    ("count", "count", 7.0, 7.0),
    ("A", "A", 41.25, 41.25),
    ("mm/s", "mm/s", 2.8, 2.8),
    ("in/s", "mm/s", 0.1, 2.54),
    ("in/s", "mm/s", 1.0, 25.4),
    ("degC", "degC", 61.5, 61.5),
    ("degF", "degC", 212.0, 100.0),
    ("degF", "degC", 32.0, 0.0),
    ("degF", "degC", 98.6, 37.0),
    ("ml", "floz", 29.5735295625, 1.0),
    ("ml", "floz", 355.0, 355.0 / 29.5735295625),
    ("floz", "ml", 12.0, 354.88235475),
    ("mm", "mm", 1.12, 1.12),
    ("ml", "ml", 500.0, 500.0),
]


@pytest.mark.parametrize("source, canonical, value, expected", PINNED)
def test_conversion(source, canonical, value, expected):
    scale, offset = conversion_to(source, canonical)
    assert value * scale + offset == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_every_unit_the_demo_plants_use_is_pinned():
    """A new unit in a demo tag map, lab report or spec fails here until its factor is pinned above."""
    import csv

    import yaml

    from plant_assets.core.catalog import load_signal_catalog
    from plant_assets.core.settings import REPO_ROOT

    signals = load_signal_catalog()
    used = set()
    for folder in sorted((REPO_ROOT / "plants").iterdir()):
        with (folder / "tag_map.csv").open(newline="") as handle:
            used |= {(row["source_unit"], signals[row["signal"]].canonical_unit) for row in csv.DictReader(handle)}
        config = yaml.safe_load((folder / "plant.yaml").read_text())
        specs = {s["characteristic"]: s["unit"] for s in config.get("quality_specs", [])}
        for characteristic, unit in config.get("simulation", {}).get("lab", {}).get("report_units", {}).items():
            used.add((specs[characteristic], unit))  # the simulator writes the spec's value in the reported unit
            used.add((unit, specs[characteristic]))  # the lab parser converts it back
        used |= {(unit, unit) for unit in specs.values()}
    pinned = {(source, canonical) for source, canonical, _, _ in PINNED}
    assert used - pinned == set()


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
