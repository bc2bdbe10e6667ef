"""The mapping assistant infers units and rollovers from values, on hand-made samples: an MWh totalizer
whose name says no unit, a 16-bit piece counter, a decimal register, and a reset that is not a wrap."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from plant_assets.onboarding import read_sample
from plant_assets.onboarding.drafting import energy_unit_from_values, rollover_from_values, suggest
from plant_assets.onboarding.sample import TagStats

DAY = date(2026, 9, 7)


def write_pi(path, series: dict[str, list[float]], step_s: int = 60):
    """A PI recorded-values export: Tag,Timestamp,Value,Status, one reading per tag every step_s seconds."""
    start = datetime(2026, 9, 7, 0, 0)
    lines = ["Tag,Timestamp,Value,Status"]
    for tag, values in series.items():
        for i, value in enumerate(values):
            lines.append(f"{tag},{(start + timedelta(seconds=step_s * i)):%d-%b-%Y %H:%M:%S},{value:g},Good")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_an_mwh_totalizer_without_a_unit_in_its_name_is_drafted_in_mwh(tmp_path):
    # 150 kW: 0.0025 MWh a minute from 1234.5 MWh (as kWh it would be a 0.15 kW line, as Wh 0.00015 kW),
    # exported with 6 significant digits (1234.50, 1234.50, 1234.51 ...: single steps are 0 or 0.01)
    values = [1234.5 + 0.0025 * i for i in range(121)]
    read = read_sample("pi_recorded", {}, "UTC", write_pi(tmp_path / "PI_20260907.csv", {"L1_Energy_Total": values}))
    st = read.stats["L1_Energy_Total"]
    assert st.median_interval_s == 60 and st.median_increase == pytest.approx(0.01)
    assert st.increase_per_s * 3600 == pytest.approx(0.15)  # 0.3 MWh in 2 h
    s = suggest("L1_Energy_Total", st)
    assert (s.signal, s.source_unit, s.rollover) == ("energy_total", "MWh", None)
    assert any("150 kW in MWh" in r for r in s.reasons)


def test_the_unit_nearest_an_ordinary_line_wins():
    # 2.5 a minute = 150 per hour: 150 kW in kWh (Wh: 0.15 kW, MWh: 150 MW)
    assert energy_unit_from_values(TagStats(increase_per_s=2.5 / 60))[0] == "kWh"
    # 2500 Wh a minute = 150 kW in Wh
    assert energy_unit_from_values(TagStats(increase_per_s=2500 / 60))[0] == "Wh"


def test_a_16_bit_counter_wraps_at_65536_not_at_100000(tmp_path):
    # 40 pieces a minute from 65,400: 65,440 65,480 65,520 then 24 (65,560 - 65,536) ...
    values = [(65_400 + 40 * i) % 65_536 for i in range(60)]
    read = read_sample("pi_recorded", {}, "UTC", write_pi(tmp_path / "PI_20260907.csv", {"L1_CNT_PCS": values}))
    st = read.stats["L1_CNT_PCS"]
    assert st.drops == 1 and st.drop_pairs == [(65_520.0, 24.0)]
    s = suggest("L1_CNT_PCS", st)
    assert (s.signal, s.rollover) == ("production_count_total", 65_536)


def test_a_decimal_register_and_a_reset():
    wrap = TagStats(n=50, n_good=50, max=9_990, drops=1, median_increase=8, drop_pairs=[(9_990, 5)])
    assert rollover_from_values(wrap)[0] == 10_000  # implied 15, ordinary 8
    # 4,000 -> 3: no register size above 4,000 makes that a wrap of at most 50 ordinary increments
    reset = TagStats(n=50, n_good=50, max=4_000, drops=1, median_increase=8, drop_pairs=[(4_000, 3)])
    rollover, why = rollover_from_values(reset)
    assert rollover is None and "resets or bad readings" in why
