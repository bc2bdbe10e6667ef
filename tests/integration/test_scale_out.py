"""The scale-out path (docs/scaling.md), run for real on this machine: PostgreSQL (initdb into a
temp dir) and Redis on 127.0.0.1, two Celery workers, an MLflow server on PostgreSQL. The nightly
graph for two plants x three days runs across the workers and must give the same marts.kpi_daily
and the same MLflow registry (aliases, governance tags) as the single-machine run."""

from __future__ import annotations

from datetime import date

import pytest

pytestmark = pytest.mark.scale


def test_scale_out_matches_single_machine(tmp_path):
    from plant_assets.scaleout import services
    from tests.conftest import skip_for_missing_tool

    missing = services.missing_binaries()
    if missing:
        skip_for_missing_tool(f"needs {', '.join(missing)} (Debian: apt-get install postgresql redis-server)")
    try:
        import dagster_celery  # noqa: F401
    except ImportError:
        skip_for_missing_tool("needs the scale extra: pip install -e '.[scale]'")
    from plant_assets.scaleout.demo import scale_out_check

    result = scale_out_check(tmp_path, ["plant_a", "plant_b"], date(2026, 9, 7), days=3, workers=2, progress=lambda _: None)

    assert result.kpi_rows > 0
    assert result.kpi_mismatches == 0, "marts.kpi_daily differs between the single-machine and scaled-out runs"
    assert result.registry_single, "the single-machine run registered no models"
    assert not result.registry_differences, result.registry_differences
    assert all(model["aliases"] == ["champion"] for model in result.registry_scale_out.values())
    # registry + 6 plant-day ingests + dbt + 2 trainings + actions, all recorded in PostgreSQL
    assert result.dagster_runs_in_postgres == 11
    assert result.step_failures == 0, "a step failed on a worker (e.g. a DuckDB lock conflict)"
    assert len(result.steps_per_worker) == 2, f"steps did not spread over both workers: {result.steps_per_worker}"
