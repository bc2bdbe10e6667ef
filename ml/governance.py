"""Model governance in MLflow: challenger by validation, champion only by approval (or a plant's
auto-promotion), reject, and rollback to the previous champion. Every decision is recorded as tags on
the model version (who, when, why) so the MLflow UI shows the history.

Works against any tracking URI (SQLite file, `mlflow server`), through an `MlflowClient`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from ml import model_registry
from ml.model_registry import CHALLENGER, CHAMPION

HISTORY_TAG = "champion_history"  # registered-model tag: champion versions in order, comma separated


@dataclass(frozen=True)
class Threshold:
    """One validation rule of a template: an absolute limit and how far the candidate may trail the champion."""

    metric: str
    limit: float | None
    greater_is_better: bool
    # The candidate may be at most this much worse than the champion (same holdout); None: no comparison.
    champion_tolerance: float | None = None


@dataclass
class Validation:
    passed: bool
    reasons: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "all thresholds met"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate(thresholds: list[Threshold], candidate: dict[str, float], champion: dict[str, float] | None) -> Validation:
    """`mlflow.validate_evaluation_results` of the candidate's metrics against the template's thresholds
    and, when a champion exists, against the champion's metrics on the same holdout."""
    from mlflow import validate_evaluation_results
    from mlflow.exceptions import MlflowException
    from mlflow.models import MetricThreshold
    from mlflow.models.evaluation import EvaluationResult

    reasons: list[str] = []
    absolute = {
        t.metric: MetricThreshold(threshold=float(t.limit), greater_is_better=t.greater_is_better)
        for t in thresholds
        if t.limit is not None
    }
    try:
        validate_evaluation_results(absolute, EvaluationResult(metrics=dict(candidate), artifacts={}))
    except MlflowException as exc:
        reasons.append(f"template thresholds: {exc.message.strip()}")
    compared = [t for t in thresholds if t.champion_tolerance is not None and champion and t.metric in champion]
    if compared:
        # "Not worse than the champion by more than the tolerance": the baseline is the champion's metric
        # shifted by the tolerance, and the candidate must be at least as good as that (tiny epsilon > 0).
        shifted = {
            t.metric: champion[t.metric] - t.champion_tolerance if t.greater_is_better else champion[t.metric] + t.champion_tolerance
            for t in compared
        }
        rules = {t.metric: MetricThreshold(min_absolute_change=1e-12, greater_is_better=t.greater_is_better) for t in compared}
        try:
            validate_evaluation_results(
                rules, EvaluationResult(metrics=dict(candidate), artifacts={}), EvaluationResult(metrics=shifted, artifacts={})
            )
        except MlflowException as exc:
            reasons.append(f"against champion: {exc.message.strip()}")
    return Validation(passed=not reasons, reasons=reasons)


def alias_version(client, name: str, alias: str) -> str | None:
    """The version an alias points at, always as a str (governance compares versions given on the command line)."""
    version = model_registry.alias_version(client, name, alias)
    return None if version is None else str(version)


def _history(client, name: str) -> list[str]:
    text = client.get_registered_model(name).tags.get(HISTORY_TAG, "")
    return [v for v in text.split(",") if v]


def _set_champion(client, name: str, version: str) -> None:
    history = _history(client, name)
    if not history or history[-1] != version:
        history.append(version)
    client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history[-50:]))
    client.set_registered_model_alias(name, CHAMPION, version)
    if alias_version(client, name, CHALLENGER) == version:
        client.delete_registered_model_alias(name, CHALLENGER)


def _tag(client, name: str, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, str(value))


def record_validation(client, name: str, version: str, validation: Validation, auto_promote: bool) -> tuple[str | None, str]:
    """After training: a passing version becomes @challenger, or @champion when the plant allows
    auto-promotion. Returns (alias, decision text)."""
    _tag(client, name, version, {"validation": "passed" if validation.passed else "failed", "validation_detail": validation.text()[:4900]})
    if not validation.passed:
        decision = f"not promoted: {validation.text()}"
        _tag(client, name, version, {"decision": decision[:4900]})
        return None, decision
    if auto_promote:
        _set_champion(client, name, version)
        decision = "auto-promoted to champion: passed validation and the plant allows auto-promotion"
        _tag(client, name, version, {"decision": decision, "approved_by": "auto-promotion (plant.yaml models.auto_promote)", "approved_at": _now()})
        return CHAMPION, decision
    client.set_registered_model_alias(name, CHALLENGER, version)
    decision = "challenger: passed validation, awaits approval (plant-assets models approve)"
    _tag(client, name, version, {"decision": decision})
    return CHALLENGER, decision


class GovernanceError(ValueError):
    pass


def approve(client, name: str, version: str, by: str, reason: str) -> str:
    """Make a version @champion; it must be the current @challenger. Returns the previous champion (or '')."""
    version = str(version)
    if alias_version(client, name, CHALLENGER) != version:
        raise GovernanceError(f"{name} v{version} is not the @challenger; only the challenger can be approved")
    previous = alias_version(client, name, CHAMPION) or ""
    _set_champion(client, name, version)
    _tag(client, name, version, {
        "approved_by": by, "approved_at": _now(), "approval_reason": reason,
        "previous_champion": previous, "decision": f"champion: approved by {by}",
    })
    return previous


def reject(client, name: str, version: str, by: str, reason: str) -> None:
    """Reject a version: it loses @challenger and can no longer be approved."""
    version = str(version)
    if alias_version(client, name, CHAMPION) == version:
        raise GovernanceError(f"{name} v{version} is the @champion; use rollback to replace it")
    if alias_version(client, name, CHALLENGER) == version:
        client.delete_registered_model_alias(name, CHALLENGER)
    _tag(client, name, version, {"rejected_by": by, "rejected_at": _now(), "rejection_reason": reason, "decision": f"rejected by {by}"})


def rollback(client, name: str, by: str, reason: str) -> tuple[str, str]:
    """Move @champion back to the previous champion. Returns (from_version, to_version)."""
    history = _history(client, name)
    current = alias_version(client, name, CHAMPION)
    if current is None or len(history) < 2:
        raise GovernanceError(f"{name} has no previous champion to roll back to")
    if history[-1] != current:
        history.append(current)
    history.pop()
    target = history[-1]
    client.set_registered_model_tag(name, HISTORY_TAG, ",".join(history))
    client.set_registered_model_alias(name, CHAMPION, target)
    now = _now()
    _tag(client, name, current, {"rolled_back_by": by, "rolled_back_at": now, "rollback_reason": reason, "decision": f"rolled back by {by}"})
    _tag(client, name, target, {"restored_by": by, "restored_at": now, "decision": f"champion again: restored by rollback ({by})"})
    return current, target


def version_metrics(version) -> dict[str, float]:
    out = {}
    for key, value in version.tags.items():
        if key.startswith("metric."):
            try:
                out[key[len("metric."):]] = float(value)
            except ValueError:
                pass
    return out


def list_models(client, use_case: str | None = None) -> list[dict]:
    """Per registered model (use case x plant): champion and challenger with their metrics."""
    rows = []
    for model in client.search_registered_models(max_results=1000):
        uc = model.tags.get("use_case") or model.name.split(".")[0]
        if use_case and uc != use_case:
            continue
        row = {"model": model.name, "use_case": uc, "plant_id": model.tags.get("plant_id", model.name.split(".")[-1])}
        for alias in (CHAMPION, CHALLENGER):
            version = alias_version(client, model.name, alias)
            row[alias] = version
            row[f"{alias}_metrics"] = version_metrics(client.get_model_version(model.name, version)) if version else {}
        rows.append(row)
    return sorted(rows, key=lambda r: (r["use_case"], r["plant_id"]))
