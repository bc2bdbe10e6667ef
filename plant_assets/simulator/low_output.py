"""The low-output waste fault (`low_output_waste`): on its days the lines are starved (a material shortage
upstream): their orders run as scheduled but only `output_factor` of the units they would have made come out,
while their base load is multiplied all day (compressed air and conveyors left on). The day's raw energy stays
below a normal day's at the same hours of week while it exceeds what its output needs: a yardstick from the
calendar alone (the baseline's mean at the same hour of week, `operations.naive_baseline`) misses it, a model
of energy against output sees it. The lines keep running, so their motors' levels stay those of a running day
(a day mostly idle would read as a unit change to the canonical gate's level check)."""

from __future__ import annotations

import numpy as np

from plant_assets.simulator.clock import Clock
from plant_assets.simulator.profile import LowOutputWasteFault, SimulationProfile


def _faults_of(profile: SimulationProfile, line_id: str) -> list[LowOutputWasteFault]:
    return [f for f in profile.faults
            if isinstance(f, LowOutputWasteFault) and (f.lines is None or line_id in f.lines)]


def _per_minute(profile: SimulationProfile, clock: Clock, line_id: str, factor: str) -> np.ndarray:
    out = np.ones(clock.n)
    for fault in _faults_of(profile, line_id):
        out[(clock.day >= fault.start_day) & (clock.day <= fault.end_day)] *= getattr(fault, factor)
    return out


def output_share(profile: SimulationProfile, clock: Clock, line_id: str) -> np.ndarray | None:
    """The share of its units the line makes per minute (1 outside the fault's days); None without the fault."""
    return _per_minute(profile, clock, line_id, "output_factor") if _faults_of(profile, line_id) else None


def base_factor(profile: SimulationProfile, clock: Clock, line_id: str) -> np.ndarray:
    """The base-load multiplier per minute from the low-output waste faults on the line (1 elsewhere)."""
    return _per_minute(profile, clock, line_id, "base_load_factor")
