"""The `simulation:` section of a demo plant's plant.yaml, as a validated pydantic model.

Only demo plants carry this section. It holds the physics (line loads, energy per unit, scrap),
the schedule statistics, the export noise and the injected faults. Everything that makes one
simulated plant differ from another lives here or elsewhere in the plant folder; the simulator's
code is the same for every plant.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from plant_assets.core.plant_config import PlantConfig
from plant_assets.simulator.lab_profile import LabProfile

# ISO 20816-3 (formerly ISO 10816-3) broadband RMS velocity zone boundaries A/B, B/C, C/D in mm/s.
# Sources disagree on which triplet belongs to which machine group, so they are configurable per
# machine class (`simulation.machine_classes`); these are the defaults.
DEFAULT_ZONE_BOUNDARIES: dict[str, tuple[float, float, float]] = {
    "iso20816_group2_rigid": (1.4, 2.8, 4.5),
    "iso20816_group2_flexible": (2.3, 4.5, 7.1),
    "iso20816_group1_rigid": (2.3, 4.5, 7.1),
    "iso20816_group1_flexible": (3.5, 7.1, 11.0),
}

# Zone -> health colour (A/B green, C yellow, D red).
ZONE_HEALTH = {"A": "green", "B": "green", "C": "yellow", "D": "red"}

# Default deadbands (canonical units) for exception-based historians, and the value resolution
# (canonical units) with which every signal is exported.
DEFAULT_DEADBANDS = {
    "motor_current": 1.5,
    "motor_vibration_velocity": 0.12,
    "motor_bearing_temperature": 0.6,
}
SIGNAL_RESOLUTION = {
    "energy_total": 1e-4,
    "production_count_total": 1.0,
    "motor_current": 0.01,
    "motor_vibration_velocity": 0.01,
    "motor_bearing_temperature": 0.01,
    "energy_interval": 1e-3,
    "production_count_interval": 1.0,
    "active_power": 0.01,
    "machine_running": 1.0,
    "machine_state": 1.0,
}


def _ordered(span: tuple[float, float]) -> tuple[float, float]:
    if span[1] < span[0]:
        raise ValueError(f"range {list(span)} must be [low, high]")
    return span


Span = Annotated[tuple[float, float], AfterValidator(_ordered)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleProfile(_Strict):
    """Statistics of production orders and stops on every line."""

    run_hours: Span = (3.0, 9.0)
    changeover_min: Span = (15.0, 60.0)
    performance: Span = (0.85, 0.97)
    # Per-minute unit noise (standard deviation as a share of the nominal units per minute).
    unit_noise_share: float = Field(default=0.03, ge=0, le=0.5)
    # A planned cleaning stop on most days: it starts at the first run end after a random local hour.
    cleaning_probability: float = Field(default=0.8, ge=0, le=1)
    cleaning_hours: Span = (1.0, 2.0)
    cleaning_after_hour: Span = (5.0, 20.0)
    # Unplanned stops (jams, breakdowns) inside runs: Poisson rate per running hour, log-uniform length.
    unplanned_per_running_hour: float = Field(default=0.12, ge=0)
    unplanned_min: Span = (5.0, 60.0)
    # Multiplicative noise on every line-minute's energy.
    energy_noise_share: float = Field(default=0.02, ge=0, le=0.2)


class LineProfile(_Strict):
    base_kw: float = Field(gt=0, description="idle load, drawn every minute")
    run_kw: float = Field(ge=0, description="extra load while the line runs")
    products: list[str] | None = Field(default=None, description="products this line runs (default: all)")


class ProductProfile(_Strict):
    kwh_per_unit: float = Field(gt=0)
    scrap_share: float = Field(default=0.02, ge=0, lt=1)
    motor_load: float = Field(default=1.0, gt=0, description="motor load relative to the standard product")
    mix_weight: float = Field(default=1.0, gt=0, description="relative frequency of orders")
    # A product launched during the window: no order of it starts before this day (0 = the first day).
    introduced_day: int = Field(default=0, ge=0, description="first day (from the window start) it is made")
    # A plant without MES declares no products in plant.yaml: the simulator's own products carry the rate.
    ideal_rate_per_min: float | None = Field(default=None, gt=0, description="only for a plant without products")


class MotorProfile(_Strict):
    healthy_vibration_mms: Span = (1.0, 1.9)
    idle_vibration_mms: float = Field(default=0.15, ge=0)
    vibration_noise_share: float = Field(default=0.05, ge=0)
    load: Span = (0.55, 0.8)
    supply_voltage_v: float = Field(default=400, gt=0)
    power_factor: float = Field(default=0.86, gt=0, le=1)
    efficiency: float = Field(default=0.93, gt=0, le=1)
    default_rated_kw: float = Field(default=30, gt=0)
    idle_current_share: float = Field(default=0.02, ge=0)
    current_noise_share: float = Field(default=0.015, ge=0)
    ambient_c: float = 22.0
    ambient_daily_amplitude_c: float = Field(default=3.0, ge=0)
    bearing_rise_c: float = Field(default=40.0, ge=0, description="bearing rise above ambient at full load")
    bearing_tau_min: float = Field(default=25.0, gt=0)
    bearing_c_per_mms: float = Field(default=4.0, ge=0, description="extra bearing heat per mm/s of degradation")
    temperature_noise_c: float = Field(default=0.15, ge=0)


class RegisterProfile(_Strict):
    energy_start_kwh: Span = (1.0e5, 2.0e6)
    count_start: Span = (1.0e5, 5.0e6)


class ExportProfile(_Strict):
    bad_share: float = Field(default=0.003, ge=0, lt=0.5)
    uncertain_share: float = Field(default=0.001, ge=0, lt=0.5)
    max_interval_min: int = Field(default=30, ge=1)
    deadband: dict[str, float] = Field(default_factory=dict)
    # Exception-based points are stamped at a random second inside their minute.
    jitter: bool = True
    # pi_recorded only, both off in the demo: an archive export as some PI servers write it, each day's rows
    # in no time order, and the stamps of a repeated (fall-back) local hour ending in the zone's abbreviation
    # (`01-Nov-2026 01:30:00 CDT`, then `... CST`), the case of issue 19's 15 GWh day.
    unsorted_rows: bool = False
    zone_marks: bool = False

    def deadband_for(self, signal: str) -> float:
        return self.deadband.get(signal, DEFAULT_DEADBANDS.get(signal, 0.0))


class ReasonProfile(_Strict):
    planned: list[str] = Field(default_factory=lambda: ["Cleaning"], min_length=1)
    unplanned: list[str] = Field(default_factory=lambda: ["Jam", "Breakdown"], min_length=1)


class EnergyWasteFault(_Strict):
    """Base load multiplied on some days (compressed-air leak, equipment left on)."""

    type: Literal["energy_waste"]
    start_day: int = Field(ge=0)
    end_day: int = Field(ge=0)
    base_load_factor: float = Field(gt=0)
    lines: list[str] | None = None
    description: str = "energy waste: base load multiplied"

    @model_validator(mode="after")
    def _ordered(self) -> "EnergyWasteFault":
        if self.end_day < self.start_day:
            raise ValueError("end_day is before start_day")
        return self


class LowOutputWasteFault(_Strict):
    """Waste on a low-output day: starved lines make only `output_factor` of their units while the base load is
    multiplied all day (simulator/low_output.py). The truth records the waste exactly (daily.csv
    injected_waste_kwh)."""

    type: Literal["low_output_waste"]
    start_day: int = Field(ge=0)
    end_day: int = Field(ge=0)
    output_factor: float = Field(gt=0, lt=1, description="share of the units the running lines still make")
    base_load_factor: float = Field(gt=1)
    lines: list[str] | None = None
    description: str = "low-output waste: starved lines while the idle load is multiplied"

    @model_validator(mode="after")
    def _ordered(self) -> "LowOutputWasteFault":
        if self.end_day < self.start_day:
            raise ValueError("end_day is before start_day")
        return self


class MotorDegradationFault(_Strict):
    """A motor's vibration grows exponentially from onset to failure; the line then breaks down."""

    type: Literal["motor_degradation"]
    motor: str
    onset_day: int = Field(ge=0)
    failure_day: int = Field(ge=0)
    # Noise-free vibration at the failure instant; default 1.6 x the class's C/D boundary.
    vibration_at_failure_mms: float | None = Field(default=None, gt=0)
    failure_hour: float | None = Field(default=None, ge=0, lt=24, description="local hour; default random 6-18")
    breakdown_hours: Span = (5.0, 8.0)
    reason: str = "Motor failure {motor}"
    description: str = "bearing degradation: vibration and temperature rise until a breakdown"

    @model_validator(mode="after")
    def _ordered(self) -> "MotorDegradationFault":
        if self.failure_day <= self.onset_day:
            raise ValueError("failure_day must be after onset_day")
        return self


class EfficiencyImprovementFault(_Strict):
    """An energy-efficiency programme from `start_day` on (leaks fixed, VSDs fitted): base and / or running
    load multiplied by a factor <= 1 on some lines. The truth records the savings exactly (daily.csv
    injected_savings_kwh = energy without the programme - actual, same random draws)."""

    type: Literal["efficiency_improvement"]
    start_day: int = Field(ge=0)
    end_day: int | None = Field(default=None, ge=0, description="last day; default: to the end of the window")
    base_load_factor: float = Field(default=1.0, gt=0, le=1)
    run_load_factor: float = Field(default=1.0, gt=0, le=1)
    lines: list[str] | None = None
    description: str = "efficiency improvement: base and running load reduced"

    @model_validator(mode="after")
    def _ordered(self) -> "EfficiencyImprovementFault":
        if self.end_day is not None and self.end_day < self.start_day:
            raise ValueError("end_day is before start_day")
        return self


class ScrapDriftFault(_Strict):
    """A line's scrap share multiplied from `start_day` (to `end_day`): a worn tool, a drifting filler."""

    type: Literal["scrap_drift"]
    start_day: int = Field(ge=0)
    end_day: int | None = Field(default=None, ge=0, description="last day; default: to the end of the window")
    scrap_factor: float = Field(gt=1)
    lines: list[str] | None = None
    description: str = "scrap drift: scrap share multiplied"

    @model_validator(mode="after")
    def _ordered(self) -> "ScrapDriftFault":
        if self.end_day is not None and self.end_day < self.start_day:
            raise ValueError("end_day is before start_day")
        return self


Fault = Annotated[
    Union[EnergyWasteFault, LowOutputWasteFault, MotorDegradationFault, EfficiencyImprovementFault, ScrapDriftFault],
    Field(discriminator="type"),
]


class SimulationProfile(_Strict):
    seed: int = Field(ge=0)
    # Python format string with fields plant, line, seq, date (local start date of the run).
    order_id_format: str = "{line}-{seq:06d}"
    order_id_start: int = Field(default=1, ge=0)
    lines: dict[str, LineProfile]
    products: dict[str, ProductProfile]
    schedule: ScheduleProfile = ScheduleProfile()
    motors: MotorProfile = MotorProfile()
    registers: RegisterProfile = RegisterProfile()
    export: ExportProfile = ExportProfile()
    reasons: ReasonProfile = ReasonProfile()
    machine_classes: dict[str, tuple[float, float, float]] = Field(default_factory=dict)
    faults: list[Fault] = Field(default_factory=list)
    # Lab samples per run (plant_assets/simulator/lab.py); none: the plant writes no lab export.
    lab: LabProfile | None = None

    def zone_boundaries(self, machine_class: str) -> tuple[float, float, float]:
        merged = {**DEFAULT_ZONE_BOUNDARIES, **self.machine_classes}
        if machine_class not in merged:
            raise ValueError(f"unknown machine class {machine_class!r}; known: {sorted(merged)}")
        return merged[machine_class]


class SimulationProfileError(ValueError):
    """A plant's simulation section that does not fit the plant."""


def simulated_products(plant: PlantConfig, profile: SimulationProfile) -> list[tuple[str, float]]:
    """(code, ideal rate per minute) of the products the lines make: the plant's, or for a plant without MES
    (no products in plant.yaml) the simulation's own, each with its ideal_rate_per_min."""
    if plant.products:
        return [(p.code, p.ideal_rate_per_min) for p in plant.products]
    missing = sorted(c for c, p in profile.products.items() if p.ideal_rate_per_min is None)
    if missing:
        raise SimulationProfileError(f"{plant.plant_id}: no products in plant.yaml, so simulation.products "
                                     f"{missing} need ideal_rate_per_min")
    return [(c, float(p.ideal_rate_per_min)) for c, p in profile.products.items()]


def load_profile(plant: PlantConfig) -> SimulationProfile:
    """Validate `plant.simulation` and check it against the plant's lines, products and motors."""
    if plant.simulation is None:
        raise SimulationProfileError(f"{plant.plant_id}: plant.yaml has no simulation section")
    try:
        profile = SimulationProfile(**plant.simulation)
    except Exception as exc:  # pydantic.ValidationError, with the plant named
        raise SimulationProfileError(f"{plant.plant_id}: invalid simulation section: {exc}") from exc
    problems: list[str] = []
    line_ids = [line.id for line in plant.lines]
    product_codes = [code for code, _ in simulated_products(plant, profile)]
    motor_ids = {m.id for _, m in plant.motors}
    for line_id in line_ids:
        if line_id not in profile.lines:
            problems.append(f"simulation.lines lacks line {line_id!r}")
    for line_id, line in profile.lines.items():
        if line_id not in line_ids:
            problems.append(f"simulation.lines.{line_id} is not a line of the plant")
        for code in line.products or []:
            if code not in product_codes:
                problems.append(f"simulation.lines.{line_id}.products: unknown product {code!r}")
    for code in product_codes:
        if code not in profile.products:
            problems.append(f"simulation.products lacks product {code!r}")
    for code in profile.products:
        if code not in product_codes:
            problems.append(f"simulation.products.{code} is not a product of the plant")
    for line_id, line in profile.lines.items():
        codes = line.products or product_codes
        if codes and all(profile.products[c].introduced_day > 0 for c in codes if c in profile.products):
            problems.append(f"simulation.lines.{line_id}: every product has an introduced_day > 0, nothing to make on day 0")
    for _, motor in plant.motors:
        try:
            profile.zone_boundaries(motor.machine_class)
        except ValueError as exc:
            problems.append(f"motor {motor.id}: {exc}")
    for i, fault in enumerate(profile.faults):
        if isinstance(fault, MotorDegradationFault):
            if fault.motor not in motor_ids:
                problems.append(f"simulation.faults[{i}]: unknown motor {fault.motor!r}")
            try:
                fault.reason.format(motor=fault.motor, line="L1")
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"simulation.faults[{i}].reason: use only {{motor}} and {{line}}: {exc}")
        if isinstance(fault, (EnergyWasteFault, LowOutputWasteFault, EfficiencyImprovementFault, ScrapDriftFault)):
            for line_id in fault.lines or []:
                if line_id not in line_ids:
                    problems.append(f"simulation.faults[{i}]: unknown line {line_id!r}")
    try:
        profile.order_id_format.format(plant="p", line="L1", seq=1, date=plant.energy_baseline.start)
    except (KeyError, IndexError, ValueError) as exc:
        problems.append(f"simulation.order_id_format is not a valid template: {exc}")
    if problems:
        raise SimulationProfileError(f"{plant.plant_id}: " + "; ".join(problems))
    return profile
