"""The one interface of an ML use case, and what the orchestrator needs to know about it.

A use case is one module in ml/templates/ that exposes `USE_CASE`, an instance of a `UseCase` subclass:
its template spec (name, version, ...), how it reads every plant's training rows from the warehouse, how it
builds one plant's candidate (template fit on the pool, calibrated on the plant, evaluated, plotted, with a
model card) and what its per-plant asset looks like. ml/templates/__init__.py finds every use case,
plant_assets/defs/ml builds their assets, and ml/training.py registers each candidate the same way (tags,
model card, validation, aliases). A use case may also bring a `DriftMonitor` (its own nightly asset).

Nothing here imports Dagster: an asset is described by plain values (`AssetFacts`) and materialization
metadata is plain Python (str, float, bool, list, dict); a `Markdown` str is rendered as Markdown.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from ml import training

Connect = Callable[[], AbstractContextManager]  # opens a read-only warehouse connection (DuckDB)


class Spec(Protocol):
    """What every template spec has (each template adds its own fields: features, params, validation, ...)."""

    name: str
    version: str

    def as_dict(self) -> dict: ...


class Markdown(str):
    """A metadata value to render as Markdown (a plain str is shown as text)."""


@dataclass(frozen=True)
class AssetFacts:
    """A per-plant asset as the orchestrator shows it: its name, kinds, the warehouse tables it reads
    (`schema.table`; a plant's model reads every day of them) and its description."""

    name: str
    kinds: tuple[str, ...]
    description: str
    reads: tuple[str, ...] = ()


@dataclass
class Candidate:
    """One plant's calibrated instance, ready for ml.training to log, validate and register.

    `log_model(registered_name)` logs the model (signature, input example, pinned requirements) inside the
    training run and returns MLflow's ModelInfo. `metrics` are logged and tagged; `candidate_metrics` (the
    calibrated variant's, unprefixed) are validated against `thresholds` and `champion_metrics` (the champion
    on the same holdout, None without one). `card` is the model card with a `{decision}` placeholder.
    `outcome` is merged into the training result (e.g. `plot_markdown`)."""

    log_model: Callable[[str], Any]
    dataset: pd.DataFrame
    target: str | None
    metrics: dict[str, float]
    candidate_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    thresholds: list
    window: tuple[str, str]
    card: str
    plots: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    outcome: dict = field(default_factory=dict)


def metrics_table(metrics: dict) -> str:
    return "\n".join(["| metric | value |", "|---|---:|"] + [f"| {k} | {v:.4f} |" for k, v in sorted(metrics.items())])


class UseCase(ABC):
    """One ML use case: a common template, calibrated and registered per plant as `<name>.<plant>`.

    Subclasses set `spec`, `title` (the registered model's description reads "<title> for <plant name>,
    calibrated from the common template.") and `asset`, and implement `read`, `missing_data` and `candidate`.
    `train_and_register` returns the uniform result of ml.training.train_and_register."""

    spec: Spec
    title: str
    asset: AssetFacts
    fail_without_data: bool = False  # no rows for the plant: fail the step (True) or skip the plant (False)
    drift: DriftMonitor | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def read(self, con, plants: dict) -> pd.DataFrame:
        """Every plant's training rows (a plant's candidate is fit on the pool), from a warehouse connection."""

    @abstractmethod
    def missing_data(self, data: pd.DataFrame, plant) -> str | None:
        """Why the plant cannot be trained on `data` (None: it can)."""

    @abstractmethod
    def candidate(self, client, name: str, plant, data: pd.DataFrame) -> Candidate:
        """Fit the template on the pool, calibrate it on the plant, evaluate it (and the champion `name`)."""

    def fingerprint_rows(self, data: pd.DataFrame) -> pd.DataFrame:
        """The part of `data` whose change makes a new version (the whole frame unless a use case says less)."""
        return data

    def fingerprint(self, data: pd.DataFrame, variant: str = "") -> str:
        return training.data_fingerprint(self.fingerprint_rows(data), self.spec.version + variant)

    def train_and_register(
        self, client, artifacts_dir: str | Path, plant, data: pd.DataFrame, fingerprint: str, code_version: str
    ) -> dict:
        return training.train_and_register(self, client, artifacts_dir, plant, data, fingerprint, code_version)

    def report(self, outcome: dict, data: pd.DataFrame, plant_id: str, connect: Connect) -> dict:
        """The materialization metadata of one training (plain values; `Markdown` for Markdown)."""
        return {
            "registered_model": outcome["model_name"],
            "version": str(outcome["version"]),
            "alias": outcome["alias"] or "none",
            "decision": outcome["decision"],
            "metrics": Markdown(metrics_table(outcome["metrics"])),
        }


class DriftMonitor(ABC):
    """A nightly check of a use case's champions (feature drift, performance decay), its own per-plant asset
    downstream of the use case's. A crossed rule opens an incident (ml.drift.record_incident) and, when the
    plant allows it, trains a challenger on `challenger(...)`'s rows."""

    asset: AssetFacts

    @abstractmethod
    def read(self, con, plants: dict) -> pd.DataFrame:
        """Every plant's recent rows, from a warehouse connection (`plants`: every valid plant config)."""

    @abstractmethod
    def report(self, client, plant, plant_rows: pd.DataFrame) -> dict:
        """ml.drift.champion_drift's report for the plant's champion on the plant's rows."""

    @abstractmethod
    def challenger(self, rows: pd.DataFrame, plant, plants: dict) -> tuple[Any, pd.DataFrame]:
        """The plant config and pooled rows a drift-triggered challenger is trained on."""
