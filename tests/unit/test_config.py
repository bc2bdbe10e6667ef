import shutil
from pathlib import Path

import pytest

from plant_assets.core.plant_config import PlantConfigError, load_plant, validate_plants
from plant_assets.core.settings import REPO_ROOT

DEMO_PLANTS = REPO_ROOT / "plants"


def copy_plant(tmp_path: Path, plant_id: str = "plant_a") -> Path:
    target = tmp_path / "plants" / plant_id
    shutil.copytree(DEMO_PLANTS / plant_id, target)
    return target


@pytest.mark.parametrize("plant_id", ["plant_a", "plant_b", "plant_c"])
def test_demo_plants_are_valid(plant_id):
    plant = load_plant(DEMO_PLANTS / plant_id)
    assert plant.plant_id == plant_id
    signals = {t.signal for t in plant.tag_map}
    assert {"energy_total", "production_count_total", "motor_vibration_velocity"} <= signals
    assert len(plant.tag_map) == 2 * len(plant.lines) + 3 * len(plant.motors)


def test_tag_map_error_names_file_line_and_reason(tmp_path):
    folder = copy_plant(tmp_path)
    tag_map = folder / "tag_map.csv"
    lines = tag_map.read_text().splitlines()
    first = lines[1].split(",")
    first[1] = "energy_totl"  # a typo in the canonical signal
    lines[1] = ",".join(first)
    tag_map.write_text("\n".join(lines) + "\n")
    with pytest.raises(PlantConfigError) as error:
        load_plant(folder)
    assert f"{tag_map}:2" in str(error.value)
    assert "unknown canonical signal 'energy_totl'" in str(error.value)


def test_unconvertible_unit_is_rejected(tmp_path):
    folder = copy_plant(tmp_path)
    tag_map = folder / "tag_map.csv"
    text = tag_map.read_text().replace(",kWh,", ",degC,", 1)
    tag_map.write_text(text)
    with pytest.raises(PlantConfigError, match="cannot convert unit 'degC' to 'kWh'"):
        load_plant(folder)


def test_bad_plant_yaml_lists_every_problem(tmp_path):
    folder = copy_plant(tmp_path)
    plant_yaml = folder / "plant.yaml"
    text = plant_yaml.read_text().replace("timezone: Europe/Berlin", "timezone: Europe/Atlantis")
    text = text.replace('file_pattern: "PI_RecordedValues_{date:%Y%m%d}.csv"', 'file_pattern: "../../etc/{date:%Y}.csv"')
    plant_yaml.write_text(text)
    with pytest.raises(PlantConfigError) as error:
        load_plant(folder)
    message = str(error.value)
    assert "unknown IANA time zone 'Europe/Atlantis'" in message
    assert "must be a bare file name" in message


def test_broken_yaml_names_file_and_line(tmp_path):
    folder = copy_plant(tmp_path)
    plant_yaml = folder / "plant.yaml"
    lines = plant_yaml.read_text().splitlines()
    lines[3] = lines[3] + " ["  # an unclosed flow sequence on line 4
    plant_yaml.write_text("\n".join(lines) + "\n")
    with pytest.raises(PlantConfigError) as error:
        load_plant(folder)
    message = str(error.value)
    assert message.startswith(f"{plant_yaml}: not valid YAML")
    assert "line 4, column" in message  # where the parser gave up


@pytest.mark.parametrize("plant_id", ["plant_a", "plant_b", "plant_c"])
def test_libyaml_reads_plant_configs_as_pure_python_yaml_does(plant_id):
    import yaml

    from plant_assets.core.plant_config import _YAML_LOADER

    text = (DEMO_PLANTS / plant_id / "plant.yaml").read_text()
    assert yaml.load(text, Loader=_YAML_LOADER) == yaml.safe_load(text)


def test_one_bad_plant_does_not_hide_the_others(tmp_path):
    copy_plant(tmp_path, "plant_a")
    bad = copy_plant(tmp_path, "plant_b")
    (bad / "tag_map.csv").unlink()
    good, invalid = validate_plants(tmp_path / "plants")
    assert list(good) == ["plant_a"]
    assert "tag_map.csv: missing" in invalid["plant_b"]


def test_plant_id_must_match_folder(tmp_path):
    folder = copy_plant(tmp_path)
    renamed = folder.with_name("plant_z")
    folder.rename(renamed)
    with pytest.raises(PlantConfigError, match="must equal its folder name"):
        load_plant(renamed)


def test_day_window_follows_dst():
    from datetime import date

    plant = load_plant(DEMO_PLANTS / "plant_a")  # Europe/Berlin
    start, end = plant.day_window_utc(date(2026, 10, 25))  # clocks go back: a 25-hour day
    assert (end - start).total_seconds() == 25 * 3600
    start, end = plant.day_window_utc(date(2026, 3, 29))  # clocks go forward: a 23-hour day
    assert (end - start).total_seconds() == 23 * 3600


def test_product_families_are_free_names_checked_for_spelling(tmp_path):
    """Any lower-case name is a family (no list of allowed ones); a badly spelled one fails naming the product;
    a product without a family is in the plant's one family, `default`."""
    folder = copy_plant(tmp_path)
    plant_yaml = folder / "plant.yaml"
    original = plant_yaml.read_text()
    products = ('  - {code: "PET-050", family: standard, mass_kg: 0.52, ideal_rate_per_min: 120}\n'
                '  - {code: "PET-150", family: heavy, mass_kg: 1.55, ideal_rate_per_min: 70}\n')
    assert products in original

    def load_with(lines: str):
        plant_yaml.write_text(original.replace(products, lines))
        return load_plant(folder)

    plant = load_with('  - {code: "PET-050", family: pet_0-5l, ideal_rate_per_min: 120}\n'
                      '  - {code: "PET-150", family: 2l, ideal_rate_per_min: 70}\n')
    assert [p.family for p in plant.products] == ["pet_0-5l", "2l"]
    plant = load_with('  - {code: "PET-050", ideal_rate_per_min: 120}\n  - {code: "PET-150", ideal_rate_per_min: 70}\n')
    assert [p.family for p in plant.products] == ["default", "default"]
    for bad in ("Heavy", "big cans", "", "_x", "can/12"):
        with pytest.raises(PlantConfigError) as error:
            load_with(f'  - {{code: "PET-050", family: "{bad}", ideal_rate_per_min: 120}}\n'
                      '  - {code: "PET-150", family: heavy, ideal_rate_per_min: 70}\n')
        message = str(error.value)
        assert f"products.0: Value error, product 'PET-050': family '{bad}' must be a lower-case name" in message, message
        assert "PET-150" not in message
