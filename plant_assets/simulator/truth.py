"""Ground truth of a simulation: what really happened, to test the pipeline against (never ingested).

Files in `truth_dir` (one set for all simulated plants; rewritten on every run):

daily.csv        plant_id, production_date (local), energy_kwh, units_produced, good_qty, scrap_qty,
                 kwh_per_unit, unplanned_downtime_min, planned_downtime_min, running_min,
                 planned_busy_min, ideal_min, availability, performance, quality_ratio, oee
                 Per plant-local day [00:00, 24:00), all lines. energy_kwh is the exact sum of the
                 line-minute energies (= totalizer increase over the day); units / good / scrap count
                 the minutes starting in the day; downtime minutes are the minutes of stops in the day;
                 kwh_per_unit = energy_kwh / units_produced (empty when nothing was produced).
                 ISO 22400-2 OEE components with the definitions of marts.kpi_daily (all lines pooled):
                 planned_busy_min (PBT) = line-minutes in an order or an unplanned stop and not in a
                 planned stop; running_min (APT) = in an order and in no stop; ideal_min (PRI x PQ)
                 = sum of units / ideal_rate_per_min of the product over running minutes;
                 availability = APT / PBT, performance = ideal_min / APT, quality_ratio = good /
                 units, oee = their product (empty when a denominator is 0).
                 injected_savings_kwh = the energy the lines would have used without an injected
                 efficiency improvement minus energy_kwh (same random draws, so exact; 0 without one).
                 injected_waste_kwh = energy_kwh minus the energy the lines would have used without an
                 injected waste (energy_waste, low_output_waste; same random draws, exact; 0 without one).
                 unplanned_stop_count, unplanned_stop_min: the unplanned stops (MES downtime events of
                 the unplanned category) that start in the day, and their whole durations (minutes, a stop
                 past midnight counted whole): the truth of MTBF (running_min / count) and MTTR.
runs.csv         plant_id, order_id, line_id, product_code, start_utc, end_utc, units_produced,
                 good_qty, scrap_qty, energy_kwh   (energy of the line in [start, end); naive UTC times)
motor_daily.csv  plant_id, motor_id, production_date, vibration_mean_mms, zone, health, line_id,
                 running_min   vibration_mean_mms is the noise-free mean while running; zone A-D from the
                 machine class's ISO 20816 boundaries; health green (A/B), yellow (C), red (D);
                 empty when the motor did not run that day.
faults.json      the injected faults with absolute local dates (and, for motor degradation, the dates
                 the motor first reached zones C and D and the breakdown interval; for an efficiency
                 improvement, injected_savings_kwh over its simulated days; for a waste, injected_waste_kwh).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from plant_assets.simulator.clock import Clock
from plant_assets.simulator.physics import (
    STOP_PLANNED,
    STOP_UNPLANNED,
    LineTrace,
    MotorTrace,
)
from plant_assets.simulator.profile import ZONE_HEALTH
from plant_assets.simulator.schedule import UNPLANNED

DAILY_COLUMNS = ["plant_id", "production_date", "energy_kwh", "units_produced", "good_qty", "scrap_qty",
                 "kwh_per_unit", "unplanned_downtime_min", "planned_downtime_min", "running_min",
                 "planned_busy_min", "ideal_min", "availability", "performance", "quality_ratio", "oee",
                 "injected_savings_kwh", "injected_waste_kwh"]  # fmt: skip
RUN_COLUMNS = ["plant_id", "order_id", "line_id", "product_code", "start_utc", "end_utc", "units_produced",
               "good_qty", "scrap_qty", "energy_kwh"]  # fmt: skip
MOTOR_COLUMNS = ["plant_id", "motor_id", "production_date", "vibration_mean_mms", "zone", "health", "line_id",
                 "running_min"]  # fmt: skip


def daily_truth(
    plant_id: str, clock: Clock, lines: list[LineTrace], ideal_rates: np.ndarray | None = None
) -> pd.DataFrame:
    """Per plant-local day; `ideal_rates` (units/min by product index) enables the performance truth."""
    days = clock.day

    def per_day(values: np.ndarray) -> np.ndarray:
        return np.bincount(days, weights=values, minlength=clock.days)

    energy = sum(per_day(t.energy_kwh) for t in lines)
    savings = sum(per_day(t.counterfactual_energy_kwh - t.energy_kwh) for t in lines
                  if t.counterfactual_energy_kwh is not None) + np.zeros(clock.days)
    waste = sum(per_day(t.wasted_energy_kwh) for t in lines if t.wasted_energy_kwh is not None) + np.zeros(clock.days)
    units = sum(per_day(t.units.astype(float)) for t in lines)
    scrap = sum(per_day(t.scrap.astype(float)) for t in lines)
    unplanned = sum(per_day((t.stop_category == STOP_UNPLANNED).astype(float)) for t in lines)
    planned = sum(per_day((t.stop_category == STOP_PLANNED).astype(float)) for t in lines)
    running = sum(per_day(t.running.astype(float)) for t in lines)
    busy = sum(
        per_day(
            (((t.run_index >= 0) | (t.stop_category == STOP_UNPLANNED)) & (t.stop_category != STOP_PLANNED)).astype(float)
        )
        for t in lines
    )
    if ideal_rates is None:
        ideal = np.full(clock.days, np.nan)
    else:
        rates = np.asarray(ideal_rates, dtype=float)
        ideal = sum(
            per_day(np.where(t.running, t.units / rates[np.where(t.product_index >= 0, t.product_index, 0)], 0.0))
            for t in lines
        )

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    per_unit = ratio(energy, units)
    availability = ratio(running, busy)
    performance = ratio(ideal, running)
    quality = ratio(units - scrap, units)
    return pd.DataFrame(
        {
            "plant_id": plant_id,
            "production_date": [clock.date_of(d).isoformat() for d in range(clock.days)],
            "energy_kwh": energy,
            "units_produced": units.astype(np.int64),
            "good_qty": (units - scrap).astype(np.int64),
            "scrap_qty": scrap.astype(np.int64),
            "kwh_per_unit": per_unit,
            "unplanned_downtime_min": unplanned.astype(np.int64),
            "planned_downtime_min": planned.astype(np.int64),
            "running_min": running.astype(np.int64),
            "planned_busy_min": busy.astype(np.int64),
            "ideal_min": ideal,
            "availability": availability,
            "performance": performance,
            "quality_ratio": quality,
            "oee": availability * performance * quality,
            "injected_savings_kwh": savings,
            "injected_waste_kwh": waste,
        },
        columns=DAILY_COLUMNS,
    )


def unplanned_stops_per_day(clock: Clock, plans: list) -> pd.DataFrame:
    """Per plant-local day: the number of unplanned stops starting in it and their whole durations (minutes)."""
    count, minutes = np.zeros(clock.days, dtype=np.int64), np.zeros(clock.days, dtype=np.int64)
    for plan in plans:
        for stop in plan.stops:
            if stop.category == UNPLANNED and 0 <= stop.start < clock.n:
                count[clock.day[stop.start]] += 1
                minutes[clock.day[stop.start]] += stop.end - stop.start
    return pd.DataFrame({"unplanned_stop_count": count, "unplanned_stop_min": minutes})


def zone_of(vibration: float, boundaries: tuple[float, float, float]) -> str:
    if not np.isfinite(vibration):
        return ""
    ab, bc, cd = boundaries
    return "A" if vibration < ab else "B" if vibration < bc else "C" if vibration < cd else "D"


def motor_daily_truth(
    plant_id: str, clock: Clock, motors: list[MotorTrace], boundaries: dict[str, tuple[float, float, float]]
) -> pd.DataFrame:
    rows = []
    for m in motors:
        run_min = np.bincount(clock.day, weights=m.running.astype(float), minlength=clock.days)
        vib_sum = np.bincount(clock.day, weights=np.where(m.running, m.vibration_true_mms, 0.0), minlength=clock.days)
        for d in range(clock.days):
            mean = vib_sum[d] / run_min[d] if run_min[d] > 0 else np.nan
            zone = zone_of(mean, boundaries[m.motor_id])
            rows.append(
                (plant_id, m.motor_id, clock.date_of(d).isoformat(), mean, zone, ZONE_HEALTH.get(zone, ""),
                 m.line_id, int(run_min[d]))  # fmt: skip
            )
    return pd.DataFrame(rows, columns=MOTOR_COLUMNS)


def _utc_text(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms, unit="ms").dt.strftime("%Y-%m-%d %H:%M:%S")


def runs_truth(plant_id: str, runs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "plant_id": plant_id,
            "order_id": runs["order_id"],
            "line_id": runs["line_id"],
            "product_code": runs["product_code"],
            "start_utc": _utc_text(runs["start_ms"]),
            "end_utc": _utc_text(runs["end_ms"]),
            "units_produced": runs["units_produced"],
            "good_qty": runs["good_qty"],
            "scrap_qty": runs["scrap_qty"],
            "energy_kwh": runs["energy_kwh"],
        },
        columns=RUN_COLUMNS,
    )


def write_truth(
    truth_dir: Path,
    daily: pd.DataFrame,
    runs: pd.DataFrame,
    motor_daily: pd.DataFrame,
    faults: list[dict],
) -> list[Path]:
    truth_dir.mkdir(parents=True, exist_ok=True)
    daily = daily.assign(energy_kwh=daily["energy_kwh"].round(6), kwh_per_unit=daily["kwh_per_unit"].round(8))
    for column in ("injected_savings_kwh", "injected_waste_kwh"):
        if column in daily:
            daily[column] = daily[column].round(6)
    daily = daily.round({c: 8 for c in ("ideal_min", "availability", "performance", "quality_ratio", "oee") if c in daily})
    runs = runs.assign(energy_kwh=runs["energy_kwh"].round(6))
    motor_daily = motor_daily.assign(vibration_mean_mms=motor_daily["vibration_mean_mms"].round(4))
    paths = []
    for name, frame in (("daily.csv", daily), ("runs.csv", runs), ("motor_daily.csv", motor_daily)):
        path = truth_dir / name
        path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8", newline="")
        paths.append(path)
    path = truth_dir / "faults.json"
    path.write_text(json.dumps(faults, indent=2, sort_keys=True) + "\n", encoding="utf-8", newline="")
    paths.append(path)
    return paths
