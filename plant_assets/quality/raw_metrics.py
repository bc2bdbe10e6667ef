"""One row of metrics over a plant-day's parsed readings, computed in DuckDB and judged by the
`raw_historian` suite; offending sample rows are fetched only when a gate fails."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from plant_assets.core.settings import work_connection
from plant_assets.quality.canonical_metrics import (
    GOOD_READING,  # it proves these hold no duplicate key
)

CANONICAL_COLUMNS = ["tag", "ts_utc", "value", "quality", "status_text", "source_file", "source_line"]


# One parallel pass, no order needed.
METRICS_SQL = f"""
select
    count(*) as rows,
    count(*) filter (where ts_utc is null) as null_timestamps,
    count(*) filter (where tag is null) as null_tags,
    count(*) filter (where ts_utc < $start or ts_utc >= $end) as outside_window,
    count(*) filter (where quality is null or quality not in ('good', 'uncertain', 'bad')) as invalid_quality,
    coalesce(avg(case when quality in ('good', 'uncertain') then 1.0 else 0.0 end), 0.0) as good_share,
    count(*) filter (where not coalesce({GOOD_READING}, false)) as other_readings
from read_parquet($readings)
"""

# Extra copies of a (tag, ts) key: a hash GROUP BY (not a per-tag sorted window, not count(distinct), which
# cannot spill and runs out of memory on a 5 GB export).
DUPLICATES_SQL = """
select coalesce(sum(copies - 1), 0) as duplicate_keys
from (select count(*) as copies from read_parquet($readings) group by tag, ts_utc having count(*) > 1)
"""

# The same when the good readings are known to be unique: a duplicated key then involves another reading
# (bad quality, no value ...), so only the keys of those few are grouped.
OTHER_DUPLICATES_SQL = f"""
with other as (select distinct tag, ts_utc from read_parquet($readings) where not coalesce({GOOD_READING}, false))
select coalesce(sum(copies - 1), 0) as duplicate_keys
from (
    select count(*) as copies
    from read_parquet($readings) as r
    semi join other as o on r.tag is not distinct from o.tag and r.ts_utc is not distinct from o.ts_utc
    group by r.tag, r.ts_utc
    having count(*) > 1
)
"""

SAMPLES_SQL = {
    "outside_window": "select tag, ts_utc, source_file, source_line from read_parquet($readings) "
    "where ts_utc < $start or ts_utc >= $end limit 5",
    "good_share": "select tag, ts_utc, status_text, source_file, source_line from read_parquet($readings) "
    "where quality = 'bad' limit 5",
    "duplicate_keys": "select tag, ts_utc, count(*) as copies from read_parquet($readings) "
    "group by tag, ts_utc having count(*) > 1 limit 5",
}


def raw_day_metrics(
    readings: Path, reconciliation: Path, window: tuple[datetime, datetime], good_readings_unique: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """The raw_historian suite's metrics, on `con` or a connection of their own. `good_readings_unique`: the
    canonical gate proved the good readings hold no duplicate key, so only the other readings' keys need
    grouping."""
    start, end = window
    with nullcontext(con) if con is not None else work_connection(ordered=False) as con:
        columns = [row[0] for row in con.execute("select name from parquet_schema($p) where num_children is null",
                                                   {"p": str(readings)}).fetchall()]
        metrics = con.execute(METRICS_SQL, {"readings": str(readings), "start": start, "end": end}).df()
        others = int(metrics.pop("other_readings").iloc[0])
        if not good_readings_unique:
            duplicates_sql = DUPLICATES_SQL
        elif others:
            duplicates_sql = OTHER_DUPLICATES_SQL
        else:  # every reading is a good one, proved unique
            duplicates_sql = None
        metrics["duplicate_keys"] = (
            int(con.execute(duplicates_sql, {"readings": str(readings)}).fetchone()[0]) if duplicates_sql else 0
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
