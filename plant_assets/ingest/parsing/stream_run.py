"""The run every stream shares (historian, events, lab results): read the files, classify each one, dedup,
write the frames (`run_stream`), and what a parser's per-file step gets (`StreamRun`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import duckdb
import pyarrow as pa

from plant_assets.ingest.contract import QUARANTINE_SCHEMA, RECONCILIATION_SCHEMA, ParsedExport
from plant_assets.ingest.parsing.classify import (
    FILE_OF,
    fill_raw_records,
    finish,
    insert_unreadable,
    mark_duplicates,
    quarantine_bad_lines,
)
from plant_assets.ingest.parsing.local_day import LocalDay, as_day
from plant_assets.ingest.parsing.source_files import (
    SourceFile,
    exec_on_source,
    open_source,
    source_files,
)
from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.workspace import Workspace


@dataclass
class StreamRun:
    """What a parser's per-file step gets: the connection's temp tables and the partition."""

    ws: Workspace
    cls: str
    tags: str
    tag_names: list[str]
    day: LocalDay
    files: list[SourceFile]
    plant_id: str
    delim: str
    raw_counts: dict[int, int] = field(default_factory=dict)
    # A parser sets this when it knows duplicates are possible that the cheap check cannot see.
    force_dedup: bool = False
    # Set by keys_are_unique when the accepted rows are already in (tag, ts_utc) order: finish skips the sort.
    in_key_order: bool = False
    # ENUM type of tag_names (None for an empty tag map): lookups by tag and the accepted `tag` column.
    tag_enum: str | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.ws.con

    def tag_lookup(self, text: str) -> str:
        """SQL for the tag_idx of tag text `text` (NULL when the tag is not mapped).

        A cast to the tag map's ENUM type is a hash lookup that keeps the file order of the rows (which the
        cheap uniqueness check relies on, and a hash join may not keep); its code is tag_idx - 1.
        """
        if self.tag_enum is None:
            return "NULL::INTEGER"
        return f"(enum_code(TRY_CAST({text} AS {self.tag_enum})) + 1)::INTEGER"

    def insert(self, sf: SourceFile, sql: str, params: dict[str, Any], records_per_line: int = 1) -> None:
        """Run a per-file classifying INSERT (SRC = the file's lines); its row count is the raw record count."""
        n = exec_on_source(self.ws, sf, sql, {**params, "tag_names": self.tag_names})[0][0]
        self.raw_counts[sf.idx] = int(n)


# Set by `probing_days`: the run classifies the files over a span of days, hands itself to the sink (which reads
# each record's instant) and returns nothing. Every dialect is probed this way without knowing it.
_PROBE: ContextVar[tuple[LocalDay, Callable[["StreamRun"], None]] | None] = ContextVar("day_probe", default=None)


@contextmanager
def probing_days(span: LocalDay, sink: Callable[["StreamRun"], None]) -> Iterator[None]:
    """Within this block a parse classifies its files against `span` (a LocalDay covering many days), calls
    `sink(run)` after the instants are final (DST folds resolved, interval ends shifted) and before any dedup,
    and returns an empty ParsedExport: how a file of any span is split into plant-days in one read."""
    token = _PROBE.set((span, sink))
    try:
        yield
    finally:
        _PROBE.reset(token)


def run_stream(
    plant: Any,
    files: Sequence[Path | str],
    day: date | datetime | str,
    con: duckdb.DuckDBPyConnection,
    *,
    delim: str,
    cls_ddl: str,
    parse_file: Callable[[StreamRun, SourceFile], str | None],
    post: Callable[[StreamRun], None] | None,
    dedup_keys: Sequence[str],
    dedup_what: str,
    accepted_select: str,
    accepted_order: str,
    accepted_schema: pa.Schema,
    key_params: Callable[[LocalDay], dict[str, Any]] | None = None,
    unique_check: Callable[[StreamRun, dict[str, Any]], bool] | None = None,
    encoding: str | None = None,
    enum_types: Callable[[StreamRun], dict[str, str]] | None = None,
) -> ParsedExport:
    """Read the files, let `parse_file(run, sf)` classify each readable one, then `post`, dedup and the frames.

    parse_file inserts the file's records with run.insert (returning None), or returns a problem text to
    quarantine the whole file as unreadable_file.
    """
    probe = _PROBE.get()
    local_day = probe[0] if probe else LocalDay(plant.timezone, as_day(day))
    sfs = source_files(files)
    tag_names = sorted({m.source_tag for m in plant.tag_map})
    with Workspace(con) as ws:
        run = StreamRun(
            ws=ws,
            cls=ws.create("cls", cls_ddl),
            tags=create_tag_table(ws, tag_names),
            tag_names=tag_names,
            day=local_day,
            files=sfs,
            plant_id=plant.plant_id,
            delim=delim,
            tag_enum=ws.enum_type("tag_enum", tag_names) if tag_names else None,
        )
        for sf in sfs:
            open_source(ws, sf, delim, encoding)
            problem = sf.problem
            if problem is None:
                problem = "file has no header line (only blank lines)" if not sf.header_line else parse_file(run, sf)
            if problem is not None:
                run_sql(con, f"DELETE FROM {run.cls} WHERE {FILE_OF} = $i", {"i": sf.idx})
                run.raw_counts[sf.idx] = insert_unreadable(run, sf, problem)
            else:
                quarantine_bad_lines(run, sf)
        if post is not None:
            post(run)
        if probe:
            probe[1](run)
            return ParsedExport.from_tables(accepted_schema.empty_table(), QUARANTINE_SCHEMA.empty_table(),
                                            RECONCILIATION_SCHEMA.empty_table())
        kp = key_params(local_day) if key_params else {}
        if unique_check is None or not unique_check(run, kp):
            mark_duplicates(run, dedup_keys, dedup_what, kp)
        fill_raw_records(run)
        return finish(run, accepted_select, accepted_order, accepted_schema, kp, enum_types(run) if enum_types else None)


def create_tag_table(ws: Workspace, tag_names: list[str]) -> str:
    """A temp table (source_tag, tag_idx) of the plant's tags; tag_idx is the 1-based position in tag_names.

    tag_names is sorted, so ordering by tag_idx is ordering by tag (and an integer is cheaper to sort and group).
    """
    return ws.create_as(
        "tags",
        "SELECT unnest($tags::VARCHAR[]) AS source_tag, unnest(range(1, len($tags::VARCHAR[]) + 1))::INTEGER AS tag_idx",
        {"tags": tag_names},
    )
