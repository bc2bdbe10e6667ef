"""Issue 19: MES, products and lab are optional, signals come in several forms, and what a plant can compute
(readiness, the marts gate) follows from its configuration. Configurations are written here by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from plant_assets.core.catalog import load_signal_catalog
from plant_assets.core.kpi_inputs import computable_kpis
from plant_assets.core.plant_config import PlantConfigError, load_plant
from plant_assets.core.units import conversion_to

HISTORIAN_ONLY = """
plant_id: {plant_id}
name: Historian only
isa95: {{enterprise: E, site: S, area: A}}
timezone: Europe/Berlin
owners: {{operations: ops@example.com}}
historian: {{dialect: pi_recorded, file_pattern: "PI_{{date:%Y%m%d}}.csv"}}
lines: [{{id: L1, name: Line 1, motors: [{{id: M1, name: Drive}}]}}]
energy_baseline: {{start: 2026-09-01, end: 2026-09-14}}
{extra}
"""
HEADER = "source_tag,signal,source_unit,line_id,asset_id,rollover,interval_min,running_above\n"


def plant_folder(tmp_path: Path, rows: str, extra: str = "", plant_id: str = "hist_only") -> Path:
    folder = tmp_path / plant_id
    folder.mkdir(parents=True)
    (folder / "plant.yaml").write_text(HISTORIAN_ONLY.format(plant_id=plant_id, extra=extra), encoding="utf-8")
    (folder / "tag_map.csv").write_text(HEADER + rows, encoding="utf-8")
    return folder


def test_a_historian_only_energy_only_plant_is_valid_configuration(tmp_path):
    plant = load_plant(plant_folder(tmp_path, "E1,energy_interval,Wh,L1,L1,,15,\n"))
    assert plant.production_runs is None and plant.downtime_events is None and plant.lab_results is None
    assert plant.products == [] and plant.tag_map[0].interval_min == 15


def test_an_old_tag_map_without_form_columns_still_loads(tmp_path):
    folder = plant_folder(tmp_path, "")
    (folder / "tag_map.csv").write_text("source_tag,signal,source_unit,line_id,asset_id,rollover\n"
                                        "E1,energy_total,kWh,L1,L1,\n", encoding="utf-8")
    (mapping,) = load_plant(folder).tag_map
    assert mapping.interval_min is None and mapping.running_above is None


@pytest.mark.parametrize(
    "row, extra, message",
    [
        ("E1,energy_total,kWh,L1,L1,,15,\n", "", "interval_min applies to interval and power signals"),
        ("S1,machine_running,dimensionless,L1,L1,,,5\n", "", "running_above needs a continuous signal"),
        ("S1,machine_state,dimensionless,L1,L1,,,\n", "", "needs plant.yaml machine_states"),
        ("Q1,reactive_energy_total,kWh,L1,L1,,,\n", "", "cannot convert unit 'kWh' to 'kvarh'"),
        ("E1,energy_total,kWh,L1,L1,,,\n",
         'production_runs: {file_pattern: "r_{date:%Y%m%d}.csv", columns: {order_id: o, line_id: l, '
         "product_code: p, start: s, end: e, good_qty: g, scrap_qty: x}}", "production_runs name products"),
    ],
)
def test_forms_that_do_not_fit_their_signal_are_refused_with_file_and_line(tmp_path, row, extra, message):
    with pytest.raises(PlantConfigError, match=message):
        load_plant(plant_folder(tmp_path, row, extra))


def test_every_canonical_signal_has_a_unit_pint_converts():
    catalog = load_signal_catalog()
    assert len(catalog) >= 30
    for signal in catalog.values():
        assert conversion_to(signal.canonical_unit, signal.canonical_unit) == (1.0, 0.0)
        assert signal.provides in catalog  # a form names a signal of the catalog
    assert conversion_to("MW", "kW") == (1000.0, 0.0) and conversion_to("Mvarh", "kvarh") == (1000.0, 0.0)
    assert conversion_to("g_0", "m/s^2")[0] == pytest.approx(9.80665)


def test_readiness_of_a_plant_without_mes_says_what_it_computes_and_why_not(tmp_path):
    from plant_assets.onboarding.readiness import readiness

    rows = ("P1,active_power,kW,L1,L1,,,\n"
            "C1,production_count_interval,count,L1,L1,,15,\n"
            "I1,motor_current,A,L1,M1,,,12.5\n"
            "V1,motor_vibration_velocity,mm/s,L1,M1,,,\n")
    plant = load_plant(plant_folder(tmp_path, rows))
    status = {k.kpi: k for k in readiness(plant, tmp_path / "landing", days=[]).kpis}
    for ready in ("energy_kwh", "units_produced", "kwh_per_unit", "running_min", "utilisation", "availability",
                  "unplanned_downtime_min", "motor_health"):
        assert status[ready].status == "ready", (ready, status[ready].missing)
    assert status["good_qty"].status == "missing"
    assert "no production_runs export configured" in status["good_qty"].missing[0]
    assert status["planned_downtime_min"].status == "missing"  # planned stops only come from MES
    assert status["energy_per_ton"].status == "missing"  # no product mass
    # without a state source the time model is missing too, and says both ways it could come
    plain = load_plant(plant_folder(tmp_path, "P1,active_power,kW,L1,L1,,,\n", plant_id="hist_plain"))
    availability = {k.kpi: k for k in readiness(plain, tmp_path / "landing", days=[]).kpis}["availability"]
    assert availability.status == "missing" and "none of:" in availability.missing[0]
    assert "machine_running" in availability.missing[0]


def test_the_marts_gate_does_not_fail_an_energy_only_plant_for_kwh_per_unit(tmp_path):
    from plant_assets.quality import validate_frame
    from plant_assets.quality.marts_metrics import gate_kpis, not_computable

    plant = load_plant(plant_folder(tmp_path, "E1,energy_interval,kWh,L1,L1,,15,\n"))
    assert "kwh_per_unit" not in computable_kpis(plant) and "energy_kwh" in computable_kpis(plant)
    assert not_computable(plant) == frozenset(gate_kpis()) - {"energy_kwh"}
    row = {"plant_id": plant.plant_id, "production_date": "2026-09-07", "history_days": 0,
           "history_median_kwh_per_unit": math.nan, **{k: math.nan for k in gate_kpis()}, "energy_kwh": 900.0}
    from plant_assets.quality import kpi_bounds
    from plant_assets.quality.marts_metrics import judge_plant_day

    parameters = {"band_low": 0.0, "band_high": 1e18, "band_factor": 1.6, "band_history_days": 28,
                  **{kpi_bounds.parameter(kpi): kpi_bounds.NO_BOUND for kpi in kpi_bounds.BOUNDED_KPIS}}
    failed = validate_frame("marts_kpi_daily", pd.DataFrame([row]), parameters)
    assert not failed.passed and [f["column"] for f in failed.failed] == ["kwh_per_unit"]  # without the rule
    outcome, _, _ = judge_plant_day(plant, row)  # the gate's own path
    assert outcome.passed, outcome.failed
