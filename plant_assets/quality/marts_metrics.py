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
from plant_assets.quality.suites import load_suite_definition

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
    con: duckdb.DuckDBPyConnection, expected: list[tuple[str, date]], history_days: int
) -> pd.DataFrame:
    """One row per expected plant-day with its KPIs (NaN when missing) and its history median."""
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
        history = mine[(mine["production_date"] < day) & (mine["production_date"] >= day - timedelta(days=history_days))]
        row = {"plant_id": plant_id, "production_date": day}
        row |= {kpi: (float(today[kpi].iloc[0]) if len(today) else float("nan")) for kpi in kpis}
        row["history_days"] = int(history[BAND_KPI].notna().sum())
        row["history_median_kwh_per_unit"] = float(history[BAND_KPI].median()) if len(history) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)
