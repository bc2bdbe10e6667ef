"""Issue 19's silent wrong number, simulated: a PI archive export across the end of daylight saving time whose
rows are in no time order and whose repeated hour is marked ` CDT` / ` CST`. Once it produced 15,009,120 kWh
and 1,103,850 units for a day of about 23,000 kWh and 400,000 units; now the day's energy and units match
the simulator's truth, the hour is read from its marks, and without the marks it is quarantined, not guessed.

plant_f is plant_a's configuration moved to America/Chicago with the simulator's `unsorted_rows` and
`zone_marks` export options (written by this test; the demo plants are unchanged). The real pipeline
(registry, ingest, gates, dbt) runs in a subprocess, as partitions read PLANT_ASSETS_* at import.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date

import duckdb
import pandas as pd
import yaml

from plant_assets.core.plant_config import load_plant
from plant_assets.core.settings import REPO_ROOT
from plant_assets.ingest.exports import parse_historian
from plant_assets.simulator import simulate_plants
from tests.integration.test_generic_plant_onboarding import DRIVER

PLANT = "plant_f"
DAY0, FALL_DAY, LAST_DAY = date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)
TOLERANCE = 1e-6  # relative: the registers are written to 4 decimals
EDGE_TOLERANCE = 0.005  # the window's last day lacks its last minute (no next day's 00:00 reading), as in e2e


def test_unsorted_pi_export_with_zone_marks_across_fall_back(tmp_path):
    home, plants = tmp_path / "home", tmp_path / "plants"
    folder = plants / PLANT
    shutil.copytree(REPO_ROOT / "plants" / "plant_a", folder)
    config = yaml.safe_load((folder / "plant.yaml").read_text(encoding="utf-8"))
    config.update(plant_id=PLANT, timezone="America/Chicago")
    config["simulation"]["export"].update(unsorted_rows=True, zone_marks=True)
    (folder / "plant.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    plant = load_plant(folder)
    simulate_plants({PLANT: plant}, DAY0, 3, home / "landing", home / "truth")

    export = home / "landing" / PLANT / f"PI_RecordedValues_{FALL_DAY:%Y%m%d}.csv"
    lines = export.read_text(encoding="utf-8").splitlines()[1:]
    marked = [line for line in lines if " CDT," in line or " CST," in line]
    assert {line.split(",")[1][-3:] for line in marked} == {"CDT", "CST"}
    energy_tag = next(m.source_tag for m in plant.tag_map if m.signal == "energy_total" and m.line_id == "L1")
    stamps = [pd.Timestamp(line.split(",")[1][:20]) for line in lines if line.startswith(energy_tag + ",")]
    assert stamps != sorted(stamps)  # the rows really are out of order

    env = {**os.environ, "PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants),
           "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"), "PLANT_ASSETS_LAKE": str(home / "lake"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}
    (home / "dagster").mkdir()
    done = subprocess.run([sys.executable, "-c", DRIVER, str(home / "dagster"), PLANT, DAY0.isoformat(),
                           LAST_DAY.isoformat()], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"ingest_failures": {}, "gate_failures": []}

    truth = pd.read_csv(home / "truth" / "daily.csv", parse_dates=["production_date"])
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        kpi = {(d, k): v for d, k, v in con.execute(
            "SELECT production_date, kpi, value FROM marts.kpi_daily WHERE plant_id = ? "
            "AND kpi IN ('energy_kwh', 'units_produced')", [PLANT]).fetchall()}
        reasons = dict(con.execute(
            "SELECT reason_code, count(*) FROM read_parquet(?, hive_partitioning = true) GROUP BY 1",
            [str(home / "lake" / "quarantine" / f"plant_id={PLANT}" / "*" / "historian.parquet")]).fetchall())
    for row in truth.itertuples():
        day = row.production_date.date()
        energy, units = kpi[(day, "energy_kwh")], kpi[(day, "units_produced")]
        print(day, energy, row.energy_kwh, units, row.units_produced)
        tolerance = EDGE_TOLERANCE if day == LAST_DAY else TOLERANCE
        assert abs(energy / row.energy_kwh - 1) < tolerance, (day, energy, row.energy_kwh)
        assert abs(units / row.units_produced - 1) < tolerance, (day, units, row.units_produced)
    assert "ambiguous_local_time" not in reasons and "bad_timestamp" not in reasons, reasons

    # The same export without its marks: the repeated hour cannot be placed, so it is quarantined.
    bare = tmp_path / "bare" / export.name
    bare.parent.mkdir()
    bare.write_text(export.read_text(encoding="utf-8").replace(" CDT,", ",").replace(" CST,", ","), encoding="utf-8")
    parsed = parse_historian(plant, [bare], FALL_DAY, duckdb.connect())
    assert parsed.reason_counts() == {"ambiguous_local_time": len(marked)}
