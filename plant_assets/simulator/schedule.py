"""Production orders (runs) and stops of one line, on the minute grid.

A line alternates: run (an order of one product) -> [planned cleaning] -> changeover gap -> run ...
Unplanned stops (jams, breakdowns) happen inside runs; units are produced only in a run's minutes
that are not inside a stop. Forced stops (a motor failure) cut the run in progress and keep the
line down for their duration. All times are minute indices into the Clock; intervals are [start, end).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plant_assets.simulator.clock import Clock
from plant_assets.simulator.profile import ScheduleProfile

PLANNED, UNPLANNED = "planned", "unplanned"
MIN_RUN_MINUTES = 10


@dataclass(frozen=True)
class Run:
    line_id: str
    start: int
    end: int
    product: str
    performance: float
    scrap_share: float


@dataclass(frozen=True)
class Stop:
    line_id: str
    start: int
    end: int
    category: str  # planned | unplanned
    reason: str


@dataclass(frozen=True)
class LineSchedule:
    line_id: str
    runs: list[Run]
    stops: list[Stop]


def _minutes(rng: np.random.Generator, span: tuple[float, float], scale: float = 1.0) -> int:
    return max(1, int(round(rng.uniform(span[0], span[1]) * scale)))


def _log_uniform_minutes(rng: np.random.Generator, span: tuple[float, float]) -> int:
    lo, hi = np.log(max(span[0], 1.0)), np.log(max(span[1], 1.0))
    return max(1, int(round(np.exp(rng.uniform(lo, hi)))))


def _mix_on(weights: np.ndarray, introduced: np.ndarray, day: int) -> np.ndarray:
    """The order mix on a day: products not yet launched get weight 0. One draw either way, so the
    line's random stream (run lengths, stops) is the same with or without a launch date."""
    if (introduced <= day).all():
        return weights
    launched = np.where(introduced <= day, weights, 0.0)
    return launched / launched.sum()


def schedule_line(
    line_id: str,
    clock: Clock,
    schedule: ScheduleProfile,
    products: list[str],
    mix_weights: list[float],
    scrap_shares: dict[str, float],
    planned_reasons: list[str],
    unplanned_reasons: list[str],
    forced: list[Stop],
    rng: np.random.Generator,
    introduced_days: list[int] | None = None,
) -> LineSchedule:
    n = clock.n
    weights = np.asarray(mix_weights, dtype=float) / float(np.sum(mix_weights))
    introduced = np.asarray(introduced_days if introduced_days is not None else [0] * len(products))
    do_clean = rng.random(clock.days) < schedule.cleaning_probability
    clean_after = rng.uniform(*schedule.cleaning_after_hour, size=clock.days) * 60.0
    cleaned: set[int] = set()
    forced = sorted((f for f in forced if 0 <= f.start < n), key=lambda f: f.start)
    runs: list[Run] = []
    stops: list[Stop] = []

    cur = int(rng.integers(0, int(schedule.changeover_min[1]) + 1))
    fi = 0
    while cur < n:
        limit = forced[fi].start if fi < len(forced) else n
        if cur >= limit:  # a forced stop (motor failure) starts now
            f = forced[fi]
            end = min(n, cur + (f.end - f.start))
            stops.append(Stop(line_id, cur, end, f.category, f.reason))
            fi += 1
            following = forced[fi].start if fi < len(forced) else n
            cur = max(end, min(following, end + _minutes(rng, schedule.changeover_min)))
            continue

        # A run of one product.
        end = min(limit, cur + _minutes(rng, schedule.run_hours, 60.0))
        if end - cur >= MIN_RUN_MINUTES:
            product = products[int(rng.choice(len(products), p=_mix_on(weights, introduced, int(clock.day[cur]))))]
            performance = float(rng.uniform(*schedule.performance))
            scrap = float(min(0.5, scrap_shares[product] * rng.lognormal(0.0, 0.25)))
            runs.append(Run(line_id, cur, end, product, performance, scrap))
            # Unplanned stops inside the run (Poisson in time, log-uniform durations).
            t = float(cur)
            rate = schedule.unplanned_per_running_hour
            while rate > 0:
                t += rng.exponential(60.0 / rate)
                start = int(t)
                if start >= end:
                    break
                stop_end = min(end, start + _log_uniform_minutes(rng, schedule.unplanned_min))
                reason = unplanned_reasons[int(rng.integers(len(unplanned_reasons)))]
                stops.append(Stop(line_id, start, stop_end, UNPLANNED, reason))
                t = float(stop_end)
        cur = end
        if cur >= n or cur >= limit:
            continue

        # The day's planned cleaning, at the first run end after its local hour.
        d = int(clock.day[cur])
        if do_clean[d] and d not in cleaned and clock.minute_of_day[cur] >= clean_after[d]:
            end = min(limit, cur + _minutes(rng, schedule.cleaning_hours, 60.0))
            reason = planned_reasons[int(rng.integers(len(planned_reasons)))]
            stops.append(Stop(line_id, cur, end, PLANNED, reason))
            cleaned.add(d)
            cur = end
            if cur >= limit:
                continue

        # Changeover / idle gap before the next order.
        cur = min(limit, cur + _minutes(rng, schedule.changeover_min))

    stops.sort(key=lambda s: s.start)
    return LineSchedule(line_id, runs, stops)
