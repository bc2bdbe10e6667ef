"""One row of metrics over a plant-day's parsed readings, computed in DuckDB and judged by the
`raw_historian` suite; offending sample rows are fetched only when a gate fails."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from plant_assets.settings import work_connection

CANONICAL_COLUMNS = ["tag", "ts_utc", "value", "quality", "status_text", "source_file", "source_line"]

# One pass over the partition in file order. The lake writes (tag, ts_utc) order, and strictly increasing
# keys prove there is no duplicate without grouping; a file that fails the proof is grouped (DUPLICATES_SQL).
METRICS_SQL = """
with readings as (
    select tag, ts_utc, quality, lag(tag) over () as prev_tag, lag(ts_utc) over () as prev_ts
    from read_parquet($readings)
)
select
    count(*) as rows,
    count(*) filter (where ts_utc is null) as null_timestamps,
    count(*) filter (where tag is null) as null_tags,
    count(*) filter (where ts_utc < $start or ts_utc >= $end) as outside_window,
    count(*) filter (where quality is null or quality not in ('good', 'uncertain', 'bad')) as invalid_quality,
    coalesce(avg(case when quality in ('good', 'uncertain') then 1.0 else 0.0 end), 0.0) as good_share,
    coalesce(bool_and(coalesce(prev_tag is null or tag > prev_tag or (tag = prev_tag and ts_utc > prev_ts), false)
                      and tag is not null and ts_utc is not null), true) as keys_increase
from readings
"""

# Extra copies of a (tag, ts) key: a hash GROUP BY (not a per-tag sorted window, not count(distinct), which
# cannot spill and runs out of memory on a 5 GB export).
DUPLICATES_SQL = """
select coalesce(sum(copies - 1), 0) as duplicate_keys
from (select count(*) as copies from read_parquet($readings) group by tag, ts_utc having count(*) > 1)
"""

SAMPLES_SQL = {
    "outside_window": "select tag, ts_utc, source_file, source_line from read_parquet($readings) "
    "where ts_utc < $start or ts_utc >= $end limit 5",
    "good_share": "select tag, ts_utc, status_text, source_file, source_line from read_parquet($readings) "
    "where quality = 'bad' limit 5",
    "duplicate_keys": "select tag, ts_utc, count(*) as copies from read_parquet($readings) "
    "group by tag, ts_utc having count(*) > 1 limit 5",
}


def raw_day_metrics(readings: Path, reconciliation: Path, window: tuple[datetime, datetime]) -> pd.DataFrame:
    start, end = window
    with work_connection(ordered=True) as con:
        columns = [row[0] for row in con.execute("select name from parquet_schema($p) where num_children is null",
                                                   {"p": str(readings)}).fetchall()]
        metrics = con.execute(METRICS_SQL, {"readings": str(readings), "start": start, "end": end}).df()
        proved_unique = bool(metrics.pop("keys_increase").iloc[0])
        metrics["duplicate_keys"] = 0 if proved_unique else int(
            con.execute(DUPLICATES_SQL, {"readings": str(readings)}).fetchone()[0]
        )
        unreconciled = con.execute(
            "select coalesce(sum(raw_records - accepted_records - quarantined_records), 0) from read_parquet($p)",
            {"p": str(reconciliation)},
        ).fetchone()[0]
    metrics["schema_matches"] = columns == CANONICAL_COLUMNS
    metrics["unreconciled_records"] = int(unreconciled)
    return metrics


def offending_samples(readings: Path, window: tuple[datetime, datetime], failed_columns: set[str]) -> dict[str, list]:
    samples = {}
    with work_connection(ordered=False) as con:
        for column, sql in SAMPLES_SQL.items():
            if column in failed_columns:
                params = {"readings": str(readings)} | ({"start": window[0], "end": window[1]} if "$start" in sql else {})
                frame = con.execute(sql, params).df()
                samples[column] = frame.astype(str).to_dict("records")
    return samples
