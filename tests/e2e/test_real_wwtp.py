"""The real Melbourne wastewater treatment plant end to end (issue 19, "what must be shown"): its committed
daily-log excerpt (tests/fixtures/real_plants/melbourne_wwtp, see SOURCE.txt) onboarded with the committed
draft configuration alone (historian only, one dateless history file, the date split over year/month/day,
13 columns ignored), backfilled through the real pipeline (registry, ingest, gates, dbt) in one run, and
checked against truth this test computes from the raw CSV with the csv module and plain arithmetic:

- energy_kwh of a day is its total_grid (kWh a day);
- kwh_per_m3_water of a day is total_grid / (avg_inflow [m3/s] x the seconds of the local day), the day's
  length from zoneinfo (2014-04-06, when daylight saving time ends in Melbourne, has 25 hours);
- a day the log does not have (Fridays and Saturdays mostly) has no KPI row: absent, not 0;
- each day's records of the file: raw = accepted (4 mapped columns) + quarantined (13 ignored columns).

The window is the 9 days around the end of daylight saving time (3 days without a row, the 25-hour day)
so the test takes about a minute; `plant-assets run` over the excerpt's 120 days takes minutes
(docs/onboarding.md). The pipeline runs in a subprocess: partitions and resources read PLANT_ASSETS_* at
import.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

PLANT = "melbourne_wwtp"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "real_plants" / PLANT
EXPORT = FIXTURE / "exports" / "Data-Melbourne_F.csv"
FIRST, LAST = date(2014, 3, 31), date(2014, 4, 8)
TZ = ZoneInfo("Australia/Melbourne")

DRIVER = textwrap.dedent(
    """
    import json, sys
    from datetime import date
    import dagster as dg
    from plant_assets.definitions import defs
    from plant_assets.defs.run_window import run_window
    with dg.instance_for_test(temp_dir=sys.argv[1]) as instance:
        report = run_window(defs, instance, [sys.argv[2]], date.fromisoformat(sys.argv[3]),
                            date.fromisoformat(sys.argv[4]), train=False)
    print(json.dumps({"ingest_failures": report.ingest_failures, "gate_failures": report.gate_failures}))
    """
)


def truth() -> dict[date, dict[str, float]]:
    """Per day of the log: energy (kWh) and kWh per m3 of inflow, by plain arithmetic on the raw CSV."""
    out = {}
    with EXPORT.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = date(int(row["year"]), int(row["month"]), int(row["day"]))
            start = datetime(day.year, day.month, day.day, tzinfo=TZ)
            following = day + timedelta(days=1)
            end = datetime(following.year, following.month, following.day, tzinfo=TZ)
            seconds = end.timestamp() - start.timestamp()  # 86400, or 90000 on the day DST ends
            inflow_m3 = float(row["avg_inflow"]) * seconds  # m3/s x s
            out[day] = {"energy_kwh": float(row["total_grid"]), "kwh_per_m3_water": float(row["total_grid"]) / inflow_m3,
                        "seconds": seconds}
    return out


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    home = tmp_path_factory.mktemp("wwtp")
    folder = home / "plants" / PLANT
    folder.mkdir(parents=True)
    for name in ("plant.yaml", "tag_map.csv"):
        shutil.copyfile(FIXTURE / name, folder / name)
    landing = home / "landing" / PLANT
    landing.mkdir(parents=True)
    shutil.copyfile(EXPORT, landing / EXPORT.name)
    env = {**{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
           "PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(home / "plants"),
           "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"), "PLANT_ASSETS_LAKE": str(home / "lake"),
           "PLANT_ASSETS_ANALYST_DUCKDB": str(home / "analyst.duckdb"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    (home / "dagster").mkdir()
    done = subprocess.run([sys.executable, "-c", DRIVER, str(home / "dagster"), PLANT, FIRST.isoformat(),
                           LAST.isoformat()], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        kpis = {(d, k): v for d, k, v in con.execute(
            "SELECT production_date, kpi, value FROM marts.kpi_daily WHERE plant_id = ?", [PLANT]).fetchall()}
        recon = con.execute(
            """SELECT production_date, source_file, raw_records, accepted_records, quarantined_records
               FROM marts.fct_ingest_reconciliation WHERE plant_id = ? AND stream = 'historian'""", [PLANT]).fetchall()
    quarantine = duckdb.sql(
        f"SELECT reason_code, count(*) FROM read_parquet('{home / 'lake' / 'quarantine'}/**/*.parquet') GROUP BY ALL"
    ).fetchall()
    return {"report": report, "kpis": kpis, "recon": recon, "quarantine": dict(quarantine)}


def window() -> list[date]:
    return [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def test_days_the_log_has_match_the_raw_file(pipeline):
    expected = truth()
    logged = [d for d in window() if d in expected]
    assert len(logged) == 7 and expected[date(2014, 4, 6)]["seconds"] == 25 * 3600  # the day DST ends is in it
    for day in logged:
        energy = pipeline["kpis"][(day, "energy_kwh")]
        per_m3 = pipeline["kpis"][(day, "kwh_per_m3_water")]
        print(day, energy, expected[day]["energy_kwh"], per_m3, expected[day]["kwh_per_m3_water"])
        assert energy == expected[day]["energy_kwh"]
        assert per_m3 == pytest.approx(expected[day]["kwh_per_m3_water"], rel=1e-12, abs=0)


def test_a_day_the_log_does_not_have_has_no_kpi_row(pipeline):
    expected = truth()
    missing = [d for d in window() if d not in expected]
    assert missing == [date(2014, 4, 4), date(2014, 4, 5)]
    assert not [key for key in pipeline["kpis"] if key[0] in missing]
    # the raw gate fails a day without a reading (no row, never 0); nothing else fails
    assert pipeline["report"]["ingest_failures"] == {}
    assert sorted(pipeline["report"]["gate_failures"]) == sorted(f"{d}|{PLANT}" for d in missing)


def test_each_day_of_the_file_reconciles(pipeline):
    """17 quantity columns a row (20 columns less year, month, day): 4 mapped, 13 ignored."""
    with EXPORT.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert len(header) - 3 == 17
    rows = {d: (raw, acc, qua) for d, f, raw, acc, qua in pipeline["recon"] if f == EXPORT.name}
    logged = [d for d in window() if d in truth()]
    for day in logged:
        assert rows[day] == (17, 4, 13), (day, rows.get(day))
    assert all(raw == acc + qua for raw, acc, qua in rows.values())
    assert pipeline["quarantine"].get("ignored_column") == 13 * len(logged)
