"""The use-case registry (ml/templates/) and the one interface: every use case found, named after its module,
described well enough for the Dagster wiring, which builds exactly their assets; importing them stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ml.templates import use_cases
from ml.use_case import AssetFacts, DriftMonitor, UseCase

REPO = Path(__file__).resolve().parents[2]


def test_every_template_module_is_a_use_case():
    found = use_cases()
    modules = sorted(p.stem for p in (REPO / "ml" / "templates").glob("*.py") if not p.stem.startswith("_"))
    assert list(found) == modules
    assert {"energy_baseline", "motor_health", "quality"} <= set(found)
    for name, use_case in found.items():
        assert isinstance(use_case, UseCase) and use_case.name == name == use_case.spec.name
        assert use_case.spec.version and use_case.title
        assert isinstance(use_case.asset, AssetFacts) and use_case.asset.description and use_case.asset.kinds
        assert all(table.count(".") == 1 for table in use_case.asset.reads), use_case.asset.reads
        assert use_case.drift is None or isinstance(use_case.drift, DriftMonitor)


def test_the_dagster_wiring_builds_one_asset_per_use_case_and_drift_monitor():
    from plant_assets.defs.ml import defs

    built = {key.to_user_string() for assets in defs.assets for key in assets.keys}
    expected = {u.asset.name for u in use_cases().values()} | {u.drift.asset.name for u in use_cases().values() if u.drift}
    assert built == expected
    assert {"energy_baseline_model", "motor_health_model", "quality_model", "energy_model_drift"} <= built


def test_importing_the_use_cases_loads_no_heavy_library():
    """The code location imports every use case to build its assets, and every step process loads it."""
    code = (
        "import sys; from ml.templates import use_cases; use_cases(); "
        "print(' '.join(m for m in ('lightgbm', 'mlflow', 'matplotlib', 'sklearn', 'dagster', 'plant_assets') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_missing_data_fails_or_skips_as_the_use_case_says():
    from types import SimpleNamespace

    import pandas as pd

    found = use_cases()
    plant = SimpleNamespace(plant_id="p", energy_baseline="2026-09-07..2026-09-16")
    empty = pd.DataFrame({"plant_id": pd.Series(dtype=str), "production_date": pd.Series(dtype="datetime64[ns]")})
    assert found["energy_baseline"].fail_without_data
    assert "no standardized data in its baseline period" in found["energy_baseline"].missing_data(empty, plant)
    assert not found["motor_health"].fail_without_data and "no motor vibration data" in found["motor_health"].missing_data(empty, plant)
    assert not found["quality"].fail_without_data and "fewer than 4 days" in found["quality"].missing_data(empty, plant)


@pytest.mark.parametrize("name", ["energy_baseline", "motor_health", "quality"])
def test_fingerprint_follows_the_data_and_the_template_version(name):
    import pandas as pd

    use_case = use_cases()[name]
    columns = ["duration_min", "rate_per_min", "kwh_per_unit", "start_hour_utc", "scrap_share"]
    frame = pd.DataFrame({c: [1.0, 2.0] for c in columns} | {"plant_id": ["p", "p"], "product_family": ["keg", "can_12oz"]})
    assert use_case.fingerprint(frame) == use_case.fingerprint(frame.copy())
    assert use_case.fingerprint(frame) != use_case.fingerprint(frame, variant="-drift")
    assert use_case.fingerprint(frame) != use_case.fingerprint(frame.assign(scrap_share=[1.0, 3.0]))
