"""The energy baseline template on a real plant: the Melbourne wastewater treatment plant's daily log
(../shared/datasets/real_plants/melbourne_wwtp), and on a simulated energy-only plant with a weekly rhythm.

The Melbourne rows are what the pipeline hands the template for this plant (tests/fixtures/real_plants/
melbourne_wwtp: energy per day, inflow as water_flow in m3/h, air temperature as outdoor_temperature), plus the
pollutant loads of the day (concentration x inflow, as further candidate drivers). The template's own functions
decide the grain, select the variables and compare template only / calibrated / from scratch / naive, with the
first 14 days and with the whole baseline. The fleet the template is fit on is synthetic (tests/ml_fixtures:
an output-driven plant and an energy-only plant, summed to days): the real plant has no real neighbour here.

A section of docs/benchmarks/ml.md (bench/bench_ml.py calls `run`); alone: python -m bench.energy_real
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("PLANT_ASSETS_DATASETS", ROOT.parent / "shared" / "datasets"))
MELBOURNE = DATASETS / "real_plants" / "melbourne_wwtp" / "Data-Melbourne_F.csv"


def melbourne_rows(path: Path = MELBOURNE) -> pd.DataFrame:
    """One row per reported day at the template's hourly-frame shape (the day's one reading starts at 00:00)."""
    raw = pd.read_csv(path)
    day = pd.to_datetime(raw[["year", "month", "day"]])
    inflow_m3h = raw["avg_inflow"] * 3600.0
    frame = pd.DataFrame({
        "plant_id": "melbourne_wwtp", "production_date": day, "hour_utc": day, "energy_kwh": raw["total_grid"].astype(float),
        "interval_minutes": 1440.0, "units_produced": 0.0, "running_minutes": 0.0,
        "hour_of_week": (day.dt.day_of_week * 24).astype(float), "non_working_day": float("nan"),
        "drv_water_flow": inflow_m3h, "drv_outdoor_temperature": raw["T"].astype(float),
    })
    for column, name in (("Am", "ammonia"), ("BOD", "bod"), ("COD", "cod"), ("TN", "total_nitrogen")):
        frame[f"drv_{name}_load"] = raw[column] * inflow_m3h * 24 / 1000.0  # mg/l x m3/day / 1000 = kg/day
    return frame.sort_values("production_date").reset_index(drop=True)


def melbourne_plant(start, end):
    return SimpleNamespace(
        plant_id="melbourne_wwtp", timezone="Australia/Melbourne", energy_baseline=SimpleNamespace(start=start, end=end),
        tag_map=tuple(SimpleNamespace(signal=s) for s in ("energy_interval", "water_flow", "outdoor_temperature")),
        products=(), calendar=SimpleNamespace(configured=False, non_working_days=lambda: frozenset()),
    )


def _fleet() -> pd.DataFrame:
    from tests.ml_fixtures import energy_only_hours, plant_hours

    return pd.concat([plant_hours("fleet_output", days=28, seed=1), energy_only_hours("fleet_energy_only", days=42, seed=2)])


def _table(metrics: dict, grain: str) -> list[str]:
    rows = ["| model | CV(RMSE), whole baseline | NMBE | CV(RMSE), first 14 days | NMBE |", "|---|---:|---:|---:|---:|"]
    for variant in ("naive", "template", "local", "calibrated"):
        full = (metrics.get(f"{variant}_cv_rmse_{grain}"), metrics.get(f"{variant}_nmbe_{grain}"))
        few = (metrics.get(f"{variant}_14d_cv_rmse_{grain}"), metrics.get(f"{variant}_14d_nmbe_{grain}"))
        cells = [f"{100 * v:.1f} %" if v is not None else "-" for v in (*full, *few)]
        rows.append(f"| {variant} | " + " | ".join(cells) + " |")
    return rows


def evaluate_site(label: str, site, rows: pd.DataFrame) -> list[str]:
    from ml.templates import energy_baseline as energy

    started = time.perf_counter()
    period = site.energy_baseline
    mine = rows[(rows["production_date"] >= pd.Timestamp(period.start)) & (rows["production_date"] <= pd.Timestamp(period.end))]
    pooled = pd.concat([_fleet(), mine], ignore_index=True)
    d = energy.design(site, pooled)
    metrics, holdout, _ = energy.evaluate_candidates(d)
    grain = energy.GRAINS[d.grain]
    out = [f"### {label}", "", f"- baseline {site.energy_baseline.start} .. {site.energy_baseline.end}: "
           f"{d.plant_rows['production_date'].nunique()} days; holdout: the last {holdout['production_date'].nunique()} days",
           f"- grain: **{d.grain}** ({d.grain_why}); limits: {grain.limits}",
           "- variables kept: " + (", ".join(f"{e.group} ({e.reason})" for e in d.evidence.values() if e.kept) or "none"),
           "- dropped: " + (", ".join(f"{e.group} ({e.reason})" for e in d.evidence.values() if not e.kept) or "none"),
           "- not available: " + (", ".join(f"{g} ({why})" for g, why in d.unavailable.items()) or "none"),
           f"- calibrated meets the limits: {'yes' if metrics['calibrated_meets_ashrae_g14'] else 'no'}; "
           f"{time.perf_counter() - started:.1f} s", "", *_table(metrics, d.grain), ""]
    return out


def run(quick: bool = False, baseline_days: tuple[int, ...] = (365, 730)) -> str:
    """Melbourne with a one-year and a two-year baseline (holdout: the last 25 % of each), then the energy-only plant."""
    from tests.ml_fixtures import energy_only_hours

    rows = melbourne_rows()
    start = rows["production_date"].min().date()
    lines = []
    for days in baseline_days:
        end = (rows["production_date"].min() + pd.Timedelta(days=days - 1)).date()
        lines += evaluate_site(f"Melbourne WWTP, real daily log ({days}-day baseline)", melbourne_plant(start, end), rows)
    energy_only = energy_only_hours("plant_e", days=42, seed=0)
    site = SimpleNamespace(
        plant_id="plant_e", timezone="UTC", energy_baseline=SimpleNamespace(start=energy_only["production_date"].min().date(),
                                                                            end=energy_only["production_date"].max().date()),
        tag_map=tuple(SimpleNamespace(signal=s) for s in ("energy_interval", "outdoor_temperature")), products=(),
        calendar=SimpleNamespace(configured=False, non_working_days=lambda: frozenset()))
    lines += evaluate_site("Simulated energy-only plant (no counter, no MES; weekly rhythm and heating load)", site, energy_only)
    return "\n".join(lines)


if __name__ == "__main__":
    days = (int(sys.argv[sys.argv.index("--baseline-days") + 1]),) if "--baseline-days" in sys.argv else (365, 730)
    print(run(baseline_days=days))
