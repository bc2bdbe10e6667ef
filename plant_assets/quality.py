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

import pandas as pd

from plant_assets.settings import REPO_ROOT

EXPECTATIONS_DIR = REPO_ROOT / "expectations"


@dataclass
class GateOutcome:
    suite: str
    passed: bool
    evaluated: int
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_names(self) -> list[str]:
        return [f["expectation"] for f in self.failed]

    def markdown(self) -> str:
        if self.passed:
            return f"All {self.evaluated} expectations of `{self.suite}` passed."
        lines = [f"{len(self.failed)} of {self.evaluated} expectations of `{self.suite}` failed:", ""]
        lines += ["| expectation | column | observed | sample |", "|---|---|---|---|"]
        for f in self.failed:
            lines.append(f"| {f['expectation']} | {f.get('column') or ''} | {f.get('observed')} | {f.get('sample')} |")
        return "\n".join(lines)


def load_suite_definition(name: str, folder: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


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


def validate_frame(suite_name: str, frame: pd.DataFrame, parameters: dict[str, Any] | None = None) -> GateOutcome:
    gx, batch_definition = _context()
    suite = gx.ExpectationSuite(**load_suite_definition(suite_name))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, expectation_parameters=parameters or {})
    failed = []
    for r in result.results:
        if r.success:
            continue
        details = r.result or {}
        failed.append(
            {
                "expectation": r.expectation_config.type,
                "column": r.expectation_config.kwargs.get("column")
                or r.expectation_config.kwargs.get("column_list"),
                "observed": details.get("observed_value", details.get("unexpected_percent")),
                "unexpected_count": details.get("unexpected_count"),
                "sample": [str(v) for v in (details.get("partial_unexpected_list") or [])[:5]],
                "exception": (r.exception_info or {}).get("exception_message")
                if isinstance(r.exception_info, dict)
                else None,
            }
        )
    return GateOutcome(suite=suite_name, passed=bool(result.success), evaluated=len(result.results), failed=failed)
