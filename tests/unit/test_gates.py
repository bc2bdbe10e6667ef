import json
from datetime import date, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from plant_assets.core.plant_config import load_plant
from plant_assets.core.settings import REPO_ROOT
from plant_assets.quality import suite_parameters, validate_frame
from plant_assets.quality.canonical_metrics import (
    canonical_day_metrics,
    measure_canonical,
)
from plant_assets.quality.day_levels import DayLevelFiles

PLANT = load_plant(REPO_ROOT / "plants" / "plant_a")  # Europe/Berlin, PI tags RHF.*
DAY = date(2026, 9, 10)


def test_plant_overrides_are_merged_and_reported():
    thresholds, changed = suite_parameters("canonical_signals", {"min_completeness": 0.8, "max_gap_minutes": 120})
    assert thresholds["min_completeness"] == 0.8 and thresholds["max_flat_minutes"] == 240
    assert changed == {"min_completeness": {"default": 0.9, "plant": 0.8}}  # same-as-default is not an override


def test_unknown_threshold_is_refused():
    with pytest.raises(ValueError, match="unknown threshold"):
        suite_parameters("canonical_signals", {"min_completenes": 0.8})


def _readings(tmp_path, rows, name="today.parquet"):
    table = pa.Table.from_pylist(
        [
            {"tag": t, "ts_utc": ts, "value": v, "quality": "good", "status_text": None, "source_file": "f", "source_line": i}
            for i, (t, ts, v) in enumerate(rows)
        ]
    )
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def _day_minutes(step):
    start, end = PLANT.day_window_utc(DAY)
    ts = start
    while ts < end:
        yield ts
        ts += timedelta(minutes=step)


def test_canonical_metrics_worked_example(tmp_path):
    rows = []
    for i, ts in enumerate(_day_minutes(10)):
        rows.append(("RHF.L1.M1.CUR", ts, 40.0 if ts.hour < 12 else 40.0 + i))  # flat for the first 10 hours
        rows.append(("RHF.L1.M1.VIB_RMS", ts, 99.0 if i < 3 else 1.5))  # 3 of 144 readings out of range
        if not (6 <= ts.hour < 10):
            rows.append(("RHF.L1.M1.TBRG", ts, 50.0 + (i % 7)))  # a 4-hour hole
    metrics = canonical_day_metrics(PLANT, _readings(tmp_path, rows), None, PLANT.day_window_utc(DAY)).set_index("tag")
    assert metrics.loc["RHF.L1.M1.CUR", "longest_flat_minutes"] >= 9 * 60
    assert metrics.loc["RHF.L1.M1.VIB_RMS", "out_of_range_share"] == pytest.approx(3 / 144)
    assert metrics.loc["RHF.L1.M1.TBRG", "longest_gap_minutes"] == pytest.approx(4 * 60 + 10)
    assert metrics.loc["RHF.L1.M1.TBRG", "completeness"] == pytest.approx(20 / 24)
    # mapped tags that sent nothing are complete failures, not silently absent
    assert metrics.loc["RHF.L2.M1.CUR", "readings"] == 0 and metrics.loc["RHF.L2.M1.CUR", "completeness"] == 0
    assert metrics.loc["RHF.L2.M1.CUR", "longest_gap_minutes"] == 24 * 60

    thresholds, _ = suite_parameters("canonical_signals")
    outcome = validate_frame(
        "canonical_signals", metrics.reset_index(), thresholds, batch_name="plant_a|2026-09-10", key_column="tag"
    )
    failed = {f["column"]: f for f in outcome.failed}
    assert {"out_of_range_share", "completeness", "longest_gap_minutes", "longest_flat_minutes"} <= set(failed)
    # the suite judges the worst tag; the report counts and names every tag past the limit, worst first
    gap = failed["longest_gap_minutes"]
    assert gap["observed"] == metrics["longest_gap_minutes"].max() and gap["threshold"] == {"max_value": 120}
    assert gap["unexpected_count"] == (metrics["longest_gap_minutes"] > 120).sum()
    assert gap["sample"][0] == metrics["longest_gap_minutes"].idxmax()
    assert "RHF.L1.M1.VIB_RMS" in failed["out_of_range_share"]["sample"]
    json.dumps(outcome.failed)  # plain Python values: the report goes into Dagster's JSON metadata
    assert outcome.docs_url and outcome.docs_url.startswith("file://")  # failed gates get their Data Docs page


def test_level_shift_against_yesterday_flags_a_unit_change(tmp_path):
    yesterday = [("RHF.L1.M1.TBRG", ts - timedelta(days=1), 50.0) for ts in _day_minutes(30)]
    today = [("RHF.L1.M1.TBRG", ts, 122.0) for ts in _day_minutes(30)]  # the same 50 degC, now sent in degF
    metrics = canonical_day_metrics(
        PLANT, _readings(tmp_path, today), _readings(tmp_path, yesterday, "yesterday.parquet"), PLANT.day_window_utc(DAY)
    ).set_index("tag")
    assert metrics.loc["RHF.L1.M1.TBRG", "level_ratio"] == pytest.approx(122 / 50)
    assert metrics.loc["RHF.L1.M1.TBRG", "level_shift"] == pytest.approx(122 / 50 / 2)  # temperature tolerates 2x


def test_yesterdays_levels_are_kept_and_never_used_stale(tmp_path):
    yesterday_rows = [("RHF.L1.M1.TBRG", ts - timedelta(days=1), 50.0) for ts in _day_minutes(30)]
    today = _readings(tmp_path, [("RHF.L1.M1.TBRG", ts, 122.0) for ts in _day_minutes(30)])
    yesterday = _readings(tmp_path, yesterday_rows, "yesterday.parquet")
    levels = DayLevelFiles(today=tmp_path / "levels" / "today.parquet", yesterday=tmp_path / "levels" / "yesterday.parquet")
    window = PLANT.day_window_utc(DAY)

    def level_ratio():
        metrics = measure_canonical(PLANT, today, yesterday, window, levels=levels).metrics.set_index("tag")
        return metrics.loc["RHF.L1.M1.TBRG", "level_ratio"]

    assert level_ratio() == pytest.approx(122 / 50)
    assert levels.today.exists() and levels.yesterday.exists()  # yesterday rolled up once, then kept
    # the next run reads what was kept (doctored here to tell it apart) instead of yesterday's readings
    kept = pq.read_table(levels.yesterday)
    pq.write_table(kept.set_column(1, "median_value", pa.array([61.0])), levels.yesterday)
    assert level_ratio() == pytest.approx(122 / 61)
    # yesterday re-delivered, now also in degF: the kept levels describe the old file and are not used
    yesterday = _readings(tmp_path, [(tag, ts, 122.0) for tag, ts, _ in yesterday_rows], "yesterday.parquet")
    assert level_ratio() == pytest.approx(1.0)


def test_levels_are_kept_only_where_the_store_can_tell_a_file_changed(tmp_path):
    from plant_assets.core import lake as lake_paths
    from plant_assets.quality.day_levels import readings_identity

    local = _readings(tmp_path, [("RHF.L1.M1.TBRG", datetime(2026, 9, 10, 6), 50.0)])
    assert readings_identity(local)
    in_memory = lake_paths.lake_root("memory://levels-identity") / "readings.parquet"
    lake_paths.write_table_atomic(pq.read_table(local), in_memory)
    assert readings_identity(in_memory) is None  # no modification time: the size alone would miss a re-delivery


def test_a_repair_is_not_a_unit_change(tmp_path):
    """A bearing repair drops vibration ~4x overnight: physics, inside the signal's tolerated factor."""
    yesterday = [("RHF.L1.M1.VIB_RMS", ts - timedelta(days=1), 7.2) for ts in _day_minutes(30)]
    today = [("RHF.L1.M1.VIB_RMS", ts, 1.9) for ts in _day_minutes(30)]
    metrics = canonical_day_metrics(
        PLANT, _readings(tmp_path, today), _readings(tmp_path, yesterday, "yesterday.parquet"), PLANT.day_window_utc(DAY)
    ).set_index("tag")
    assert metrics.loc["RHF.L1.M1.VIB_RMS", "level_shift"] < 1.0


def _day_rows():
    rows = []
    for i, ts in enumerate(_day_minutes(5)):
        rows.append(("RHF.L1.M1.CUR", ts, 40.0 if 100 <= i < 160 else 40.0 + (i % 11)))
        rows.append(("RHF.L1.M1.VIB_RMS", ts, 2.0 + (i % 5) / 10))
        if not (3 <= ts.hour < 5):
            rows.append(("RHF.L1.M1.TBRG", ts, 50.0 + (i % 7)))
    return rows


def test_canonical_metrics_in_file_order_match_the_sorted_measure(tmp_path):
    """The lake's (tag, ts) order lets a streaming pass replace the sort; a shuffled file takes the sort.
    Both must measure the same."""
    import random

    rows = _day_rows()
    ordered = sorted(rows)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    window = PLANT.day_window_utc(DAY)
    fast = canonical_day_metrics(PLANT, _readings(tmp_path, ordered, "sorted.parquet"), None, window)
    slow = canonical_day_metrics(PLANT, _readings(tmp_path, shuffled, "shuffled.parquet"), None, window)
    pd.testing.assert_frame_equal(fast, slow)
    cur = fast.set_index("tag").loc["RHF.L1.M1.CUR"]
    assert cur["longest_flat_minutes"] == pytest.approx(60 * 5)  # 60 repeats after the first of the run
    assert fast.set_index("tag").loc["RHF.L1.M1.TBRG", "completeness"] == pytest.approx(22 / 24)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_raw_metrics_count_duplicate_keys_in_any_order(tmp_path, order):
    from plant_assets.quality.raw_metrics import raw_day_metrics

    rows = sorted(_day_rows())
    rows.insert(10, rows[9])  # one exact re-delivery next to its original
    rows.append(rows[100])  # and one far from it
    if order == "shuffled":
        import random

        random.Random(5).shuffle(rows)
    reconciliation = tmp_path / "reconciliation.parquet"
    pq.write_table(pa.table({"raw_records": [len(rows)], "accepted_records": [len(rows)], "quarantined_records": [0]}),
                   reconciliation)
    metrics = raw_day_metrics(_readings(tmp_path, rows), reconciliation, PLANT.day_window_utc(DAY)).iloc[0]
    assert metrics["duplicate_keys"] == 2 and metrics["rows"] == len(rows)
    unique = sorted(set(rows))
    metrics = raw_day_metrics(_readings(tmp_path, unique, "unique.parquet"), reconciliation, PLANT.day_window_utc(DAY))
    assert metrics.iloc[0]["duplicate_keys"] == 0
    assert list(metrics.columns) == ["rows", "null_timestamps", "null_tags", "outside_window", "invalid_quality",
                                     "good_share", "duplicate_keys", "schema_matches", "unreconciled_records"]


def test_historian_metrics_count_a_duplicate_hidden_behind_bad_quality(tmp_path):
    """The canonical pass proves the good readings unique; a key repeated by a bad reading is still counted."""
    from plant_assets.quality.historian import historian_day_metrics

    rows = sorted(_day_rows())
    records = [{"tag": t, "ts_utc": ts, "value": v, "quality": "good", "status_text": None, "source_file": "f",
                "source_line": i} for i, (t, ts, v) in enumerate(rows)]
    records.insert(11, {**records[10], "value": None, "quality": "bad", "status_text": "I/O Timeout"})
    readings = tmp_path / "readings.parquet"
    pq.write_table(pa.Table.from_pylist(records), readings)
    reconciliation = tmp_path / "reconciliation.parquet"
    pq.write_table(pa.table({"raw_records": [len(records)], "accepted_records": [len(records)],
                             "quarantined_records": [0]}), reconciliation)
    metrics = historian_day_metrics(PLANT, readings, reconciliation, None, PLANT.day_window_utc(DAY))
    assert metrics.raw.iloc[0]["duplicate_keys"] == 1 and metrics.raw.iloc[0]["rows"] == len(records)
    alone = canonical_day_metrics(PLANT, _readings(tmp_path, rows, "good.parquet"), None, PLANT.day_window_utc(DAY))
    pd.testing.assert_frame_equal(metrics.canonical, alone)  # the bad copy is not a reading of the signal


def test_marts_gate_kpis_are_the_catalog_kpis_its_suite_names():
    from plant_assets.quality.marts_metrics import gate_kpis

    assert gate_kpis() == ("energy_kwh", "units_produced", "kwh_per_unit", "oee")  # catalog order


def test_marts_gate_frame_one_row_per_expected_plant_day():
    import duckdb

    from plant_assets.quality.marts_metrics import kpi_day_frames

    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.kpi_daily (plant_id varchar, production_date date, kpi varchar, value double, unit varchar)")
    rows = [("p", date(2026, 9, d), "kwh_per_unit", 0.1 * d, "kWh/unit") for d in range(1, 8)]
    rows += [("p", date(2026, 9, 7), k, v, "x") for k, v in
             (("energy_kwh", 700.0), ("units_produced", 1000.0), ("oee", 0.8), ("availability", 0.9))]
    con.executemany("insert into marts.kpi_daily values (?, ?, ?, ?, ?)", rows)
    frame = kpi_day_frames(con, [("p", date(2026, 9, 7)), ("q", date(2026, 9, 7))], 28)
    assert list(frame.columns) == ["plant_id", "production_date", "energy_kwh", "units_produced", "kwh_per_unit",
                                   "oee", "history_days", "history_median_kwh_per_unit",
                                   "history_days_energy_kwh", "history_max_energy_kwh",
                                   "history_days_units_produced", "history_max_units_produced"]
    p, q = frame.to_dict("records")
    assert (p["energy_kwh"], p["units_produced"], p["kwh_per_unit"], p["oee"]) == (700.0, 1000.0, pytest.approx(0.7), 0.8)
    assert p["history_days"] == 6 and p["history_median_kwh_per_unit"] == pytest.approx(0.35)
    assert p["history_days_energy_kwh"] == 0  # energy only on the day itself: no history bound yet
    assert q["history_days"] == 0 and all(q[k] != q[k] for k in ("energy_kwh", "oee", "history_median_kwh_per_unit"))
