"""From physics traces to the points a historian stores, per source tag of the plant's tag_map.csv.

Each tag gets its canonical series (register readings for totalizers and counters, per-minute samples
for motors), converted to the tag's source unit, rounded to a realistic resolution and wrapped at the
tag's rollover. Totalizers and counters are read at every minute instant; continuous signals are either
sampled every minute (cyclic retrieval) or written on exception: when the value moved beyond a deadband
since the last written point, and at least every `max_interval_min` minutes.

The other forms a plant's meters and state tags take (docs/contracts.md):
- energy_interval / production_count_interval: the amount of each interval [k N, (k + 1) N) minutes (N = the
  tag's interval_min, default 15), stamped at the interval start;
- active_power: the line's average power of each minute (kW = the minute's kWh x 60), at the minute start;
- machine_running (1 running, 0 not) and machine_state (the plant's machine_states code of running, of down
  for an unplanned stop, else of idle): written at the minute start on every change and at least every
  `max_interval_min` minutes, never jittered, so a state holds exactly from its minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from plant_assets.core.catalog import load_signal_catalog
from plant_assets.core.plant_config import PlantConfig, TagMapping
from plant_assets.core.units import conversion_to
from plant_assets.simulator.physics import LineTrace, MotorTrace
from plant_assets.simulator.profile import SIGNAL_RESOLUTION, ExportProfile

Sampling = Literal["cyclic", "exception"]
REGISTER_KINDS = ("totalizer", "counter")
DEFAULT_INTERVAL_MIN = 15


@dataclass(frozen=True)
class TagSeries:
    tag: str
    signal: str
    kind: str  # totalizer | counter | continuous (from the signal catalog)
    minute: np.ndarray  # int64 minute index of each point (its local day is clock.day[minute])
    offset_ms: np.ndarray  # int64 offset of the point's timestamp after the minute's start
    values: np.ndarray  # float64 in the tag's source unit, rounded, wrapped at rollover
    decimals: int
    integer: bool


def exception_points(values: np.ndarray, deadband: float, max_interval: int) -> np.ndarray:
    """Indices written by exception reporting: first point, then moves beyond the deadband or heartbeats."""
    vals = values.tolist()
    if not vals:
        return np.zeros(0, dtype=np.int64)
    keep = [0]
    last, last_i = vals[0], 0
    for i in range(1, len(vals)):
        v = vals[i]
        if abs(v - last) > deadband or i - last_i >= max_interval:
            keep.append(i)
            last, last_i = v, i
    return np.asarray(keep, dtype=np.int64)


def interval_sums(per_minute: np.ndarray, interval_min: int) -> np.ndarray:
    """Per-minute amounts summed over [k N, (k + 1) N), placed at each interval's first minute (0 elsewhere);
    a last interval the window cuts short is left out."""
    out = np.zeros(len(per_minute))
    full = len(per_minute) // interval_min * interval_min
    out[:full:interval_min] = per_minute[:full].reshape(-1, interval_min).sum(axis=1)
    return out


def _state_codes(plant: PlantConfig, line: LineTrace) -> np.ndarray:
    from plant_assets.simulator.physics import STOP_UNPLANNED

    # the simulator writes numeric codes; text states (MTConnect) are for real exports
    numeric = [(c, state) for c, state in plant.machine_states.items() if isinstance(c, float)]
    code = {state: c for c, state in sorted(numeric, reverse=True)}
    missing = sorted({"running", "idle", "down"} - set(code))
    if missing:
        raise ValueError(f"{plant.plant_id}: machine_states has no code for {missing}")
    return np.where(line.running, code["running"],
                    np.where(line.stop_category == STOP_UNPLANNED, code["down"], code["idle"])).astype(np.float64)


def _line_form(plant: PlantConfig, mapping: TagMapping, line: LineTrace) -> np.ndarray | None:
    """Per-minute canonical values of a line meter or state tag in its form (None: not a line form)."""
    interval = int(mapping.interval_min or DEFAULT_INTERVAL_MIN)
    forms = {
        "energy_total": lambda: line.energy_register_kwh,
        "production_count_total": lambda: line.count_register.astype(np.float64),
        "energy_interval": lambda: interval_sums(line.energy_kwh, interval),
        "production_count_interval": lambda: interval_sums(line.units.astype(np.float64), interval),
        "active_power": lambda: line.energy_kwh * 60.0,
        "machine_running": lambda: line.running.astype(np.float64),
        "machine_state": lambda: _state_codes(plant, line),
    }
    make = forms.get(mapping.signal)
    return None if make is None else make()


def _canonical(
    plant: PlantConfig, mapping: TagMapping, lines: dict[str, LineTrace], motors: dict[str, MotorTrace]
) -> tuple[np.ndarray, np.ndarray | None]:
    """(canonical per-minute values, jitter_ms or None for register readings)."""
    if mapping.asset_id in lines:
        values = _line_form(plant, mapping, lines[mapping.asset_id])
        if values is not None:
            return values, None
    motor = motors.get(mapping.asset_id)
    if motor is not None:
        column = {
            "motor_current": motor.current_a,
            "motor_vibration_velocity": motor.vibration_mms,
            "motor_bearing_temperature": motor.bearing_temp_c,
        }.get(mapping.signal)
        if column is not None:
            return column, motor.jitter_ms
    raise ValueError(f"tag {mapping.source_tag!r}: the simulator has no {mapping.signal} for asset {mapping.asset_id!r}")


def build_tag_series(
    plant: PlantConfig,
    lines: dict[str, LineTrace],
    motors: dict[str, MotorTrace],
    export: ExportProfile,
    sampling: Sampling,
) -> list[TagSeries]:
    catalog = load_signal_catalog()
    series: list[TagSeries] = []
    for mapping in plant.tag_map:
        signal = catalog[mapping.signal]
        canonical, jitter = _canonical(plant, mapping, lines, motors)
        scale, offset = conversion_to(mapping.source_unit, signal.canonical_unit)
        source = (canonical - offset) / scale
        integer = signal.kind == "counter" or mapping.signal in ("production_count_interval", "machine_state")
        resolution = SIGNAL_RESOLUTION.get(mapping.signal, 0.001) / abs(scale)
        decimals = 0 if integer else max(0, math.ceil(-math.log10(resolution) - 1e-9))
        source = np.rint(source) if integer else np.round(source, decimals)
        if mapping.rollover:
            source = np.mod(source, mapping.rollover)
        n = len(source)
        if signal.kind == "interval":
            step = int(mapping.interval_min or DEFAULT_INTERVAL_MIN)
            minute = np.arange(0, n // step * step, step, dtype=np.int64)
            offsets = np.zeros(len(minute), dtype=np.int64)
        elif signal.kind == "step":  # states: on change and as a heartbeat, at the minute start
            minute = exception_points(source, 0.0, export.max_interval_min)
            offsets = np.zeros(len(minute), dtype=np.int64)
        elif signal.kind in REGISTER_KINDS or sampling == "cyclic" or mapping.signal == "active_power":
            minute = np.arange(n, dtype=np.int64)
            offsets = np.zeros(n, dtype=np.int64)
        else:
            deadband = export.deadband_for(mapping.signal) / abs(scale)
            minute = exception_points(source, deadband, export.max_interval_min)
            offsets = jitter[minute] if jitter is not None else np.zeros(len(minute), dtype=np.int64)
        series.append(
            TagSeries(
                tag=mapping.source_tag,
                signal=mapping.signal,
                kind=signal.kind,
                minute=minute,
                offset_ms=offsets.astype(np.int64),
                values=source[minute] + 0.0,  # + 0.0 turns -0.0 into 0.0
                decimals=decimals,
                integer=integer,
            )
        )
    return series
