"""The demo plants whose clocks change, as they are configured (no zone marks, local time, sorted files), over
the end of daylight saving time: plant_a (PI, Europe/Berlin, 2026-10-25) and plant_b (AVEVA wide,
America/Chicago, 2026-11-01). The e2e window (September) has no change of time for any plant (issue 21,
finding 4). The 25-hour day keeps all its readings, energy and units equal the simulator's truth, the hourly
marts have 25 hours, and the day before and the 25-hour day are exact in every time KPI.

Found here and fixed: an order or stop that started the evening before the change and ended after it was
converted with its start day's offset, so it ended 60 minutes early and the 25-hour day's running and busy
minutes were 60 short (3,694 vs 3,754 at plant_a, 3,815 vs 3,875 at plant_b); ends now take the offset of the
day they fall on (ingest/events.py, END_WINDOW_DAYS), and both days are exact in every time KPI.

The same run carries hostile text through the MES and lab fields of plant_b's first day, end to end (issue 21,
finding 6; the parsers alone: tests/unit/test_bad_input_corpus.py): order ids, sample ids and stop reasons that
read as SQL arrive verbatim in the marts, nothing is executed and nothing is quarantined for them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from plant_assets.core.plant_config import load_plant
from plant_assets.core.settings import REPO_ROOT
from plant_assets.simulator import simulate_plants
from tests.integration.test_generic_plant_onboarding import DRIVER

# plant -> the day the clocks go back; each plant is simulated from the day before, for three days (the last
# day of a window lacks its last minute, so it is not compared)
FALL_BACK = {"plant_a": date(2026, 10, 25), "plant_b": date(2026, 11, 1)}
TOLERANCE = 1e-6  # relative: the registers are written to 4 decimals
HOSTILE = "'); DROP TABLE marts.kpi_daily; --"
TIME_KPIS = {"actual_production_time_min": "running_min", "planned_busy_time_min": "planned_busy_min",
             "unplanned_downtime_min": "unplanned_downtime_min", "planned_downtime_min": "planned_downtime_min"}


@pytest.fixture(scope="module")
def fall_back(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dst")
    home, plants = tmp / "home", tmp / "plants"
    env = {**os.environ, "PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants),
           "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"), "PLANT_ASSETS_LAKE": str(home / "lake"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}
    (home / "dagster").mkdir(parents=True)
    truth = []
    for plant_id, day in FALL_BACK.items():
        shutil.copytree(REPO_ROOT / "plants" / plant_id, plants / plant_id)
        first = day - timedelta(days=1)
        simulate_plants({plant_id: load_plant(plants / plant_id)}, first, 3, home / "landing", home / "truth" / plant_id)
        if plant_id == "plant_b":
            _make_hostile(home / "landing" / plant_id, first)
        truth.append(pd.read_csv(home / "truth" / plant_id / "daily.csv", parse_dates=["production_date"]))
        done = subprocess.run([sys.executable, "-c", DRIVER, str(home / "dagster"), plant_id, first.isoformat(),
                               (day + timedelta(days=1)).isoformat()],
                              env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr[-4000:]
        assert json.loads(done.stdout.strip().splitlines()[-1]) == {"ingest_failures": {}, "gate_failures": []}
    truth = pd.concat(truth, ignore_index=True)
    truth["production_date"] = truth["production_date"].dt.date
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        kpis = {(p, d, k): v for p, d, k, v in con.execute(
            "select plant_id, production_date, kpi, value from marts.kpi_daily").fetchall()}
        hours = dict(((p, d), n) for p, d, n in con.execute(
            "select plant_id, production_date, count(distinct hour_utc) from marts.fct_line_energy_hourly group by all"
        ).fetchall())
    return {"home": home, "truth": truth.set_index(["plant_id", "production_date"]), "kpis": kpis, "hours": hours}


def _make_hostile(landing: Path, day: date) -> None:
    """Append HOSTILE to every order id (orders and lab), sample id and stop reason of plant_b's exports of `day`."""
    for name, columns in ((f"orders_{day}.csv", ("WorkOrder",)), (f"qc_lab_{day}.csv", ("SampleID", "WorkOrder")),
                          (f"downtime_{day}.csv", ("Reason",))):
        frame = pd.read_csv(landing / name, dtype=str)
        for column in columns:
            frame[column] = frame[column] + HOSTILE
        frame.to_csv(landing / name, index=False)


def _days(plant_id: str) -> list[date]:
    return [FALL_BACK[plant_id] - timedelta(days=1), FALL_BACK[plant_id]]


@pytest.mark.parametrize("plant_id", sorted(FALL_BACK))
def test_the_25_hour_day_keeps_every_reading_and_its_energy_and_units(fall_back, plant_id):
    lake = Path(fall_back["home"]) / "lake" / "raw" / f"plant_id={plant_id}"
    with duckdb.connect() as con:
        minutes = dict(con.execute(
            "select production_date, max(n) from (select production_date, tag, count(distinct ts_utc) n "
            "from read_parquet(?, hive_partitioning = true) group by all) group by all",
            [str(lake / "*" / "readings.parquet")]).fetchall())
    before, fall_day = _days(plant_id)
    assert minutes[before] == 24 * 60 and minutes[fall_day] == 25 * 60
    assert fall_back["hours"][(plant_id, before)] == 24 and fall_back["hours"][(plant_id, fall_day)] == 25
    for day in (before, fall_day):
        truth = fall_back["truth"].loc[(plant_id, day)]
        for kpi in ("energy_kwh", "units_produced"):
            value = fall_back["kpis"][(plant_id, day, kpi)]
            print(plant_id, day, kpi, value, truth[kpi])
            assert abs(value / truth[kpi] - 1) < TOLERANCE, (plant_id, day, kpi, value, truth[kpi])


@pytest.mark.parametrize("plant_id", sorted(FALL_BACK))
def test_the_day_before_the_change_is_exact_in_every_time_kpi(fall_back, plant_id):
    day = _days(plant_id)[0]
    truth = fall_back["truth"].loc[(plant_id, day)]
    for kpi, column in TIME_KPIS.items():
        assert fall_back["kpis"][(plant_id, day, kpi)] == truth[column], (plant_id, day, kpi)


@pytest.mark.parametrize("plant_id", sorted(FALL_BACK))
def test_the_25_hour_day_is_exact_in_every_time_kpi(fall_back, plant_id):
    day = FALL_BACK[plant_id]
    truth = fall_back["truth"].loc[(plant_id, day)]
    for kpi, column in TIME_KPIS.items():
        value = fall_back["kpis"][(plant_id, day, kpi)]
        print(plant_id, day, kpi, value, truth[column])
        assert value == truth[column], (plant_id, day, kpi, value, truth[column])


def test_hostile_text_in_mes_and_lab_fields_arrives_verbatim_and_runs_nothing(fall_back):
    day = FALL_BACK["plant_b"] - timedelta(days=1)
    landing = Path(fall_back["home"]) / "landing" / "plant_b"
    orders = pd.read_csv(landing / f"orders_{day}.csv", dtype=str)
    samples = pd.read_csv(landing / f"qc_lab_{day}.csv", dtype=str)
    stops = pd.read_csv(landing / f"downtime_{day}.csv", dtype=str)
    with duckdb.connect(str(Path(fall_back["home"]) / "warehouse.duckdb"), read_only=True) as con:
        def values(sql: str) -> set[str]:
            return {row[0] for row in con.execute(sql, ["plant_b", day]).fetchall()}

        runs = values("select order_id from marts.fct_production_run where plant_id = ? and production_date = ?")
        sampled = values("select sample_id from staging.stg_lab__results where plant_id = ? and production_date = ?")
        reasons = values("select reason from staging.stg_mes__downtime_events where plant_id = ? and production_date = ?")
        kpi_rows = con.execute("select count(*) from marts.kpi_daily").fetchone()[0]
    quarantined = Path(fall_back["home"]) / "lake" / "quarantine" / "plant_id=plant_b" / f"production_date={day}"
    assert set(orders["WorkOrder"]) <= runs and all(o.endswith(HOSTILE) for o in runs)
    assert set(samples["SampleID"]) == sampled
    assert set(stops["Reason"]) == reasons
    assert kpi_rows > 0  # the table the text names is still there, with its rows
    for stream in ("production_runs", "lab_results", "downtime_events"):
        path = quarantined / f"{stream}.parquet"
        assert not path.exists() or pq.read_table(path).num_rows == 0, stream
