"""The house rules, checked by tools rather than by memory (docs/architecture.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAX_MODULE_LINES = 500


def test_import_contracts_are_kept():
    """import-linter contracts in pyproject.toml: libraries never import Dagster or the wiring, stages import
    only downward, the Dagster stage folders are independent, no private names cross modules."""
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_modules_are_small():
    sizes = {
        str(path.relative_to(REPO)): sum(1 for _ in path.open(encoding="utf-8"))
        for package in ("plant_assets", "ml")
        for path in (REPO / package).rglob("*.py")
    }
    too_big = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert not too_big, f"modules over {MAX_MODULE_LINES} lines: {too_big}"


def test_package_top_level_holds_only_the_code_location():
    """Everything else belongs to a stage folder (core, ingest, quality, standardize, operations, defs, ...)."""
    top = sorted(path.name for path in (REPO / "plant_assets").glob("*.py"))
    assert top == ["__init__.py", "definitions.py"], top


# The same thing seen from two layers, on purpose: the motor-health use case's template and its alert rule.
# Known and left: the `quality` use case (product quality; user-visible as `quality.<plant>`, `quality_model`)
# and the data-quality stage package `plant_assets/quality`; renaming either changes what users see.
SAME_THING = {"motor_health", "quality"}


def test_no_two_modules_share_a_name_for_different_things():
    """Three different `registry` modules once meant plant tables, MLflow names and dialect options.
    Command groups (cli/<group>.py) are named for what they command and are not counted."""
    stems: dict[str, list[str]] = {}
    for package in ("plant_assets", "ml"):
        modules = [path for path in (REPO / package).rglob("*.py") if path.stem not in ("__init__", "__main__")]
        packages = [path.parent for path in (REPO / package).rglob("__init__.py") if path.parent != REPO / package]
        for path in modules + packages:
            # defs/<stage>/ are named for the stage they wire, on purpose
            if path.stem not in ("assets", "checks") and path.parent.name not in ("defs", "cli"):
                stems.setdefault(path.stem, []).append(str(path.relative_to(REPO)))
    shared = {stem: paths for stem, paths in stems.items() if len(paths) > 1 and stem not in SAME_THING}
    assert not shared, shared
