"""Minute-level physics of a line (units, scrap, energy, registers) and of its motors (numpy).

Line energy per minute (kWh):
    (base_kw * base_factor / 60 + running * run_kw / 60 + kwh_per_unit[product] * units) * (1 + noise)
so it depends on machine state, throughput and product; `base_factor` > 1 on energy-waste days.
An efficiency improvement multiplies base_kw and run_kw by factors <= 1; the line also keeps the energy it
would have used without it (same noise draw), so the injected savings are exact.

Motors: current ~ rated full-load current x load while running (low when stopped); vibration RMS
velocity = healthy level x (0.9 + 0.15 load) x degradation multiplier while running; bearing
temperature = first-order lag towards ambient + rise x load + extra heat from degradation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from plant_assets.simulator.clock import MINUTE_MS, Clock
from plant_assets.simulator.profile import LineProfile, MotorProfile, ScheduleProfile
from plant_assets.simulator.schedule import PLANNED, LineSchedule

STOP_NONE, STOP_PLANNED, STOP_UNPLANNED = 0, 1, 2
# Nominal performance factor around which the motor load is expressed.
NOMINAL_PERFORMANCE = 0.91


@dataclass(frozen=True)
class LineTrace:
    line_id: str
    running: np.ndarray  # bool: producing in this minute
    run_index: np.ndarray  # int32 index into schedule.runs, -1 outside runs
    stop_category: np.ndarray  # int8 STOP_*
    product_index: np.ndarray  # int16 index into the plant's product list, -1 outside runs
    performance: np.ndarray  # float performance factor of the run (0 outside runs)
    units: np.ndarray  # int64 units produced in the minute (good + scrap)
    scrap: np.ndarray  # int64
    energy_kwh: np.ndarray  # float64 true energy of the minute
    energy_register_kwh: np.ndarray  # float64 totalizer at the minute's start instant
    count_register: np.ndarray  # int64 piece counter at the minute's start instant (no rollover)
    # Energy of the minute had no efficiency improvement been made (same noise); None without one.
    counterfactual_energy_kwh: np.ndarray | None = None
    # Energy of the minute above what the line would have used without injected waste (same noise); None without.
    wasted_energy_kwh: np.ndarray | None = None


@dataclass(frozen=True)
class MotorTrace:
    motor_id: str
    line_id: str
    running: np.ndarray
    current_a: np.ndarray
    vibration_mms: np.ndarray  # measured
    vibration_true_mms: np.ndarray  # noise-free
    bearing_temp_c: np.ndarray
    jitter_ms: np.ndarray  # int64 offset of each minute's sample inside the minute


def simulate_line(
    line: LineProfile,
    plan: LineSchedule,
    clock: Clock,
    product_codes: list[str],
    ideal_rates: dict[str, float],
    kwh_per_unit: dict[str, float],
    schedule: ScheduleProfile,
    base_factor: np.ndarray,
    energy_start_kwh: float,
    count_start: int,
    rng: np.random.Generator,
    improvement: tuple[np.ndarray, np.ndarray] | None = None,
    output: tuple[np.ndarray, np.random.Generator] | None = None,
) -> LineTrace:
    """`improvement`: (base load factor, running load factor) per minute, from efficiency improvements.
    `output`: (share of the units made per minute, the fault's own random stream) of a starved line (low-output
    waste, simulator/low_output.py): the drawn units are thinned after every draw of `rng`, so no other minute
    moves."""
    n = clock.n
    run_index = np.full(n, -1, dtype=np.int32)
    product_index = np.full(n, -1, dtype=np.int16)
    performance = np.zeros(n)
    scrap_share = np.zeros(n)
    for i, run in enumerate(plan.runs):
        run_index[run.start : run.end] = i
        product_index[run.start : run.end] = product_codes.index(run.product)
        performance[run.start : run.end] = run.performance
        scrap_share[run.start : run.end] = run.scrap_share
    stop_category = np.zeros(n, dtype=np.int8)
    for stop in plan.stops:
        stop_category[stop.start : stop.end] = STOP_PLANNED if stop.category == PLANNED else STOP_UNPLANNED
    running = (run_index >= 0) & (stop_category == STOP_NONE)

    rates = np.array([ideal_rates[c] for c in product_codes])
    per_unit = np.array([kwh_per_unit[c] for c in product_codes])
    prod = np.where(product_index >= 0, product_index, 0)
    nominal = np.where(running, rates[prod] * performance, 0.0)
    noisy = nominal + rng.normal(0.0, 1.0, n) * np.maximum(1.0, schedule.unit_noise_share * nominal)
    units = np.where(running, np.clip(np.rint(noisy), 0, None), 0).astype(np.int64)
    scrap = rng.binomial(units, np.clip(scrap_share, 0.0, 1.0)).astype(np.int64)
    if output is not None:  # binomial thinning of good and scrap units: each unit kept with the minute's share
        share, own = output
        kept_scrap = own.binomial(scrap, share).astype(np.int64)
        units, scrap = own.binomial(units - scrap, share).astype(np.int64) + kept_scrap, kept_scrap
        performance = performance * share

    def line_energy(base_improvement, run_improvement) -> np.ndarray:
        return (
            line.base_kw * base_factor * base_improvement / 60.0
            + running * (line.run_kw * run_improvement / 60.0)
            + np.where(running, per_unit[prod], 0.0) * units
        )

    noise = 1.0 + rng.normal(0.0, schedule.energy_noise_share, n)
    counterfactual = np.clip(line_energy(1.0, 1.0) * noise, 0.0, None)
    energy = counterfactual if improvement is None else np.clip(line_energy(*improvement) * noise, 0.0, None)

    energy_register = energy_start_kwh + np.concatenate(([0.0], np.cumsum(energy)[:-1]))
    count_register = count_start + np.concatenate(([0], np.cumsum(units)[:-1])).astype(np.int64)
    return LineTrace(
        line_id=plan.line_id,
        running=running,
        run_index=run_index,
        stop_category=stop_category,
        product_index=product_index,
        performance=performance,
        units=units,
        scrap=scrap,
        energy_kwh=energy,
        energy_register_kwh=energy_register,
        count_register=count_register,
        counterfactual_energy_kwh=None if improvement is None else counterfactual,
    )


def full_load_current(rated_kw: float, motors: MotorProfile) -> float:
    """Three-phase full-load current: P / (sqrt(3) * U * cos(phi) * efficiency)."""
    return rated_kw * 1000.0 / (np.sqrt(3.0) * motors.supply_voltage_v * motors.power_factor * motors.efficiency)


def degradation_multiplier(clock: Clock, onset_ms: int, failure_ms: int, growth_ratio: float) -> np.ndarray:
    """Vibration multiplier: 1 before onset, exp growth reaching `growth_ratio` at the failure instant,
    1 again from the failure on (the line is down for repair, then runs with a repaired motor)."""
    mult = np.ones(clock.n)
    t = clock.utc_ms.astype(np.float64)
    rate = np.log(growth_ratio) / float(failure_ms - onset_ms)
    growing = (t >= onset_ms) & (t < failure_ms)
    mult[growing] = np.exp(rate * (t[growing] - onset_ms))
    return mult


def simulate_motor(
    motor_id: str,
    line: LineTrace,
    clock: Clock,
    motors: MotorProfile,
    rated_kw: float,
    base_load: float,
    healthy_vibration: float,
    product_load: np.ndarray,
    degradation: np.ndarray,
    jitter: bool,
    rng: np.random.Generator,
) -> MotorTrace:
    n = clock.n
    running = line.running
    prod = np.where(line.product_index >= 0, line.product_index, 0)
    load = np.where(running, base_load * product_load[prod] * line.performance / NOMINAL_PERFORMANCE, 0.0)
    load = np.clip(load, 0.0, 1.15)

    vib_true = np.where(running, healthy_vibration * (0.9 + 0.15 * load) * degradation, motors.idle_vibration_mms)
    vib = np.clip(vib_true * (1.0 + rng.normal(0.0, motors.vibration_noise_share, n)), 0.0, None)

    i_full = full_load_current(rated_kw, motors)
    excess_vib = np.clip(vib_true - healthy_vibration, 0.0, None)
    current = np.where(
        running,
        i_full * load * (1.0 + 0.01 * excess_vib) * (1.0 + rng.normal(0.0, motors.current_noise_share, n)),
        i_full * motors.idle_current_share * (1.0 + rng.normal(0.0, 0.2, n)),
    )
    current = np.clip(current, 0.0, None)

    hours = clock.minute_of_day / 60.0
    ambient = motors.ambient_c + motors.ambient_daily_amplitude_c * np.sin(2 * np.pi * (hours - 9.0) / 24.0)
    target = ambient + motors.bearing_rise_c * load + motors.bearing_c_per_mms * np.where(running, excess_vib, 0.0)
    alpha = 1.0 - np.exp(-1.0 / motors.bearing_tau_min)
    lagged = pd.Series(target).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    temp = lagged + rng.normal(0.0, motors.temperature_noise_c, n)

    jitter_ms = rng.integers(0, MINUTE_MS // 1000, n) * 1000 if jitter else np.zeros(n, dtype=np.int64)
    return MotorTrace(
        motor_id=motor_id,
        line_id=line.line_id,
        running=running,
        current_a=current,
        vibration_mms=vib,
        vibration_true_mms=vib_true,
        bearing_temp_c=temp,
        jitter_ms=jitter_ms.astype(np.int64),
    )
