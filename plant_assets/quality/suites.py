"""Great Expectations gates: declarative suites in expectations/, validated on pandas frames.

GX on DuckDB through SQLAlchemy is broken in 1.24.1, so partitions are loaded into a DataFrame and
validated with GX's pandas data source. GX takes seconds to import, so it is imported lazily.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from plant_assets.core.settings import REPO_ROOT

EXPECTATIONS_DIR = REPO_ROOT / "expectations"


@dataclass
class GateOutcome:
    suite: str
    passed: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)
    docs_url: str | None = None

    @property
    def failed_names(self) -> list[str]:
        return [f["expectation"] for f in self.failed]

    def markdown(self) -> str:
        docs = f"\n\nData Docs: {self.docs_url}" if self.docs_url else ""
        if self.passed:
            return f"All {self.evaluated} expectations of `{self.suite}` passed.{docs}"
        lines = [f"{len(self.failed)} of {self.evaluated} expectations of `{self.suite}` failed:", ""]
        lines += ["| expectation | column | observed | sample |", "|---|---|---|---|"]
        for f in self.failed:
            lines.append(f"| {f['expectation']} | {f.get('column') or ''} | {f.get('observed')} | {f.get('sample')} |")
        return "\n".join(lines) + docs


def load_suite_definition(name: str, folder: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def suite_parameters(name: str, overrides: dict[str, float] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(parameters to validate with, the plant overrides that changed a central default).

    Central defaults live in the suite file (`meta.thresholds`); a plant tunes the last mile in its
    plant.yaml under `quality_gates: {<suite>: {<threshold>: value}}`. Unknown names are refused so a
    typo cannot silently leave the default in force.
    """
    defaults = dict(load_suite_definition(name).get("meta", {}).get("thresholds", {}))
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"unknown threshold(s) {unknown} for suite {name!r}; known: {sorted(defaults)}")
    changed = {k: {"default": defaults[k], "plant": v} for k, v in overrides.items() if v != defaults[k]}
    return defaults | overrides, changed


@lru_cache(maxsize=1)
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        context.variables.progress_bars = {"globally": False}
    except Exception:  # older/newer config objects: progress bars are cosmetic
        pass
    batch_definition = (
        context.data_sources.add_pandas("lake").add_dataframe_asset("partition").add_batch_definition_whole_dataframe("all")
    )
    return gx, batch_definition


def _observed(details: dict[str, Any], rows: int) -> Any:
    """What the gate saw: the metric itself (a column's min/max, or the value of a one-row frame), else how
    many rows broke the expectation."""
    if details.get("observed_value") is not None:
        return _plain(details["observed_value"])
    unexpected = details.get("partial_unexpected_list") or []
    if rows == 1 and unexpected:
        return _plain(unexpected[0])
    if details.get("unexpected_count") is not None:
        return f"{details['unexpected_count']} of {rows} rows unexpected"
    return None


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value: the report goes into JSON metadata."""
    return value.item() if isinstance(value, np.generic) else value


def outside_limits(frame: pd.DataFrame, column: Any, limits: dict[str, Any]) -> pd.Series | None:
    """Which rows break a numeric range (min_value / max_value); None when the limits are not one."""
    if not isinstance(column, str) or column not in frame or not ({"min_value", "max_value"} & set(limits)):
        return None
    values = pd.to_numeric(frame[column], errors="coerce")
    outside = pd.Series(False, index=frame.index)
    if limits.get("min_value") is not None:
        outside |= values < limits["min_value"]
    if limits.get("max_value") is not None:
        outside |= values > limits["max_value"]
    return outside


def _worst(frame: pd.DataFrame, column: str, limits: dict[str, Any], outside: pd.Series, key_column: str | None) -> list:
    """The rows furthest outside the limits first, named by `key_column` (else their values)."""
    values = pd.to_numeric(frame.loc[outside, column], errors="coerce")
    rows = values.sort_values(ascending=limits.get("max_value") is None).index[:5]
    return (frame.loc[rows, key_column] if key_column in frame else values[rows]).tolist()


def _threshold(kwargs: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """The limits an expectation applied, with $PARAMETER references resolved."""
    limits = {}
    for key in ("min_value", "max_value", "mostly", "value_set", "column_set"):
        if key in kwargs:
            value = kwargs[key]
            if isinstance(value, dict) and "$PARAMETER" in value:
                value = parameters.get(value["$PARAMETER"])
            limits[key] = str(value) if hasattr(value, "isoformat") else value
    return limits


@lru_cache(maxsize=2)
def _docs_context(root: str):
    """A file-backed GX context that only stores validation results and renders Data Docs."""
    import great_expectations as gx

    return gx.get_context(mode="file", project_root_dir=root)


def store_result(result, suite_name: str, batch_name: str, render: bool) -> str | None:
    """Keep every gate result in the GX store under PLANT_ASSETS_HOME/gx; render its Data Docs page now
    when asked (failed gates), the whole site on demand (`plant-assets gates docs`)."""
    from datetime import datetime, timezone

    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from plant_assets.core.settings import get_settings

    context = _docs_context(str(get_settings().home))
    identifier = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
        run_id=RunIdentifier(run_name=batch_name, run_time=datetime.now(timezone.utc)),
        batch_identifier=batch_name.replace("|", "-"),
    )
    context.validation_results_store.set(identifier, result)
    if not render:
        return None
    context.build_data_docs(resource_identifiers=[identifier])
    urls = context.get_docs_sites_urls(resource_identifier=identifier)
    return urls[0]["site_url"] if urls else None


def build_docs_site() -> str | None:
    from plant_assets.core.settings import get_settings

    context = _docs_context(str(get_settings().home))
    context.build_data_docs()
    urls = context.get_docs_sites_urls()
    return urls[0]["site_url"] if urls else None


def validate_frame(
    suite_name: str,
    frame: pd.DataFrame,
    parameters: dict[str, Any] | None = None,
    batch_name: str | None = None,
    key_column: str | None = None,
    not_applicable: frozenset[str] = frozenset(),
) -> GateOutcome:
    """Validate `frame` with the suite; `key_column` names the rows (a tag) in the failure samples.
    `not_applicable`: columns whose not-null expectations do not apply here (a KPI the plant cannot compute)."""
    gx, batch_definition = _context()
    parameters = parameters or {}
    definition = load_suite_definition(suite_name)
    definition["expectations"] = [
        e for e in definition["expectations"]
        if not (e["type"] == "expect_column_values_to_not_be_null" and e["kwargs"].get("column") in not_applicable)
    ]
    definition["meta"] = {k: v for k, v in definition.get("meta", {}).items() if k != "thresholds"}
    suite = gx.ExpectationSuite(**definition)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    # BASIC keeps what a failure report needs (observed value, unexpected count and sample) and skips the
    # SUMMARY extras, which cost about a third of GX's time per expectation
    result = batch.validate(suite, expectation_parameters=parameters, result_format="BASIC")
    failed = [_failure(r, frame, parameters, key_column) for r in result.results if not r.success]
    docs_url = store_result(result, suite_name, batch_name, render=not result.success) if batch_name else None
    return GateOutcome(
        suite=suite_name, passed=bool(result.success), evaluated=len(result.results), failed=failed, docs_url=docs_url
    )


def _failure(r, frame: pd.DataFrame, parameters: dict[str, Any], key_column: str | None) -> dict[str, Any]:
    """One failed expectation as the gate reports it. Column min/max expectations see only the extreme, so
    the rows outside the limits are counted and named here from the frame."""
    config = r.expectation_config
    column = config.kwargs.get("column") or config.kwargs.get("column_list")
    details = r.result or {}
    limits = _threshold(config.kwargs, parameters)
    outside = outside_limits(frame, column, limits)
    sample = details.get("partial_unexpected_list") or []
    if outside is not None and (key_column or not sample):
        sample = _worst(frame, column, limits, outside, key_column)
    unexpected = details.get("unexpected_count")
    return {
        "expectation": config.type,
        "column": column,
        "observed": _observed(details, len(frame)),
        "unexpected_count": unexpected if unexpected is not None or outside is None else int(outside.sum()),
        "sample": [str(v) for v in sample[:5]],
        "threshold": limits,
        "exception": (r.exception_info or {}).get("exception_message") if isinstance(r.exception_info, dict) else None,
    }
