"""Lab results: config validation, the parser on the demo plants' own layouts (units via pint, UTC, no unit
column), a plant without lab data, and the simulator's lab truth against what ingest reads."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
import pytest
from pydantic import ValidationError

from plant_assets.core.plant_config import load_plants
from plant_assets.core.settings import REPO_ROOT
from plant_assets.ingest.exports import files_for_day, parse_lab_results
from tests.unit.test_dialects import load_demo_plant

DAY = date(2026, 9, 7)
SPEC = {"product": "PET-050", "characteristic": "fill_volume", "unit": "ml", "lsl": 495, "target": 500, "usl": 505}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"lsl": 506}, "lsl <= target <= usl"),
        ({"unit": "furlongs_per_gallon"}, "not a unit pint knows"),
        ({"product": "NOPE"}, "is not in products"),
        ({"characteristic": "Fill Volume"}, "String should match pattern"),
    ],
)
def test_bad_quality_specs_are_rejected(change, message):
    with pytest.raises(ValidationError, match=message):
        load_demo_plant("plant_a", (), quality_specs=[{**SPEC, **change}])


def test_lab_export_needs_its_columns_and_known_characteristics():
    plant = load_demo_plant("plant_a", ())
    export = plant.lab_results.model_dump()
    with pytest.raises(ValidationError, match="columns lacks"):
        load_demo_plant("plant_a", (), lab_results={**export, "columns": {"sample_id": "PROBE"}})
    with pytest.raises(ValidationError, match="does not specify"):
        load_demo_plant("plant_a", (), lab_results={**export, "characteristic_map": {"Dichte": "density"}})


def test_plant_without_lab_data_has_no_lab_files_and_readiness_says_why(tmp_path):
    from plant_assets.onboarding.readiness import readiness

    plant = load_demo_plant("plant_a", (), lab_results=None, quality_specs=[])
    (tmp_path / "Laborwerte_20260907.csv").write_text("x\n")
    assert files_for_day(plant, tmp_path, DAY, "lab_results") == []
    status = {k.kpi: k for k in readiness(plant, tmp_path, days=[DAY]).kpis}
    for kpi in ("lab_sample_count", "out_of_spec_share", "cpk_min"):
        assert status[kpi].status == "missing"
        assert any("no lab_results export" in m for m in status[kpi].missing), status[kpi].missing


def test_simulated_lab_exports_parse_cleanly_and_match_the_truth(tmp_path):
    """Every demo plant's layout (decimal comma / fl oz -> ml / UTC without unit column) parses without a
    quarantined row, and the sample statistics equal the simulator's truth."""
    from plant_assets.simulator import simulate_plants

    plants = load_plants(REPO_ROOT / "plants")
    simulate_plants(plants, DAY, 2, tmp_path / "landing", tmp_path / "truth")
    truth = pd.read_csv(tmp_path / "truth" / "lab_daily.csv")
    assert set(truth["plant_id"]) == set(plants)
    with duckdb.connect() as con:
        for plant_id, plant in plants.items():
            for offset in range(2):
                day = date(2026, 9, 7 + offset)
                files = files_for_day(plant, tmp_path / "landing" / plant_id, day, "lab_results")
                parsed = parse_lab_results(plant, files, day, con)
                assert parsed.quarantine.num_rows == 0, parsed.quarantine.to_pylist()[:3]
                got = parsed.accepted.to_pandas().groupby(["line_id", "product_code", "characteristic"])["value"]
                want = truth[(truth["plant_id"] == plant_id) & (truth["production_date"] == day.isoformat())]
                want = want.set_index(["line_id", "product_code", "characteristic"]).sort_index()
                stats = pd.DataFrame({"samples": got.count(), "mean": got.mean(), "sd": got.std()}).sort_index()
                assert list(stats.index) == list(want.index)
                assert (stats["samples"] == want["samples"]).all()
                assert ((stats["mean"] - want["mean"]).abs() < 1e-9).all()
                assert ((stats["sd"] - want["sd"]).abs() < 1e-9).all()
    b = plants["plant_b"]
    assert {s.unit for s in b.quality_specs} == {"ml", "mm"}  # fill volume arrives in floz, converted by pint
