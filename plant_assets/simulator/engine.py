"""Simulate plants end to end: schedule -> physics -> historian and event exports -> ground truth."""

from __future__ import annotations

import time as _time
import zlib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from plant_assets.core.plant_config import DOWNTIME_COLUMNS, RUN_COLUMNS, PlantConfig
from plant_assets.simulator.clock import MINUTE_MS, Clock, local_to_utc_ms, make_clock
from plant_assets.simulator.lab import simulate_lab, write_lab_truth
from plant_assets.simulator import low_output
from plant_assets.simulator.physics import (
    LineTrace,
    MotorTrace,
    degradation_multiplier,
    simulate_line,
    simulate_motor,
)
from plant_assets.simulator.profile import (
    EfficiencyImprovementFault,
    simulated_products,
    EnergyWasteFault,
    LowOutputWasteFault,
    MotorDegradationFault,
    ScrapDriftFault,
    SimulationProfile,
    load_profile,
)
from plant_assets.simulator.schedule import UNPLANNED, LineSchedule, Stop, schedule_line
from plant_assets.simulator.tags import build_tag_series
from plant_assets.simulator.truth import (
    daily_truth,
    motor_daily_truth,
    runs_truth,
    unplanned_stops_per_day,
    write_truth,
)
from plant_assets.simulator.writers import (
    HISTORIAN_WRITERS,
    Written,
    category_labels,
    write_events,
)


class Streams:
    """Independent, named random streams: a plant's seed (plus the optional global seed) and a name.

    Each component draws from its own stream, so adding a line or a tag never changes the others."""

    def __init__(self, plant_seed: int, global_seed: int | None):
        self.entropy = [plant_seed] if global_seed is None else [plant_seed, global_seed]

    def __call__(self, *names: str) -> np.random.Generator:
        key = zlib.crc32("/".join(names).encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence(self.entropy, spawn_key=(key,)))


@dataclass
class PlantResult:
    plant_id: str
    daily: pd.DataFrame
    runs: pd.DataFrame
    motor_daily: pd.DataFrame
    faults: list[dict[str, Any]]
    historian_files: list[Written] = field(default_factory=list)
    run_files: list[Written] = field(default_factory=list)
    downtime_files: list[Written] = field(default_factory=list)
    minutes: int = 0
    lab_files: list[Written] = field(default_factory=list)
    lab_daily: pd.DataFrame | None = None
    # daily truth per line (the columns of truth.daily_truth plus line_id); not written to the truth folder
    line_daily: pd.DataFrame | None = None


@dataclass(frozen=True)
class _Failure:
    fault_index: int
    fault: MotorDegradationFault
    line_id: str
    onset_ms: int
    failure_ms: int
    stop: Stop | None  # the breakdown, when the failure falls inside the window


def _failures(plant: PlantConfig, profile: SimulationProfile, clock: Clock, rng_for: Streams) -> list[_Failure]:
    line_of = {m.id: line.id for line, m in plant.motors}
    failures = []
    for i, fault in enumerate(profile.faults):
        if not isinstance(fault, MotorDegradationFault):
            continue
        rng = rng_for("fault", str(i))
        hour = fault.failure_hour if fault.failure_hour is not None else float(rng.uniform(6.0, 18.0))
        onset_ms = local_to_utc_ms(clock.start + timedelta(days=fault.onset_day), clock.tz)
        failure_ms = local_to_utc_ms(clock.start + timedelta(days=fault.failure_day), clock.tz, round(hour * 60))
        duration = int(round(rng.uniform(*fault.breakdown_hours) * 60))
        stop = None
        idx = clock.index_of_utc_ms(failure_ms)
        if 0 <= idx < clock.n:
            reason = fault.reason.format(motor=fault.motor, line=line_of[fault.motor])
            stop = Stop(line_of[fault.motor], idx, idx + duration, UNPLANNED, reason)
        failures.append(_Failure(i, fault, line_of[fault.motor], onset_ms, failure_ms, stop))
    return failures


def _base_factor(profile: SimulationProfile, clock: Clock, line_id: str) -> np.ndarray:
    factor = np.ones(clock.n)
    for fault in profile.faults:
        if isinstance(fault, EnergyWasteFault) and (fault.lines is None or line_id in fault.lines):
            factor[(clock.day >= fault.start_day) & (clock.day <= fault.end_day)] *= fault.base_load_factor
    return factor * low_output.base_factor(profile, clock, line_id)


def _fault_days(clock: Clock, start_day: int, end_day: int | None) -> np.ndarray:
    return (clock.day >= start_day) & (clock.day <= (clock.days if end_day is None else end_day))


def _improvement(profile: SimulationProfile, clock: Clock, line_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(base, running) load factors of the line's efficiency improvements per minute; None without one."""
    faults = [f for f in profile.faults if isinstance(f, EfficiencyImprovementFault) and (f.lines is None or line_id in f.lines)]
    if not faults:
        return None
    base, run = np.ones(clock.n), np.ones(clock.n)
    for fault in faults:
        days = _fault_days(clock, fault.start_day, fault.end_day)
        base[days] *= fault.base_load_factor
        run[days] *= fault.run_load_factor
    return base, run


def _with_scrap_drift(
    profile: SimulationProfile, clock: Clock, plan: LineSchedule, trace: LineTrace, rng: np.random.Generator
) -> LineTrace:
    """Scrap drift: extra scrap among the good units of the drifting minutes, drawn from the fault's own stream
    so every other draw of the line is unchanged. Binomial thinning: Bin(units, p) scrap plus
    Bin(good, p (f - 1) / (1 - p)) extra is Bin(units, p f) scrap, p = the run's scrap share."""
    faults = [f for f in profile.faults if isinstance(f, ScrapDriftFault) and (f.lines is None or trace.line_id in f.lines)]
    if not faults:
        return trace
    factor = np.ones(clock.n)
    for fault in faults:
        factor[_fault_days(clock, fault.start_day, fault.end_day)] *= fault.scrap_factor
    share = np.zeros(clock.n)
    for run in plan.runs:
        share[run.start : run.end] = run.scrap_share
    extra_share = np.clip(share * (factor - 1.0) / np.clip(1.0 - share, 1e-9, None), 0.0, 1.0)
    extra = rng.binomial(trace.units - trace.scrap, extra_share).astype(np.int64)
    return replace(trace, scrap=trace.scrap + extra)


def _runs_frame(
    plant: PlantConfig, profile: SimulationProfile, clock: Clock, plans: list[LineSchedule], traces: dict[str, LineTrace]
) -> pd.DataFrame:
    rows = []
    for line_no, plan in enumerate(plans):
        t = traces[plan.line_id]
        cum_e = np.concatenate(([0.0], np.cumsum(t.energy_kwh)))
        cum_u = np.concatenate(([0], np.cumsum(t.units)))
        cum_s = np.concatenate(([0], np.cumsum(t.scrap)))
        for r in plan.runs:
            units = int(cum_u[r.end] - cum_u[r.start])
            scrap = int(cum_s[r.end] - cum_s[r.start])
            rows.append(
                {
                    "line_id": r.line_id,
                    "line_no": line_no,
                    "product_code": r.product,
                    "start_min": r.start,
                    "end_min": r.end,
                    "units_produced": units,
                    "good_qty": units - scrap,
                    "scrap_qty": scrap,
                    "energy_kwh": float(cum_e[r.end] - cum_e[r.start]),
                }
            )
    columns = ["line_id", "line_no", "product_code", "start_min", "end_min", "units_produced", "good_qty",
               "scrap_qty", "energy_kwh"]  # fmt: skip
    runs = pd.DataFrame(rows, columns=columns).sort_values(["start_min", "line_no"], kind="stable")
    runs = runs.reset_index(drop=True)
    t0 = int(clock.utc_ms[0])
    runs["start_ms"] = t0 + runs["start_min"].astype(np.int64) * MINUTE_MS
    runs["end_ms"] = t0 + runs["end_min"].astype(np.int64) * MINUTE_MS
    runs["day"] = clock.day[runs["start_min"].to_numpy()] if len(runs) else np.zeros(0, dtype=np.int32)
    runs["order_id"] = [
        profile.order_id_format.format(
            plant=plant.plant_id, line=row.line_id, seq=profile.order_id_start + k, date=clock.date_of(int(row.day))
        )
        for k, row in enumerate(runs.itertuples(index=False))
    ]
    return runs


def _stops_frame(clock: Clock, plans: list[LineSchedule], labels: dict[str, str]) -> pd.DataFrame:
    rows = [
        (s.line_id, line_no, s.start, s.end, s.reason, labels[s.category])
        for line_no, plan in enumerate(plans)
        for s in plan.stops
    ]
    stops = pd.DataFrame(rows, columns=["line_id", "line_no", "start_min", "end_min", "reason", "category"])
    stops = stops.sort_values(["start_min", "line_no"], kind="stable").reset_index(drop=True)
    t0 = int(clock.utc_ms[0])
    stops["start_ms"] = t0 + stops["start_min"].astype(np.int64) * MINUTE_MS
    stops["end_ms"] = t0 + stops["end_min"].astype(np.int64) * MINUTE_MS
    stops["day"] = clock.day[stops["start_min"].to_numpy()] if len(stops) else np.zeros(0, dtype=np.int32)
    return stops


def _fault_records(
    plant: PlantConfig,
    profile: SimulationProfile,
    clock: Clock,
    failures: list[_Failure],
    growth: dict[str, float],
    motor_daily: pd.DataFrame,
    savings: pd.DataFrame,
) -> list[dict[str, Any]]:
    """`savings`: the daily truth (production_date, injected_savings_kwh), to total each improvement."""
    records: list[dict[str, Any]] = []
    last_day = clock.days - 1

    def local_date(day_offset: int) -> str:
        return (clock.start + timedelta(days=day_offset)).isoformat()

    for i, fault in enumerate(profile.faults):
        if isinstance(fault, (EnergyWasteFault, LowOutputWasteFault)):
            if fault.start_day > last_day:
                continue
            record = {
                "plant_id": plant.plant_id,
                "type": fault.type,
                "description": fault.description,
                "lines": fault.lines or [line.id for line in plant.lines],
                "start_date": local_date(fault.start_day),
                "end_date": local_date(fault.end_day),
                "simulated_end_date": local_date(min(fault.end_day, last_day)),
                "base_load_factor": fault.base_load_factor,
            }
            days = savings[savings["production_date"].between(record["start_date"], record["simulated_end_date"])]
            record["injected_waste_kwh"] = round(float(days["injected_waste_kwh"].sum()), 3)
            if isinstance(fault, LowOutputWasteFault):
                record["output_factor"] = fault.output_factor
            records.append(record)
        if isinstance(fault, (EfficiencyImprovementFault, ScrapDriftFault)):
            if fault.start_day > last_day:
                continue
            end_day = last_day if fault.end_day is None else fault.end_day
            record = {
                "plant_id": plant.plant_id,
                "type": fault.type,
                "description": fault.description,
                "lines": fault.lines or [line.id for line in plant.lines],
                "start_date": local_date(fault.start_day),
                "end_date": local_date(end_day) if fault.end_day is not None else None,
                "simulated_end_date": local_date(min(end_day, last_day)),
            }
            if isinstance(fault, EfficiencyImprovementFault):
                days = savings[(savings["production_date"] >= record["start_date"])
                               & (savings["production_date"] <= record["simulated_end_date"])]
                record.update(base_load_factor=fault.base_load_factor, run_load_factor=fault.run_load_factor,
                              injected_savings_kwh=round(float(days["injected_savings_kwh"].sum()), 3))
            else:
                record.update(scrap_factor=fault.scrap_factor)
            records.append(record)
    for f in failures:
        fault = f.fault
        if fault.onset_day > last_day:
            continue
        days = motor_daily[motor_daily["motor_id"] == fault.motor]
        first = {z: next(iter(days.loc[days["zone"] == z, "production_date"]), None) for z in ("C", "D")}
        record: dict[str, Any] = {
            "plant_id": plant.plant_id,
            "type": fault.type,
            "description": fault.description,
            "motor_id": fault.motor,
            "line_id": f.line_id,
            "onset_date": local_date(fault.onset_day),
            "failure_date": local_date(fault.failure_day),
            "failure_in_window": f.stop is not None,
            "vibration_growth_ratio": round(growth[fault.motor], 4),
            "first_zone_c_date": first["C"],
            "first_zone_d_date": first["D"],
            "breakdown_start_utc": None,
            "breakdown_end_utc": None,
            "breakdown_reason": None,
        }
        if f.stop is not None:
            t0 = int(clock.utc_ms[0])
            to_text = lambda m: pd.Timestamp(t0 + m * MINUTE_MS, unit="ms").strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
            record.update(
                breakdown_start_utc=to_text(f.stop.start),
                breakdown_end_utc=to_text(min(f.stop.end, clock.n)),
                breakdown_reason=f.stop.reason,
            )
        records.append(record)
    return records


def simulate_plant(
    plant: PlantConfig, start: date, days: int, landing_root: Path, seed: int | None = None
) -> PlantResult:
    """Simulate one plant and write its exports into `plant.landing_path(landing_root)`; return its truth."""
    profile = load_profile(plant)
    if plant.historian.dialect not in HISTORIAN_WRITERS:
        raise ValueError(f"{plant.plant_id}: no simulator writer for dialect {plant.historian.dialect!r}")
    rng_for = Streams(profile.seed, seed)
    clock = make_clock(start, days, plant.tz)
    ideal = dict(simulated_products(plant, profile))
    product_codes = list(ideal)
    failures = _failures(plant, profile, clock, rng_for)

    plans: list[LineSchedule] = []
    traces: dict[str, LineTrace] = {}
    for line in plant.lines:
        lp = profile.lines[line.id]
        codes = lp.products or product_codes
        forced = [f.stop for f in failures if f.stop is not None and f.line_id == line.id]
        plan = schedule_line(
            line.id,
            clock,
            profile.schedule,
            codes,
            [profile.products[c].mix_weight for c in codes],
            {c: profile.products[c].scrap_share for c in codes},
            profile.reasons.planned,
            profile.reasons.unplanned,
            forced,
            rng_for("schedule", line.id),
            introduced_days=[profile.products[c].introduced_day for c in codes],
        )
        share = low_output.output_share(profile, clock, line.id)
        regs = rng_for("registers", line.id)
        energy_start, count_start = float(regs.uniform(*profile.registers.energy_start_kwh)), regs.uniform(*profile.registers.count_start)

        def line_trace(base_factor: np.ndarray, line_profile=lp, line_plan=plan, line_id=line.id, share=share) -> LineTrace:
            return simulate_line(
                line_profile, line_plan, clock, product_codes, ideal,
                {c: profile.products[c].kwh_per_unit for c in product_codes}, profile.schedule, base_factor,
                energy_start_kwh=round(energy_start, 1), count_start=int(count_start), rng=rng_for("line", line_id),
                improvement=_improvement(profile, clock, line_id),
                output=None if share is None else (share, rng_for("low_output", line_id)),
            )  # fmt: skip

        factor = _base_factor(profile, clock, line.id)
        traces[line.id] = line_trace(factor)
        if (factor != 1.0).any():  # the same draws without the waste: what the waste cost, exactly
            wasted = traces[line.id].energy_kwh - line_trace(np.ones(clock.n)).energy_kwh
            traces[line.id] = replace(traces[line.id], wasted_energy_kwh=wasted)
        traces[line.id] = _with_scrap_drift(profile, clock, plan, traces[line.id], rng_for("scrap_drift", line.id))
        plans.append(plan)

    product_load = np.array([profile.products[c].motor_load for c in product_codes])
    motors: dict[str, MotorTrace] = {}
    boundaries: dict[str, tuple[float, float, float]] = {}
    growth: dict[str, float] = {}
    for line, motor in plant.motors:
        rng = rng_for("motor", motor.id)
        base_load = float(rng.uniform(*profile.motors.load))
        healthy = float(rng.uniform(*profile.motors.healthy_vibration_mms))
        boundaries[motor.id] = profile.zone_boundaries(motor.machine_class)
        degradation = np.ones(clock.n)
        for f in failures:
            if f.fault.motor == motor.id:
                target = f.fault.vibration_at_failure_mms or 1.6 * boundaries[motor.id][2]
                growth[motor.id] = max(1.0, target / (healthy * (0.9 + 0.15 * base_load)))
                degradation = degradation * degradation_multiplier(clock, f.onset_ms, f.failure_ms, growth[motor.id])
        motors[motor.id] = simulate_motor(
            motor.id,
            traces[line.id],
            clock,
            profile.motors,
            motor.rated_kw or profile.motors.default_rated_kw,
            base_load,
            healthy,
            product_load,
            degradation,
            profile.export.jitter,
            rng,
        )

    out_dir = plant.landing_path(landing_root)
    out_dir.mkdir(parents=True, exist_ok=True)
    writer, sampling = HISTORIAN_WRITERS[plant.historian.dialect]
    series = build_tag_series(plant, traces, motors, profile.export, sampling)
    historian_files = writer(plant, clock, series, profile.export, rng_for, out_dir)

    runs = _runs_frame(plant, profile, clock, plans, traces)
    # a plant without MES exports none (its running / idle / down come from a state tag)
    run_files = write_events(clock, plant.production_runs, runs, RUN_COLUMNS, out_dir) if plant.production_runs else []
    downtime_files = []
    if plant.downtime_events:
        stops = _stops_frame(clock, plans, category_labels(plant.downtime_events))
        downtime_files = write_events(clock, plant.downtime_events, stops, DOWNTIME_COLUMNS, out_dir)
    lab_files, lab_daily = simulate_lab(plant, profile.lab, clock, runs, rng_for, out_dir)

    rates = np.array([ideal[c] for c in product_codes])
    daily = pd.concat([daily_truth(plant.plant_id, clock, list(traces.values()), rates),
                       unplanned_stops_per_day(clock, plans)], axis=1)
    line_daily = pd.concat(
        [daily_truth(plant.plant_id, clock, [trace], rates).assign(line_id=line_id) for line_id, trace in traces.items()],
        ignore_index=True,
    )
    motor_daily = motor_daily_truth(plant.plant_id, clock, list(motors.values()), boundaries)
    faults = _fault_records(plant, profile, clock, failures, growth, motor_daily, daily)
    return PlantResult(
        plant.plant_id,
        daily,
        runs_truth(plant.plant_id, runs),
        motor_daily,
        faults,
        historian_files,
        run_files,
        downtime_files,
        clock.n,
        lab_files,
        lab_daily,
        line_daily,
    )


def simulate_plants(
    plants: dict[str, PlantConfig],
    start: date,
    days: int,
    landing_root: Path,
    truth_dir: Path,
    seed: int | None = None,
) -> dict[str, Any]:
    """Simulate every plant that has a `simulation:` section; write exports and the ground truth.

    Deterministic for a seed (each plant's `simulation.seed`, combined with the optional global `seed`)
    and idempotent: re-running rewrites the same files with identical bytes.
    Returns a summary: files written and row counts per plant.
    """
    began = _time.perf_counter()
    landing_root, truth_dir = Path(landing_root), Path(truth_dir)
    results: list[PlantResult] = []
    skipped = []
    for plant_id in sorted(plants):
        plant = plants[plant_id]
        if plant.simulation is None:
            skipped.append(plant_id)
            continue
        results.append(simulate_plant(plant, start, days, landing_root, seed))

    def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    truth_files: list[Path] = []
    if results:
        truth_files = write_truth(
            truth_dir,
            concat([r.daily for r in results]),
            concat([r.runs for r in results]),
            concat([r.motor_daily for r in results]),
            [f for r in results for f in r.faults],
        )
        lab_frames = [r.lab_daily for r in results if r.lab_daily is not None and len(r.lab_daily)]
        truth_files += write_lab_truth(truth_dir, concat(lab_frames))
    summary: dict[str, Any] = {
        "start": start.isoformat(),
        "days": days,
        "seed": seed,
        "plants": {},
        "skipped": skipped,
        "truth_files": [str(p) for p in truth_files],
    }
    for r in results:
        summary["plants"][r.plant_id] = {
            "landing_dir": str(plants[r.plant_id].landing_path(landing_root)),
            "files": [w.path.name for w in (*r.historian_files, *r.run_files, *r.downtime_files, *r.lab_files)],
            "minutes": r.minutes,
            "historian_rows": sum(w.rows for w in r.historian_files if w.data),
            "historian_records": sum(w.records for w in r.historian_files),
            "production_runs": sum(w.rows for w in r.run_files),
            "downtime_events": sum(w.rows for w in r.downtime_files),
            "lab_results": sum(w.rows for w in r.lab_files),
            "units_produced": int(r.daily["units_produced"].sum()),
            "energy_kwh": round(float(r.daily["energy_kwh"].sum()), 3),
        }
    summary["files_written"] = sum(len(p["files"]) for p in summary["plants"].values()) + len(truth_files)
    summary["seconds"] = round(_time.perf_counter() - began, 3)
    return summary
