"""Synthetic standardized data for ML tests (no pipeline run needed)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd


def plant_hours(plant_id: str, days: int = 10, start: str = "2026-09-07", seed: int = 0, base_kw: float = 60.0,
                run_kw: float = 140.0, kwh_per_unit: float = 0.08, waste: float = 1.0,
                heavy_share: tuple[float, float] = (0.2, 0.6)) -> pd.DataFrame:
    """Plant-hours at the energy template's hourly grain (as energy_baseline.read_plant_hours gives them for a plant in
    UTC) with linear physics and 2% noise: heavy units cost 0.04 kWh more each (`heavy_share=(0, 0)`: a plant that
    makes no heavy product)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        day = pd.Timestamp(start) + pd.Timedelta(days=d)
        for h in range(24):
            running = float(rng.uniform(0, 60)) if 5 <= h <= 22 else float(rng.uniform(0, 10))
            units = running * float(rng.uniform(60, 80))
            heavy = units * float(rng.uniform(*heavy_share))
            energy = (base_kw * waste + run_kw * running / 60 + kwh_per_unit * units + 0.04 * heavy) * float(rng.normal(1, 0.02))
            rows.append({"plant_id": plant_id, "production_date": day, "hour_utc": day + pd.Timedelta(hours=h),
                         "energy_kwh": energy, "units_produced": units, "running_minutes": running,
                         "units_heavy": heavy, "units_standard": units - heavy, "interval_minutes": 60.0,
                         "hour_of_week": float(day.dayofweek * 24 + h), "non_working_day": np.nan})
    return pd.DataFrame(rows)


def energy_only_hours(plant_id: str, days: int = 42, start: str = "2026-01-05", seed: int = 0, base_kw: float = 800.0,
                      shift_kw: float = 2400.0, kw_per_heating_k: float = 60.0) -> pd.DataFrame:
    """A plant with an energy meter and an outdoor temperature only (no counter, no MES): two shifts on weekdays,
    one on Saturday, idle on Sunday (a weekly rhythm), heating load below 18 degC, 3 % noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        day = pd.Timestamp(start) + pd.Timedelta(days=d)
        for h in range(24):
            weekday = day.dayofweek
            shifts = (6 <= h < 22) if weekday < 5 else (6 <= h < 14) if weekday == 5 else False
            temperature = 4 + 6 * np.sin(2 * np.pi * (h - 9) / 24) + 4 * np.sin(2 * np.pi * d / 17) + rng.normal(0, 1)
            kw = base_kw + shift_kw * shifts + kw_per_heating_k * max(0.0, 18 - temperature)
            rows.append({"plant_id": plant_id, "production_date": day, "hour_utc": day + pd.Timedelta(hours=h),
                         "energy_kwh": kw * float(rng.normal(1, 0.03)), "units_produced": 0.0, "running_minutes": 0.0,
                         "interval_minutes": 60.0, "hour_of_week": float(weekday * 24 + h), "non_working_day": np.nan,
                         "drv_outdoor_temperature": temperature, "hdh": max(0.0, 18 - temperature), "cdh": max(0.0, temperature - 18)})
    return pd.DataFrame(rows)


def plant(plant_id: str, auto_promote: bool = False, start: date = date(2026, 9, 7), end: date = date(2026, 9, 16),
          signals: tuple[str, ...] = ("energy_total", "production_count_total"), families: tuple[str, ...] = ("standard", "heavy")):
    """The fields of PlantConfig the training flow reads."""
    return SimpleNamespace(
        plant_id=plant_id, name=f"Test plant {plant_id}", timezone="UTC",
        energy_baseline=SimpleNamespace(start=start, end=end),
        models=SimpleNamespace(auto_promote=auto_promote, retrain_on_drift=False, drift_window_days=14),
        tag_map=tuple(SimpleNamespace(signal=s) for s in signals),
        products=tuple(SimpleNamespace(code=f.upper(), family=f) for f in families),
        calendar=SimpleNamespace(configured=False, non_working_days=lambda: frozenset()),
    )


def motor_days(degrade_from: int | None, motor_id: str, days: int = 12, seed: int = 0, plant_id: str = "p") -> pd.DataFrame:
    """Daily motor-health rows (marts.fct_motor_health_daily) of one motor; from `degrade_from` on its vibration
    and bearing temperature grow as a degrading bearing's do."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        factor = 1.0 if degrade_from is None or d < degrade_from else 1.0 + 0.12 * (d - degrade_from + 1) ** 1.5
        vib = 1.5 * factor * rng.normal(1, 0.01)
        rows.append({"plant_id": plant_id, "motor_id": motor_id, "line_id": "L1", "production_date": pd.Timestamp("2026-09-07") + pd.Timedelta(days=d),
                     "machine_class": "iso20816_group2_rigid", "vibration_mean_mms": vib, "vibration_max_mms": vib * 1.3,
                     "bearing_temp_mean_c": 55 + 3 * (factor - 1) + rng.normal(0, 0.3), "zone": "B", "health": "green"})
    return pd.DataFrame(rows)


def production_runs(plant_id: str = "p", n: int = 200, seed: int = 0, every_hours: int = 3,
                    families: tuple[str, str] = ("can_24oz", "can_12oz")) -> pd.DataFrame:
    """Production runs (marts.fct_production_run with the product family, free names): the first family (the
    heavier product, 40 % of the runs) scraps 4.5 %, the second 2.5 %."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-09-07") + pd.to_timedelta(np.arange(n) * every_hours, unit="h")
    heavy = rng.random(n) < 0.4
    total = rng.integers(5000, 20000, n)
    scrap = (total * np.where(heavy, 0.045, 0.025) * rng.normal(1, 0.1, n)).astype(int)
    return pd.DataFrame({"plant_id": plant_id, "order_id": [f"{plant_id}-{i}" for i in range(n)], "start_utc": start,
                         "end_utc": start + pd.Timedelta(hours=2), "good_qty": total - scrap, "scrap_qty": scrap, "kwh_per_unit": 0.08,
                         "production_date": start.normalize(), "product_family": np.where(heavy, *families)})
