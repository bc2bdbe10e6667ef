"""Onboarding kit: the mapping assistant drafts the demo plants' tag maps from their exports alone, `plant init`
scaffolds a folder that validates, and `plant readiness` reports signals, KPIs and failed rows."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plant_assets.core.plant_config import load_plant, load_plants
from plant_assets.core.settings import REPO_ROOT
from plant_assets.ingest.exports import files_for_day
from plant_assets.onboarding import (
    KPI_REQUIREMENTS,
    draft_tag_map,
    read_sample,
    readiness,
    tokens,
)
from plant_assets.onboarding.readiness import kpi_catalog
from plant_assets.onboarding.scaffold import file_pattern_from

DAY = date(2026, 9, 7)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One simulated day of the three demo plants (their real export dialects)."""
    from plant_assets.simulator import simulate_plants

    root = tmp_path_factory.mktemp("onboarding")
    plants = load_plants(REPO_ROOT / "plants")
    simulate_plants(plants, DAY, 1, root / "landing", root / "truth")
    return plants, root / "landing"


def _accuracy(plant, landing: Path) -> tuple[float, list[str]]:
    (export,) = files_for_day(plant, landing / plant.plant_id, DAY, "historian")
    sample = read_sample(plant.historian.dialect, dict(plant.historian.options), plant.timezone, export)
    known = {m.source_tag: m for m in plant.tag_map}
    assert set(sample.tags) == set(known)  # every tag of the export found, without a tag map
    wrong = []
    for s in draft_tag_map(sample.tags, sample.stats):
        m = known[s.source_tag]
        if (s.signal, s.source_unit, s.line_id, s.asset_id, s.rollover) != (
                m.signal, m.source_unit, m.line_id, m.asset_id, m.rollover):
            wrong.append(f"{s.source_tag}: drafted {s.signal}/{s.source_unit}/{s.asset_id}/{s.rollover}")
    return 1 - len(wrong) / len(known), wrong


@pytest.mark.parametrize("plant_id", ["plant_a", "plant_b", "plant_c"])
def test_mapping_assistant_drafts_at_least_80_percent(demo, plant_id):
    plants, landing = demo
    accuracy, wrong = _accuracy(plants[plant_id], landing)
    print(f"{plant_id}: {accuracy:.0%} of the tag map drafted correctly; wrong: {wrong}")
    assert accuracy >= 0.8, wrong


def test_tokens_and_patterns():
    assert tokens("CF_L1_PowerMeter_MWh") == ["cf", "l1", "power", "meter", "mwh"]
    assert tokens("pune/line1/motor1/vibration_mms") == ["pune", "line1", "motor1", "vibration", "mms"]
    assert file_pattern_from("WideHistory_2026-09-07.csv") == "WideHistory_{date:%Y-%m-%d}.csv"
    assert file_pattern_from("odd{name}_20260907.csv") == "odd{{name}}_{date:%Y%m%d}.csv"


def test_unrecognisable_tag_gets_no_signal():
    (s,) = draft_tag_map(["XQ_77_ZZZ"])
    assert s.signal is None and s.confidence < 0.5


def test_kpi_requirements_come_from_the_catalog():
    """Every KPI's inputs are columns of seeds/kpi_catalog.csv, in a vocabulary readiness knows."""
    from plant_assets.core.catalog import load_kpi_catalog, load_signal_catalog
    from plant_assets.ingest.exports import STREAMS
    from plant_assets.onboarding.readiness import CONFIG_CHECKS

    catalog = load_kpi_catalog()
    assert list(KPI_REQUIREMENTS) == kpi_catalog() == list(catalog)
    for kpi in catalog.values():
        assert kpi.requires_signals or kpi.requires_exports or kpi.requires_config, kpi.kpi
        # an export requirement may name alternatives, "a|b", and a machine state signal may stand in for MES
        alternatives = {a for need in kpi.requires_exports for a in need.split("|")}
        assert alternatives <= set(STREAMS) - {"historian"} | set(load_signal_catalog()), kpi.kpi
        assert set(kpi.requires_config) <= set(CONFIG_CHECKS), kpi.kpi


def test_kpi_catalog_refuses_an_unknown_signal(tmp_path):
    from plant_assets.core.catalog import KPI_CATALOG_CSV, load_kpi_catalog

    text = KPI_CATALOG_CSV.read_text(encoding="utf-8")
    bad = tmp_path / "kpi_catalog.csv"
    bad.write_text(text.replace(",energy_total,,\n", ",energy_totl,,\n", 1), encoding="utf-8")
    with pytest.raises(ValueError, match="energy_totl"):
        load_kpi_catalog(bad)


def test_plant_init_then_validate_then_readiness(demo, tmp_path, monkeypatch):
    from plant_assets.cli import app

    plants, landing = demo
    plants_dir = tmp_path / "plants"
    monkeypatch.setenv("PLANT_ASSETS_PLANTS", str(plants_dir))
    monkeypatch.setenv("PLANT_ASSETS_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "landing").mkdir(parents=True)
    (tmp_path / "home" / "landing" / "plant_new").symlink_to(landing / "plant_b", target_is_directory=True)
    sample = landing / "plant_b" / "WideHistory_2026-09-07.csv"
    runner = CliRunner()
    result = runner.invoke(app, ["plant", "init", "plant_new", "--sample", str(sample), "--dialect", "aveva_wide",
                                 "--timezone", "America/Chicago",
                                 "--options", '{"timestamp_format": "%Y-%m-%d %H:%M:%S.%g"}'])
    assert result.exit_code == 0, result.output
    assert "21 tags" in result.output
    folder = plants_dir / "plant_new"
    rows = list(csv.DictReader((folder / "tag_map.csv").open()))
    assert len(rows) == 21
    review = list(csv.DictReader((folder / "tag_map.review.csv").open()))
    assert all(0 <= float(r["confidence"]) <= 1 for r in review)
    plant = load_plant(folder)  # the scaffold validates as written
    assert [line.id for line in plant.lines] == ["L1", "L2", "L3"]
    assert plant.historian.file_pattern == "WideHistory_{date:%Y-%m-%d}.csv"
    # a second init does not overwrite
    assert runner.invoke(app, ["plant", "init", "plant_new", "--sample", str(sample)]).exit_code == 1
    assert runner.invoke(app, ["plant", "init", "../evil", "--sample", str(sample)]).exit_code == 1
    assert runner.invoke(app, ["plant", "validate", "plant_new"]).exit_code == 0

    result = runner.invoke(app, ["plant", "readiness", "plant_new", "--day", DAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "energy_kwh" in result.output and "missing" in result.output

    report = readiness(plant, landing / "plant_b", [DAY])
    status = {k.kpi: k.status for k in report.kpis}
    assert status["energy_kwh"] == status["units_produced"] == status["kwh_per_unit"] == "ready"
    assert status["good_qty"] == "missing"  # the scaffold's TODO runs export does not exist
    assert report.parse["raw"] == report.parse["accepted"] + report.parse["quarantined"] > 0
    assert report.missing_signals == {}


def test_readiness_names_missing_signals_and_failed_rows(demo, tmp_path):
    plants, landing = demo
    plant = plants["plant_a"]
    drop = {m.source_tag for m in plant.tag_map if m.line_id == "L2" and m.signal == "production_count_total"}
    partial = plant.model_copy(update={"tag_map": tuple(m for m in plant.tag_map if m.source_tag not in drop)})
    folder = tmp_path / "plant_a"
    folder.mkdir()
    src = landing / "plant_a" / "PI_RecordedValues_20260907.csv"
    text = src.read_text().splitlines()
    (folder / src.name).write_text("\n".join(text + ["RHF.L1.M1.CUR,07-Sep-2026 25:61:00,1,Good"]) + "\n")
    report = readiness(partial, folder, [DAY])
    assert report.missing_signals == {"L2": ["production_count_total"]}
    status = {k.kpi: k for k in report.kpis}
    assert status["units_produced"].status == "partial" and "L2" in status["units_produced"].missing[0]
    assert any(r["reason_code"] == "bad_timestamp" for r in report.parse["failed_rows"])
    assert any("RHF.L2.CNT01.PCS" in d for d in report.parse["unmapped_tags"])
