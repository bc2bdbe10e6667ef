"""Plant ids confine every command to the plants folder: `../evil` is refused before any file is read, folders
whose names are no plant id are reported (not silently skipped), and the error shows the pattern intact
(rich markup used to eat `[a-z0-9_]`). A plant webhook outside the allow-list is named by validate/readiness."""

from __future__ import annotations

import shutil

import pytest
import yaml

from plant_assets.core.plant_config import PlantConfigError, validate_plants
from plant_assets.defs.resources import PlantsResource
from tests.conftest import REPO_ROOT
from tests.unit.test_cli import assert_clear_error, invoke

PATTERN = "^[a-z][a-z0-9_]{1,31}$"


@pytest.fixture
def plants(tmp_path, monkeypatch):
    """plants/plant_a (valid) and, next to the plants folder, an `evil` plant that must never be read."""
    folder = tmp_path / "plants"
    shutil.copytree(REPO_ROOT / "plants" / "plant_a", folder / "plant_a")
    evil = tmp_path / "evil"
    shutil.copytree(REPO_ROOT / "plants" / "plant_a", evil)
    config = yaml.safe_load((evil / "plant.yaml").read_text())
    (evil / "plant.yaml").write_text(yaml.safe_dump({**config, "plant_id": "evil"}))
    monkeypatch.setenv("PLANT_ASSETS_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("PLANT_ASSETS_PLANTS", str(folder))
    monkeypatch.delenv("PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS", raising=False)
    return folder


@pytest.mark.parametrize("command", [("plant", "readiness"), ("plant", "validate")])
def test_a_path_as_plant_id_is_refused_with_the_pattern_intact(plants, command):
    result = invoke(*command, "../evil")
    assert_clear_error(result, f"'../evil' is not a plant id: ids match {PATTERN}")
    assert "canonical signals" not in result.output, "the plant outside the plants folder was read"


def test_init_refuses_a_path_as_plant_id_before_writing_anything(plants, tmp_path):
    sample = tmp_path / "export_2026-09-07.csv"
    sample.write_text("timestamp,tag,value\n2026-09-07T00:00:00,L1.kWh,1\n")
    assert_clear_error(invoke("plant", "init", "../outside", "--sample", str(sample)),
                       f"'../outside' is not a plant id: ids match {PATTERN}")
    assert not (tmp_path / "outside").exists()


def test_plants_resource_refuses_a_path_as_plant_id(plants):
    with pytest.raises(PlantConfigError, match=r"'\.\./evil' is not a plant id"):
        PlantsResource(plants_dir=str(plants)).plant("../evil")


def test_misnamed_plant_folders_are_reported_not_skipped(plants):
    for name in ("plänt_ü", "Plant-A"):
        shutil.copytree(plants / "plant_a", plants / name)
    (plants / ".git").mkdir()  # hidden folders are not plants
    good, bad = validate_plants(plants)
    assert sorted(good) == ["plant_a"] and sorted(bad) == ["Plant-A", "plänt_ü"]
    assert f"'plänt_ü' is not a plant id: ids match {PATTERN}" in bad["plänt_ü"]

    result = invoke("plant", "validate")
    assert_clear_error(result, "2 invalid plant config(s): Plant-A, plänt_ü",
                       f"folder not read as a plant: 'Plant-A' is not a plant id: ids match {PATTERN}")


def test_schema_errors_show_the_id_pattern_intact(plants):
    plant_yaml = plants / "plant_a" / "plant.yaml"
    plant_yaml.write_text(plant_yaml.read_text().replace("plant_id: plant_a", "plant_id: Plant-A"))
    assert_clear_error(invoke("plant", "validate", "plant_a"), f"String should match pattern '{PATTERN}'")


def test_validate_and_readiness_name_a_webhook_host_outside_the_allow_list(plants):
    plant_yaml = plants / "plant_a" / "plant.yaml"
    config = yaml.safe_load(plant_yaml.read_text())
    plant_yaml.write_text(yaml.safe_dump({**config, "webhook_url": "http://169.254.169.254/hook"}))
    refusal = "webhook host '169.254.169.254' is not allowed: add it to PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS"
    assert_clear_error(invoke("plant", "validate", "plant_a"), refusal)
    result = invoke("plant", "readiness", "plant_a")
    assert result.exit_code == 0 and "webhook refused" in result.output and refusal in result.output
