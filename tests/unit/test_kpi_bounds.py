"""The marts gate's bounds of a plant-day: physics (rated load and rate over the day's hours) and the plant's
own history; expected limits worked out by hand."""

from __future__ import annotations

from datetime import date

from plant_assets.core.plant_config import Line, Motor, PlantConfig, TagMapping
from plant_assets.quality import kpi_bounds

THRESHOLDS = {"history_factor": 10, "band_history_days": 28}


def plant(lines, tags=("energy_total", "production_count_total")) -> PlantConfig:
    base = {
        "plant_id": "p1", "name": "P", "isa95": {"enterprise": "E", "site": "S", "area": "A"},
        "timezone": "Europe/Berlin", "owners": {"operations": "o@x"},
        "historian": {"dialect": "pi_recorded", "file_pattern": "pi_{date:%Y%m%d}.csv"},
        "production_runs": {"file_pattern": "r_{date:%Y%m%d}.csv", "columns": {
            k: k for k in ("order_id", "line_id", "product_code", "start", "end", "good_qty", "scrap_qty")}},
        "downtime_events": {"file_pattern": "d_{date:%Y%m%d}.csv", "columns": {
            k: k for k in ("line_id", "start", "end", "reason", "category")}},
        "lines": lines, "products": [{"code": "A", "ideal_rate_per_min": 20}, {"code": "B", "ideal_rate_per_min": 40}],
        "energy_baseline": {"start": "2026-09-01", "end": "2026-09-07"},
    }
    config = PlantConfig(**base)
    tag_map = tuple(TagMapping(source_tag=f"{s}_{line.id}", signal=s, source_unit="kWh" if s == "energy_total"
                               else "count", line_id=line.id, asset_id=line.id) for line in config.lines for s in tags)
    return config.model_copy(update={"tag_map": tag_map})


def test_rated_load_over_a_fall_back_day_of_25_hours():
    # L1 declares 300 kW, L2 150 kW: 450 kW x 25 h (Berlin, 2026-10-25)
    p = plant([Line(id="L1", name="a", rated_kw=300), Line(id="L2", name="b", rated_kw=150)])
    bound = kpi_bounds.physical_bound(p, "energy_kwh", date(2026, 10, 25))
    # A line's motors are not its load: with only motor ratings there is no physical energy bound.
    only_motors = plant([Line(id="L1", name="a", rated_kw=300), Line(id="L2", name="b", motors=[
        Motor(id="L2-M1", name="m", rated_kw=50), Motor(id="L2-M2", name="n", rated_kw=25)])])
    assert kpi_bounds.physical_bound(only_motors, "energy_kwh", date(2026, 10, 25)) is None
    assert bound.limit == 450 * 25
    # output: no line declares a rate; 1.5 x 60 x 40 (fastest product) = 3600 units/h per line, 2 lines, 24 h
    assert kpi_bounds.physical_bound(p, "units_produced", date(2026, 9, 7)).limit == 2 * 3600 * 24


def test_no_physical_bound_when_a_metered_line_has_no_rated_load():
    p = plant([Line(id="L1", name="a", rated_kw=300), Line(id="L2", name="b")])
    assert kpi_bounds.physical_bound(p, "energy_kwh", date(2026, 9, 7)) is None


def test_the_tighter_bound_applies_and_the_reason_names_kpi_value_and_bound():
    p = plant([Line(id="L1", name="a", rated_kw=1000)])  # 24,000 kWh a day
    row = {"production_date": date(2026, 9, 7), "energy_kwh": 9_000_000.0, "history_max_energy_kwh": 900.0,
           "history_days_energy_kwh": 9, "history_max_units_produced": 50.0, "history_days_units_produced": 3}
    bounds = kpi_bounds.day_bounds(p, row, THRESHOLDS)
    assert bounds["energy_kwh"].limit == 9_000  # 10 x 900 < 24,000
    assert bounds["units_produced"].limit == 1.5 * 60 * 40 * 24  # 3 days of history are too few: physics only
    assert kpi_bounds.bound_parameters(bounds) == {"energy_kwh_max": 9_000, "units_produced_max": 86_400}
    failed = [{"column": "energy_kwh", "threshold": {"max_value": 9_000}}]
    assert kpi_bounds.explain(failed, bounds, row)[0]["reason"] == (
        "energy_kwh = 9,000,000 kWh exceeds 9,000 kWh: 10 x the plant's highest day (900) of its previous 28 days "
        "(9 with a value)")
