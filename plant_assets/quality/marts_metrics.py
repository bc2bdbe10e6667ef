"""Frames the marts gate judges: one row per plant-day of marts.kpi_daily, with the plant's own
historical kWh/unit band."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from plant_assets.core.catalog import load_kpi_catalog
from plant_assets.core.kpi_inputs import computable_kpis
from plant_assets.core.plant_config import PlantConfig
from plant_assets.quality import kpi_bounds
from plant_assets.quality.suites import GateOutcome, load_suite_definition, suite_parameters, validate_frame

SUITE = "marts_kpi_daily"
BAND_KPI = "kwh_per_unit"  # the KPI whose own history draws the band
FRAME_COLUMNS = ("plant_id", "production_date", "history_days", "history_median_kwh_per_unit")


@lru_cache(maxsize=1)
def gate_kpis() -> tuple[str, ...]:
    """The KPIs a plant-day frame carries: the kpi_daily KPIs of the catalog (seeds/kpi_catalog.csv) that the
    suite's expectations name, and the band KPI, in catalog order. A suite column that is neither such a KPI
    nor a column the frame computes is refused, so a typo cannot judge an always-missing column."""
    catalog = load_kpi_catalog()
    named = {e["kwargs"]["column"] for e in load_suite_definition(SUITE)["expectations"] if "column" in e["kwargs"]}
    unknown = sorted(named - set(FRAME_COLUMNS) - {k for k, v in catalog.items() if v.in_kpi_daily})
    if unknown:
        raise ValueError(f"suite {SUITE} names {unknown}: not kpi_daily KPIs of kpi_catalog.csv nor frame columns")
    return tuple(k for k, v in catalog.items() if v.in_kpi_daily and (k in named or k == BAND_KPI))


def not_computable(plant) -> frozenset[str]:
    """The gate KPIs the plant's configuration cannot compute (an energy-only plant has no kwh_per_unit): their
    not-null expectations do not apply to it, so no plant fails for a KPI it cannot have."""
    return frozenset(gate_kpis()) - computable_kpis(plant)


def ingest_gate_status(lake: Path, first_day: date, last_day: date) -> pd.DataFrame:
    """plant_id, production_date, passed: the ingest gates (raw, canonical) of each plant-day."""
    files = list((lake / "gates").glob("plant_id=*/production_date=*/*.parquet"))
    if not files:
        return pd.DataFrame(columns=["plant_id", "production_date", "layer", "passed"])
    with duckdb.connect() as con:
        return con.execute(
            """
            select plant_id, production_date, layer, passed
            from read_parquet($glob, hive_partitioning = true, union_by_name = true,
                              hive_types = {'plant_id': VARCHAR, 'production_date': DATE})
            where production_date between $first and $last
            """,
            {"glob": str(lake / "gates" / "*" / "*" / "*.parquet"), "first": first_day, "last": last_day},
        ).df()


def failed_plant_days(lake: Path, first_day: date, last_day: date, layers=("raw", "canonical", "marts")) -> set:
    """(plant_id, day) pairs with any failed gate: Python assets downstream of dbt skip them."""
    status = ingest_gate_status(lake, first_day, last_day)
    failed = status[status["layer"].isin(layers) & ~status["passed"].astype(bool)]
    return {(r.plant_id, pd.Timestamp(r.production_date).date()) for r in failed.itertuples()}


def kpi_day_frames(
    con: duckdb.DuckDBPyConnection, expected: list[tuple[str, date]], history_days: int,
    exclude: set[tuple[str, date]] = frozenset(),
) -> pd.DataFrame:
    """One row per expected plant-day with its KPIs (NaN when missing), its kWh/unit history median and the
    highest day of each bounded KPI (kpi_bounds); `exclude` (plant-days that failed the marts gate) never
    counts as history."""
    if not expected:
        return pd.DataFrame()
    kpis = gate_kpis()
    first = min(d for _, d in expected) - timedelta(days=history_days)
    last = max(d for _, d in expected)
    long = con.execute(
        "select plant_id, production_date, kpi, value from marts.kpi_daily "
        "where production_date between ? and ? and kpi in (select unnest(?))",
        [first, last, list(kpis)],
    ).df()
    wide = long.pivot_table(index=["plant_id", "production_date"], columns="kpi", values="value").reset_index()
    wide["production_date"] = pd.to_datetime(wide["production_date"]).dt.date
    for kpi in kpis:
        if kpi not in wide:
            wide[kpi] = float("nan")
    rows = []
    for plant_id, day in expected:
        mine = wide[wide["plant_id"] == plant_id]
        today = mine[mine["production_date"] == day]
        history = mine[(mine["production_date"] < day) & (mine["production_date"] >= day - timedelta(days=history_days))
                       & ~mine["production_date"].map(lambda d, p=plant_id: (p, d) in exclude).astype(bool)]
        row = {"plant_id": plant_id, "production_date": day}
        row |= {kpi: (float(today[kpi].iloc[0]) if len(today) else float("nan")) for kpi in kpis}
        row["history_days"] = int(history[BAND_KPI].notna().sum())
        row["history_median_kwh_per_unit"] = float(history[BAND_KPI].median()) if len(history) else float("nan")
        for kpi in kpi_bounds.BOUNDED_KPIS:
            row[kpi_bounds.history_days_column(kpi)] = int(history[kpi].notna().sum())
            row[kpi_bounds.history_column(kpi)] = float(history[kpi].max()) if len(history) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def judge_plant_day(plant: PlantConfig, row: dict) -> tuple[GateOutcome, dict, dict]:
    """Validate one plant-day row of kpi_day_frames with the suite: (outcome, parameters applied, the plant's
    overrides). kWh/unit within [median / band_factor, median x band_factor] of the plant's history once it has
    MIN_HISTORY_DAYS days; energy and output within kpi_bounds (failures carry a reason naming KPI, value and
    bound)."""
    thresholds, overrides = suite_parameters(SUITE, plant.quality_gates.get(SUITE))
    median = row["history_median_kwh_per_unit"]
    has_band = row["history_days"] >= kpi_bounds.MIN_HISTORY_DAYS and median == median
    band = (median / thresholds["band_factor"], median * thresholds["band_factor"]) if has_band else (0.0, 1e18)
    bounds = kpi_bounds.day_bounds(plant, row, thresholds)
    parameters = thresholds | {"band_low": band[0], "band_high": band[1]} | kpi_bounds.bound_parameters(bounds)
    outcome = validate_frame(SUITE, pd.DataFrame([row]), parameters, f"{row['plant_id']}|{row['production_date']}",
                             not_applicable=not_computable(plant))  # never fail a plant for a KPI it cannot compute
    outcome.failed = kpi_bounds.explain(outcome.failed, bounds, row)
    return outcome, parameters, overrides
