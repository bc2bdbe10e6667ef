"""The low-output waste fault (`low_output_waste`): on its days the lines run orders only inside the local
`production_hours` (an order shortage; the day's runs and stops are cut to that window, every random draw
unchanged) while their base load is multiplied all day (conveyors, compressed air and lighting left on while
the lines stand idle). The day's raw energy stays below a normal day's at the same hours of week while it
exceeds what its output needs: a yardstick from the calendar alone (the baseline's mean at the same hour of
week, `operations.naive_baseline`) misses it, a model of energy against output sees it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from plant_assets.simulator.clock import Clock
from plant_assets.simulator.profile import LowOutputWasteFault, SimulationProfile
from plant_assets.simulator.schedule import LineSchedule


def _faults_of(profile: SimulationProfile, line_id: str) -> list[LowOutputWasteFault]:
    return [f for f in profile.faults
            if isinstance(f, LowOutputWasteFault) and (f.lines is None or line_id in f.lines)]


def production_allowed(profile: SimulationProfile, clock: Clock, line_id: str) -> np.ndarray | None:
    """Per minute, whether the line may run an order (False outside `production_hours` on a fault day);
    None when no low-output fault touches the line."""
    faults = _faults_of(profile, line_id)
    if not faults:
        return None
    allowed = np.ones(clock.n, dtype=bool)
    for fault in faults:
        days = (clock.day >= fault.start_day) & (clock.day <= fault.end_day)
        first, last = fault.production_hours
        window = (clock.minute_of_day >= first * 60) & (clock.minute_of_day < last * 60)
        allowed[days & ~window] = False
    return allowed


def _segments(allowed: np.ndarray, start: int, end: int) -> list[tuple[int, int]]:
    """The [start, end) pieces of an interval where `allowed` holds."""
    end = min(end, len(allowed))
    if end <= start:
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], allowed[start:end].astype(np.int8), [0]))))
    return [(start + int(a), start + int(b)) for a, b in zip(edges[::2], edges[1::2])]


def curtail(plan: LineSchedule, allowed: np.ndarray | None) -> LineSchedule:
    """The line's schedule with its orders and stops cut to the allowed minutes, every piece kept (an order cut
    short by the shortage), so the exported orders are exactly the minutes `physics.simulate_line` lets run."""
    if allowed is None:
        return plan
    runs = [replace(run, start=a, end=b) for run in plan.runs for a, b in _segments(allowed, run.start, run.end)]
    stops = [replace(stop, start=a, end=b) for stop in plan.stops for a, b in _segments(allowed, stop.start, stop.end)]
    return LineSchedule(plan.line_id, runs, stops)


def base_factor(profile: SimulationProfile, clock: Clock, line_id: str) -> np.ndarray:
    """The base-load multiplier per minute from the low-output waste faults on the line (1 elsewhere)."""
    factor = np.ones(clock.n)
    for fault in _faults_of(profile, line_id):
        factor[(clock.day >= fault.start_day) & (clock.day <= fault.end_day)] *= fault.base_load_factor
    return factor
