"""Onboard a plant the project has never seen, in the generic dialect, from configuration written by this test
alone (plant.yaml + tag_map.csv, no Python), run the real pipeline (registry, ingest, raw gate, dbt) for two
days in its own temp dirs, and check its KPIs.

The export is a European CSV: UTF-8 BOM, CRLF, ';' delimiter, decimal comma, `dd.mm.yyyy HH:MM` interval-END
stamps in local time (the last row of a day carries the next day's date), the energy meter in Wh, a piece
counter rolling over at 10000. Day 2 is the DST fall-back day in Europe/Berlin (25 hours, the 02:xx hour twice).
The pipeline runs in a subprocess because partitions and resources read PLANT_ASSETS_* at import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from plant_assets.core.settings import REPO_ROOT

PLANT = "werk_sued"
DAY1, DAY2 = date(2026, 10, 24), date(2026, 10, 25)
TZ = ZoneInfo("Europe/Berlin")
WH_PER_MIN = 500.0  # 0.5 kWh a minute
PCS_PER_MIN = 7

PLANT_YAML = f"""
plant_id: {PLANT}
name: Werk Sued (generic CSV export)
isa95: {{enterprise: Acme Beverages, site: Sued, area: Bottling}}
timezone: Europe/Berlin
owners: {{operations: schichtleitung-sued@acme.example}}
historian:
  dialect: generic
  file_pattern: "Messwerte_{{date:%d.%m.%Y}}.csv"
  stable_after_seconds: 0
  options:
    layout: long
    delimiter: ";"
    decimal_comma: true
    columns: {{tag: Messstelle, ts: Zeitstempel, value: Wert, quality: Status}}
    quality_mode: text
    quality_map: {{OK: good, Ersatzwert: uncertain, Fehler: bad}}
    timestamp_format: "%d.%m.%Y %H:%M"
    timestamps_in: local
    timestamp_marks: end
    interval_seconds: 60
production_runs:
  file_pattern: "Auftraege_{{date:%Y%m%d}}.csv"
  columns: {{order_id: order, line_id: line, product_code: product, start: start, end: end, good_qty: good, scrap_qty: scrap}}
downtime_events:
  file_pattern: "Stillstand_{{date:%Y%m%d}}.csv"
  columns: {{line_id: line, start: start, end: end, reason: reason, category: category}}
  category_map: {{geplant: planned, ungeplant: unplanned}}
lines:
  - id: L1
    name: Abfuellung 1
    motors: [{{id: L1-M1, name: Hauptantrieb}}]
products:
  - {{code: GLAS-033, mass_kg: 0.4, ideal_rate_per_min: 10}}
energy_baseline: {{start: 2026-10-24, end: 2026-10-25}}
"""
TAG_MAP = """source_tag,signal,source_unit,line_id,asset_id,rollover
SUED.L1.Energie,energy_total,Wh,L1,L1,
SUED.L1.Zaehler,production_count_total,count,L1,L1,10000
SUED.L1.M1.Strom,motor_current,A,L1,L1-M1,
"""


def _fmt(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def write_export(landing: Path, day: date, start_utc: datetime) -> tuple[int, datetime]:
    """Minute readings for the local day (interval-end stamps); returns (minutes written, next start)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=TZ).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=TZ).astimezone(timezone.utc)
    lines = ["Messstelle;Zeitstempel;Wert;Status"]
    t, minute = start, int((start - start_utc).total_seconds() // 60)
    while t < end:
        stamp = (t + timedelta(minutes=1)).astimezone(TZ).strftime("%d.%m.%Y %H:%M")
        energy = 1_000_000 + WH_PER_MIN * (minute + 1)
        count = (4000 + PCS_PER_MIN * (minute + 1)) % 10000
        lines += [f"SUED.L1.Energie;{stamp};{_fmt(energy)};OK", f"SUED.L1.Zaehler;{stamp};{count};OK",
                  f"SUED.L1.M1.Strom;{stamp};{_fmt(40 + minute % 5)};{'Ersatzwert' if minute % 97 == 0 else 'OK'}"]
        t += timedelta(minutes=1)
        minute += 1
    lines.append(f"SUED.L1.Unbekannt;{stamp};1;OK")  # an unmapped tag: quarantined, not lost
    path = landing / f"Messwerte_{day:%d.%m.%Y}.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8") + b"\r\n")
    # the MES side: one order from 06:00 to 18:00 and one unplanned stop
    (landing / f"Auftraege_{day:%Y%m%d}.csv").write_text(
        "order,line,product,start,end,good,scrap\n"
        f"A{day:%Y%m%d},L1,GLAS-033,{day} 06:00:00,{day} 18:00:00,5000,40\n", encoding="utf-8")
    (landing / f"Stillstand_{day:%Y%m%d}.csv").write_text(
        "line,start,end,reason,category\n"
        f"L1,{day} 10:00:00,{day} 10:10:00,Flaschenstau,ungeplant\n", encoding="utf-8")
    return int((end - start).total_seconds() // 60), end


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


def test_generic_plant_onboards_with_config_only(tmp_path):
    home = tmp_path / "home"
    plants = tmp_path / "plants"
    folder = plants / PLANT
    folder.mkdir(parents=True)
    (folder / "plant.yaml").write_text(PLANT_YAML, encoding="utf-8")
    (folder / "tag_map.csv").write_text(TAG_MAP, encoding="utf-8")
    landing = home / "landing" / PLANT
    landing.mkdir(parents=True)
    origin = datetime.combine(DAY1, datetime.min.time(), tzinfo=TZ).astimezone(timezone.utc)
    minutes1, _ = write_export(landing, DAY1, origin)
    minutes2, _ = write_export(landing, DAY2, origin)
    assert (minutes1, minutes2) == (1440, 1500)  # the fall-back day has 25 hours

    env = {**os.environ, "PLANT_ASSETS_HOME": str(home), "PLANT_ASSETS_PLANTS": str(plants),
           "PLANT_ASSETS_DUCKDB": str(home / "warehouse.duckdb"), "PLANT_ASSETS_LAKE": str(home / "lake"),
           "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}"}
    (home / "dagster").mkdir()
    done = subprocess.run([sys.executable, "-c", DRIVER, str(home / "dagster"), PLANT, DAY1.isoformat(),
                           DAY2.isoformat()], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"ingest_failures": {}, "gate_failures": []}

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        kpi = {(d.isoformat(), k): v for d, k, v in con.execute(
            "SELECT production_date, kpi, value FROM marts.kpi_daily WHERE plant_id = ?", [PLANT]).fetchall()}
        rec = con.execute(
            """SELECT stream, production_date, raw_records, accepted_records, quarantined_records, reconciled
               FROM marts.fct_ingest_reconciliation WHERE plant_id = ? AND stream = 'historian'
               ORDER BY production_date""", [PLANT]).fetchall()
        readings = con.execute(
            """SELECT count(*), min(ts_utc), max(ts_utc) FROM staging.stg_historian__readings
               WHERE plant_id = ? AND production_date = ?""", [PLANT, DAY2]).fetchone()
    # Day 1: 1440 one-minute intervals (the one ending at 25.10. 00:00 included); Wh -> kWh; the counter
    # rolls over at 10000 (4000 + 7 x 1440 = 14080) and still gives 7 a minute.
    assert kpi[(DAY1.isoformat(), "energy_kwh")] == 1440 * WH_PER_MIN / 1000
    assert kpi[(DAY1.isoformat(), "units_produced")] == 1440 * PCS_PER_MIN
    assert abs(kpi[(DAY1.isoformat(), "kwh_per_unit")] - 0.5 / 7) < 1e-9
    assert kpi[(DAY1.isoformat(), "good_qty")] == kpi[(DAY2.isoformat(), "good_qty")] == 5000
    assert kpi[(DAY1.isoformat(), "unplanned_stop_count")] == 1
    # Day 2 (25 h): its last interval ends in a day not exported, so 1499 intervals
    assert kpi[(DAY2.isoformat(), "energy_kwh")] == 1499 * WH_PER_MIN / 1000
    assert kpi[(DAY2.isoformat(), "units_produced")] == 1499 * PCS_PER_MIN
    # every local minute of the 25-hour day is one distinct UTC instant (the repeated hour resolved)
    assert readings == (3 * 1500, datetime(2026, 10, 24, 22, 0), datetime(2026, 10, 25, 22, 59))
    # reconciliation for the central team: every record accepted or quarantined (the unmapped tag)
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in rec] == [
        ("historian", 3 * 1440 + 1, 3 * 1440, 1, True), ("historian", 3 * 1500 + 1, 3 * 1500, 1, True)]
