"""The dialect registry (plant_assets.ingest.dialects.DIALECTS) is the one list of historian dialects: the
config validation, `parse_historian`, `plant-assets plant init --dialect`, the simulator's writers and the
table in docs/contracts.md all agree with it."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import duckdb
import pytest
from pydantic import ValidationError

from plant_assets.core.plant_config import HistorianExport
from plant_assets.ingest.contract import DialectConfigError
from plant_assets.ingest.dialects import DIALECTS, docs_table
from plant_assets.ingest.exports import parse_historian
from tests.conftest import REPO_ROOT
from tests.unit.test_cli import assert_clear_error, invoke
from tests.unit.test_dialects import load_demo_plant

CONTRACTS = REPO_ROOT / "docs" / "contracts.md"


def test_every_dialect_module_exposes_parse_options_and_a_one_line_description():
    assert list(DIALECTS) == sorted(DIALECTS) and len(DIALECTS) >= 6
    for name, module in DIALECTS.items():
        assert module.__name__ == f"plant_assets.ingest.dialects.{name}"
        assert callable(module.parse), name
        assert isinstance(module.OPTIONS, tuple) and all(isinstance(o, str) for o in module.OPTIONS), name
        assert len(set(module.OPTIONS)) == len(module.OPTIONS), name
        description = module.DESCRIPTION
        assert isinstance(description, str) and description.strip() == description and description, name
        assert "\n" not in description and "|" not in description, name


def test_config_validation_knows_exactly_the_registry():
    for name, module in DIALECTS.items():
        export = HistorianExport(dialect=name, file_pattern="x_{date:%Y%m%d}.csv",
                                 options={option: None for option in module.OPTIONS})
        assert export.dialect == name
        with pytest.raises(ValidationError, match=f"unknown {name} option"):
            HistorianExport(dialect=name, file_pattern="x_{date:%Y%m%d}.csv", options={"no_such_option": 1})
    with pytest.raises(ValidationError) as error:
        HistorianExport(dialect="osisoft", file_pattern="x_{date:%Y%m%d}.csv")
    assert f"unknown historian dialect 'osisoft'; known: {list(DIALECTS)}" in str(error.value)


def test_parse_historian_dispatches_through_the_registry():
    with duckdb.connect() as con:
        for name in DIALECTS:
            plant = load_demo_plant("plant_a", (), historian={"dialect": name, "file_pattern": "h_{date:%Y%m%d}.csv"})
            result = parse_historian(plant, [], date(2026, 9, 7), con)
            assert result.accepted_rows == 0 and result.quarantined_rows == 0, name
        unknown = plant.model_copy(update={"historian": plant.historian.model_copy(update={"dialect": "osisoft"})})
        with pytest.raises(DialectConfigError, match=re.escape(f"known: {sorted(DIALECTS)}")):
            parse_historian(unknown, [], date(2026, 9, 7), con)


def test_plant_init_cli_knows_exactly_the_registry(tmp_path):
    sample = tmp_path / "sample.csv"
    sample.write_text("tag,timestamp,value\nT1,2026-09-07 00:00:00,1\n")
    base = ["plant", "init", "plant_d", "--sample", str(sample)]
    assert_clear_error(invoke(*base, "--dialect", "osisoft"),
                       f"unknown dialect 'osisoft'; use one of {', '.join(DIALECTS)}", exit_code=2)
    for name in DIALECTS:  # accepted as a dialect: the next check (the time zone) is the one that fails
        result = invoke(*base, "--dialect", name, "--timezone", "Mars/Olympus")
        assert_clear_error(result, "not an IANA time zone", exit_code=2)
        assert "unknown dialect" not in result.output


def test_simulator_writes_only_registered_dialects():
    from plant_assets.simulator.writers import HISTORIAN_WRITERS

    assert set(HISTORIAN_WRITERS) <= set(DIALECTS)


def test_docs_table_of_dialects_matches_the_registry():
    text = CONTRACTS.read_text(encoding="utf-8")
    header = docs_table().splitlines()[0]
    assert header in text, f"docs/contracts.md has no dialect table; add this one:\n{docs_table()}"
    lines = text[text.index(header):].splitlines()
    table = []
    for line in lines:
        if not line.startswith("|"):
            break
        table.append(line)
    assert "\n".join(table) + "\n" == docs_table(), (
        f"docs/contracts.md's dialect table differs from the registry; replace it with:\n{docs_table()}"
    )


def test_core_does_not_import_ingest_at_import_time():
    code = ("import sys, plant_assets.core.plant_config; "
            "print(sorted(m for m in sys.modules if m.startswith('plant_assets.ingest')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]", out.stdout
