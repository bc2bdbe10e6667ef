"""Data-quality gates: declarative GX suites (expectations/), the metrics they judge, and thresholds
with central defaults that each plant may override in its plant.yaml (`quality_gates:`)."""

from plant_assets.quality.suites import (
    GateOutcome,
    load_suite_definition,
    outside_limits,
    suite_parameters,
    validate_frame,
)

__all__ = ["GateOutcome", "load_suite_definition", "outside_limits", "suite_parameters", "validate_frame"]
