"""Per-run figures and stop KPIs against the simulator's truth (runs.csv, daily.csv), on the e2e session's run.

The truth is what the simulator did (its minute traces and schedule), never the exports the pipeline reads; the
unit masses are written here by hand, not read from plant.yaml, so a misread mass cannot cancel out.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

# products.mass_kg of the demo plants (plants/*/plant.yaml), copied by hand
UNIT_MASS_KG = {"PET-050": 0.52, "PET-150": 1.55, "CAN-12OZ": 0.37, "CAN-24OZ": 0.72, "GLS-330": 0.61, "GLS-1000": 1.65}
# The exports carry 1e-4 kWh; a run boundary that falls inside a meter interval widened by a dropped bad reading
# (export bad_share 0.2-0.3 %) moves that interval's energy to the neighbouring run: a few runs in a hundred.
EXACT_RELATIVE = 1e-6
EXACT_SHARE = 0.97
BOUNDARY_RELATIVE = 0.005


@pytest.fixture(scope="module")
def runs(e2e_run):
    settings = e2e_run["settings"]
    truth = pd.read_csv(settings.truth_dir / "runs.csv", dtype={"order_id": str})
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        mart = con.execute("select * from marts.fct_production_run").df()
    both = truth.merge(mart, on=["plant_id", "order_id"], suffixes=("_truth", ""), how="outer", indicator=True)
    return both


def _inner(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs that neither start before the first exported minute nor end at the window's end (their meter
    intervals are cut by the window, not by the pipeline)."""
    both = runs[runs["_merge"] == "both"]
    first = both.groupby("plant_id")["start_utc"].transform("min")
    last = both.groupby("plant_id")["end_utc"].transform("max")
    return both[(both["start_utc"] > first) & (both["end_utc"] < last)]


def test_every_run_is_in_the_mart_with_its_times_line_product_and_mes_quantities(runs):
    assert (runs["_merge"] == "both").all(), runs.loc[runs["_merge"] != "both", ["plant_id", "order_id", "_merge"]]
    assert set(runs["plant_id"]) == {"plant_a", "plant_b", "plant_c"} and len(runs) > 300
    for column in ("line_id", "product_code", "start_utc", "end_utc"):
        truth = runs[f"{column}_truth"]
        mart = runs[column].astype(str) if column.endswith("_utc") else runs[column]
        assert mart.notna().all(), column
        assert (mart.astype(str).str[:19] == truth.astype(str)).all(), column
    # good / scrap come from MES as integers: exact, and never swapped
    for column in ("good_qty", "scrap_qty"):
        assert runs[column].notna().all(), column
        assert (runs[column] == runs[f"{column}_truth"]).all(), column
    assert (runs["good_qty"] > runs["scrap_qty"]).all()


def test_units_energy_and_energy_per_ton_of_each_run(runs):
    inner = _inner(runs)
    assert len(inner) > 300
    # units from the piece counter's register over [start, end): exact
    assert inner["units_produced"].notna().all()
    assert (inner["units_produced"] == inner["units_produced_truth"]).all()
    # energy of the line over the run, and energy per tonne with the masses above
    truth_per_ton = inner["energy_kwh_truth"] / (inner["units_produced_truth"] * inner["product_code_truth"].map(UNIT_MASS_KG) / 1000)
    for column, truth in (("energy_kwh", inner["energy_kwh_truth"]), ("energy_per_ton_kwh", truth_per_ton)):
        assert inner[column].notna().all() and truth.notna().all(), column
        relative = (inner[column] - truth).abs() / truth
        exact = float((relative <= EXACT_RELATIVE).mean())
        print(f"{column}: {exact:.1%} of {len(inner)} runs within {EXACT_RELATIVE:g}, worst {relative.max():.2e}")
        assert exact >= EXACT_SHARE, column
        assert relative.max() <= BOUNDARY_RELATIVE, inner.loc[relative.idxmax(), ["plant_id", "order_id", column]]


def test_mtbf_and_mttr_of_each_day(e2e_run):
    """MTBF = running time / unplanned stops starting in the day, MTTR = their whole durations / their number
    (ISO 22400-2 at day grain, marts.kpi_daily), against the simulator's schedule. The window's first and last
    days are left out (a stop cut by the window)."""
    truth = e2e_run["truth_daily"]
    truth = truth[(truth["production_date"].dt.date > e2e_run["first_day"]) & (truth["production_date"].dt.date < e2e_run["last_day"])]
    with duckdb.connect(str(e2e_run["settings"].duckdb_path), read_only=True) as con:
        kpis = con.execute("select plant_id, production_date, kpi, value from marts.kpi_daily "
                           "where kpi in ('mtbf_min', 'mttr_min', 'unplanned_stop_count')").df()
    kpis = kpis.pivot_table(index=["plant_id", "production_date"], columns="kpi", values="value").reset_index()
    kpis["production_date"] = pd.to_datetime(kpis["production_date"])
    merged = truth.merge(kpis, on=["plant_id", "production_date"], how="left", suffixes=("_truth", ""))
    assert len(merged) >= 3 * 8
    truth_count = merged["unplanned_stop_count_truth"]
    assert (truth_count > 0).all(), "every demo day has unplanned stops"
    assert merged["unplanned_stop_count"].notna().all() and (merged["unplanned_stop_count"] == truth_count).all()
    expected = {"mtbf_min": merged["running_min"] / truth_count, "mttr_min": merged["unplanned_stop_min"] / truth_count}
    for column, truth_value in expected.items():
        assert merged[column].notna().all(), column
        error = (merged[column] - truth_value).abs()
        print(f"{column}: {len(merged)} plant-days, max abs error {error.max():.2e} min")
        assert error.max() < 1e-9, merged.loc[error.idxmax(), ["plant_id", "production_date", column]]
