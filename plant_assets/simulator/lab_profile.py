"""`simulation.lab` of plant.yaml: how the simulated lab samples each run (see simulator/lab.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProcessSpec(_Strict):
    mean: float
    sd: float = Field(gt=0)


class LabProfile(_Strict):
    """`simulation.lab` of plant.yaml: how often the lab samples a run and what the process delivers."""

    sample_every_min: int = Field(default=60, ge=5, le=1440)
    sample_id_format: str = "S{seq:07d}"
    # Values are written with this many decimals in the reported unit.
    decimals: int = Field(default=2, ge=0, le=6)
    # Unit the lab writes per characteristic (default: the spec's unit); pint converts it back.
    report_units: dict[str, str] = Field(default_factory=dict)
    # product -> characteristic -> process mean / sd in the spec's unit.
    process: dict[str, dict[str, ProcessSpec]]
