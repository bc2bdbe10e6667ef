"""Product families are free names end to end: plant.yaml (validated) -> the registry the ingest writes -> dbt
(fct_production_run, fct_family_output_hourly, the cross-plant benchmark's mix) -> the quality template, with
families other than `standard` and `heavy`. The real config loader, registry writer, dbt and LightGBM on a
temp lake: the hand-made lake of test_dbt_project.py, whose plant_a and plant_b runs make PET-050 / PET-150
and CAN-24OZ; only the product families come from the configs here.

By hand from that lake's counters (interval starts, the run active then): plant_a L1 O-1 PET-050 1000 (UTC
22:00 of 09-06, local day 09-07) + 2000 (06:00), O-2 PET-150 1000 (14:00) + 500 (22:00, local day 09-08),
O-3 PET-050 200 (09-08 06:00, after the counter reset); plant_b B-1 CAN-24OZ 900 (05:00) + 400 (17:00); its
09-08 failed the raw gate.
"""

from __future__ import annotations

import shutil

import duckdb
import pyarrow.parquet as pq
import pytest

from plant_assets.core.plant_config import load_plant
from plant_assets.core.settings import REPO_ROOT
from plant_assets.ingest.plant_tables import registry_tables
from tests.integration.test_dbt_project import DAY1, DAY2, Dbt, build_lake, ts

FAMILIES = {"PET-050": "bottle_0-5l", "PET-150": "bottle_1-5l", "CAN-12OZ": "can_12oz", "CAN-24OZ": "can_24oz"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("families")
    plants = {}
    for plant_id, old in (("plant_a", {"PET-050": "standard", "PET-150": "heavy"}), ("plant_b", None)):
        folder = tmp / "plants" / plant_id
        shutil.copytree(REPO_ROOT / "plants" / plant_id, folder)
        if old:  # plant_a's demo families renamed in its plant.yaml; plant_b's demo already has its own names
            plant_yaml = folder / "plant.yaml"
            text = plant_yaml.read_text()
            for code, family in old.items():
                line = f'{{code: "{code}", family: {family},'
                assert line in text
                text = text.replace(line, f'{{code: "{code}", family: {FAMILIES[code]},')
            plant_yaml.write_text(text)
        plants[plant_id] = load_plant(folder)
    dbt = Dbt(tmp)
    build_lake(dbt.lake)
    pq.write_table(registry_tables(plants)["products"], dbt.lake / "registry" / "products.parquet")
    dbt("seed")
    dbt("build", "--exclude-resource-type", "unit_test")
    return dbt, plants


def test_config_names_the_families(built):
    _, plants = built
    assert {p.code: p.family for plant in plants.values() for p in plant.products} == FAMILIES


def test_dbt_attributes_output_to_the_free_family_names(built):
    dbt, _ = built
    runs = dict(dbt.query("select order_id, product_family from marts.fct_production_run"))
    assert runs == {"O-1": "bottle_0-5l", "O-2": "bottle_1-5l", "O-3": "bottle_0-5l", "B-1": "can_24oz"}
    rows = dbt.query(
        "select plant_id, hour_utc, production_date, product_family, units_produced"
        " from marts.fct_family_output_hourly order by plant_id, hour_utc"
    )
    assert rows == [
        ("plant_a", ts("2026-09-06 22:00"), DAY1, "bottle_0-5l", 1000),
        ("plant_a", ts("2026-09-07 06:00"), DAY1, "bottle_0-5l", 2000),
        ("plant_a", ts("2026-09-07 14:00"), DAY1, "bottle_1-5l", 1000),
        ("plant_a", ts("2026-09-07 22:00"), DAY2, "bottle_1-5l", 500),
        ("plant_a", ts("2026-09-08 06:00"), DAY2, "bottle_0-5l", 200),
        ("plant_b", ts("2026-09-07 05:00"), DAY1, "can_24oz", 900),
        ("plant_b", ts("2026-09-07 17:00"), DAY1, "can_24oz", 400),
    ]
    # the benchmark's mix: a bottle_0-5l 3200 / 4700, bottle_1-5l 1500 / 4700, can_24oz 0; b can_24oz 1; medians
    # of the two plants 0.340 / 0.160 / 0.5: can_24oz is the furthest family for both (gap 0.5)
    mix = dbt.query(
        "select distinct plant_id, mix_family, mix_family_share, median_mix_family_share, product_mix_differs"
        " from marts.fct_cross_plant_benchmark where kpi = 'kwh_per_unit' order by plant_id"
    )
    assert mix == [("plant_a", "can_24oz", 0.0, pytest.approx(0.5), True), ("plant_b", "can_24oz", 1.0, pytest.approx(0.5), True)]


def test_the_quality_template_learns_the_families_by_their_names(built):
    from ml.templates import quality

    dbt, _ = built
    with duckdb.connect(str(dbt.warehouse), read_only=True) as con:
        runs = quality.read_runs(con)
    assert dict(zip(runs["order_id"], runs["product_family"])) == {
        "O-1": "bottle_0-5l", "O-2": "bottle_1-5l", "O-3": "bottle_0-5l", "B-1": "can_24oz"}
    model = quality.fit_template(runs)
    assert quality.known_families(model) == ["bottle_0-5l", "bottle_1-5l", "can_24oz"]
    predicted = quality.predict(quality.calibrate(model, runs[runs["plant_id"] == "plant_a"]), runs)
    assert len(predicted) == 4 and ((predicted >= 0) & (predicted <= 1)).all()
