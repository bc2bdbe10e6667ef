"""The historian run shared by the historian dialects: `run_stream` for readings, with DST-fold resolution and
the (tag, ts_utc) keys its dedup and order use."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import duckdb

from plant_assets.ingest.contract import ACCEPTED_SCHEMA, QUALITIES, ParsedExport
from plant_assets.ingest.parsing.classify import keys_are_unique, resolve_fold
from plant_assets.ingest.parsing.source_files import SourceFile
from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.stream_run import StreamRun, run_stream

HIST_CLS_DDL = """rid BIGINT, tag_idx INTEGER, ts_utc TIMESTAMP, value DOUBLE, quality VARCHAR,
    status_text VARCHAR, raw_record VARCHAR, reason_code VARCHAR, reason_detail VARCHAR,
    fold_local TIMESTAMP, fold_off2 INTEGER, fold_line VARCHAR"""


# (tag, ts_utc) of an accepted reading as one BIGINT that sorts like (tag, ts_utc): tag_idx follows the sorted
# tag names, and an accepted ts_utc lies in the partition's UTC window [start_utc, end_utc) (at most 27 hours,
# < 2^37 microseconds) so its offset from start_utc fits in the low 40 bits. Cheaper to group and sort.
READING_KEY = "((tag_idx::BIGINT << 40) | (epoch_us(ts_utc) - $key_origin))"
# Time first, then the column: what a time-ordered wide export increases along (injective for a file whose
# header names each tag once; a header repeating a tag forces the full dedup).
WIDE_TIME_KEY = "(((epoch_us(ts_utc) - $key_origin) << 16) | (rid & 65535))"
# The same for a time-major long export (each time stamp's rows in tag order): time, then tag (< 2^23 tags).
LONG_TIME_KEY = "(((epoch_us(ts_utc) - $key_origin) << 23) | tag_idx)"


def run_historian(
    plant: Any,
    files: Sequence[Path | str],
    day: date | datetime | str,
    con: duckdb.DuckDBPyConnection,
    delim: str,
    parse_file: Callable[[StreamRun, SourceFile], str | None],
    fold_key: str | None = "tag_idx",
    time_key: str | None = None,
    precheck: bool = True,
    encoding: str | None = None,
    shift_us: int = 0,
) -> ParsedExport:
    """run_stream for readings: DST-fold resolution per (file, fold_key), dedup on (tag, ts_utc).

    shift_us moves every instant back after the fold is resolved (interval-end stamps -> interval start).
    """

    def post(run: StreamRun) -> None:
        if fold_key is not None and run.day.has_fold:
            resolve_fold(run.ws, run.cls, fold_key, "fold_local", "ts_utc", "fold_off2", run.day.tz_name)
        if shift_us:
            run_sql(run.con, f"UPDATE {run.cls} SET ts_utc = ts_utc - to_microseconds($s) WHERE ts_utc IS NOT NULL",
                    {"s": int(shift_us)})

    return run_stream(
        plant,
        files,
        day,
        con,
        delim=delim,
        cls_ddl=HIST_CLS_DDL,
        parse_file=parse_file,
        post=post,
        dedup_keys=(READING_KEY,),
        dedup_what="this tag and timestamp was",
        accepted_select="$tag_names[tag_idx] AS tag, ts_utc, value, quality, status_text",
        accepted_order=READING_KEY,  # unique after the dedup, so no tie to break
        accepted_schema=ACCEPTED_SCHEMA,
        key_params=lambda day: {"key_origin": _epoch_us(day.start_utc)},
        unique_check=(lambda run, kp: keys_are_unique(run, time_key, kp)) if precheck else None,
        encoding=encoding,
        enum_types=lambda run: {"quality": run.ws.enum_type("quality_enum", QUALITIES),
                                **({"tag": run.tag_enum} if run.tag_enum else {})},
    )


def _epoch_us(naive_utc: datetime) -> int:
    delta = naive_utc - datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
