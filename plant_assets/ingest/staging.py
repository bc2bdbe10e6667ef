"""Exports of any span: a landing file that may hold part of a day, a month or years is read once and cut into
plant-days, then each plant-day's ingest parses its own slice of every file that covers it.

    inputs_for_day(plant, stream, landing, stage_root, day, span, con) -> the day's inputs (paths / Deliveries)
    stage_export(plant, stream, path, stage_root, span, con) -> StagedExport (cached by content fingerprint)

A file is "of any span" when its pattern does not name one day (`patterns.names_one_day`): `meter_{date:%Y}.csv`,
`export.csv`, or `historian.history_pattern`. Staging parses the file ONCE with the plant's own dialect over the
whole span (`stream_run.probing_days`), reads each record's instant, and writes the file's lines per local day to
`<stage_root>/<stream>/plant_id=<id>/<fingerprint>.from=<first day>/production_date=<d>/` (lines before the first record, the
header, go to every day). Lines whose instant is unknown (bad timestamp, unreadable) go with the line before
them, else the first day; days outside the partitions are clamped to the first / last partition day, where the
day's parse quarantines them as outside_partition_day. Each record is in exactly one day's slice, so per file
raw = accepted + quarantined summed over its days.

Idempotent: the stage is keyed by the content's SHA-256, so a re-delivered identical file is not parsed again,
and a corrected one is staged anew. When files overlap (a re-delivery, a daily file over a yearly one), the
newest delivery's reading is kept and the others are quarantined as `duplicate` (`source_files.Delivery`).
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from plant_assets.ingest import exports, patterns
from plant_assets.ingest.parsing.classify import FILE_OF, LINE_OF
from plant_assets.ingest.parsing.local_day import LocalDay
from plant_assets.ingest.parsing.source_files import Delivery
from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.stream_run import StreamRun, probing_days

# The column of a stream's classification table that holds a record's instant (naive UTC).
INSTANT_COLUMNS = ("ts_utc", "start_utc", "sampled_at_utc")
MANIFEST = "manifest.json"


class LocalSpan(LocalDay):
    """Plant-local days [first, last] as one partition, with every DST change between: only for reading each
    record's instant while probing (outside-the-day rules are meaningless here and ignored)."""

    def __init__(self, tz_name: str, first: date, last: date):
        # Not super().__init__, which builds one day: the same attributes over [first, last + 1 day).
        self.tz_name = tz_name
        self.tz = ZoneInfo(tz_name)
        self.day = first
        self.start_local = datetime.combine(first, time())
        self.end_local = datetime.combine(last + timedelta(days=1), time())
        self.start_utc = self.to_utc(self.start_local)
        self.end_utc = self.to_utc(self.end_local)
        self.segments = self._segments()


@dataclass(frozen=True)
class StagedExport:
    """One landing file cut into plant-days: records per day, and why it is unreadable (if it is)."""

    folder: Path
    fingerprint: str
    records_by_day: dict[str, int]
    problem: str | None = None

    def day_path(self, day: date) -> Path:
        return self.folder / f"production_date={day.isoformat()}"

    def covers(self, day: date) -> bool:
        return day.isoformat() in self.records_by_day


def export_of(plant: Any, stream: str) -> Any:
    return plant.historian if stream == "historian" else getattr(plant, stream, None)


def span_patterns(plant: Any, stream: str) -> list[str]:
    """The stream's patterns whose files may hold any span (not one file per day)."""
    export = export_of(plant, stream)
    if export is None:
        return []
    found = [export.file_pattern, getattr(export, "history_pattern", None)]
    return [p for p in found if p and not patterns.names_one_day(p)]


def span_stream(plant: Any, file_name: str) -> str | None:
    """The stream whose pattern of any span names this file (None: a daily file, or no export of the plant)."""
    for stream in exports.STREAMS:
        if any(fnmatch.fnmatchcase(file_name, patterns.span_glob(p)) for p in span_patterns(plant, stream)):
            return stream
    return None


def span_files(plant: Any, stream: str, landing: Path, now: float | None = None) -> list[Path]:
    """Complete landing files matching a span pattern (not a daily file's name), sorted by name."""
    globs = [patterns.span_glob(p) for p in span_patterns(plant, stream)]
    export = export_of(plant, stream)
    if not globs or not landing.is_dir():
        return []
    daily = export.file_pattern if patterns.names_one_day(export.file_pattern) else None
    entries = sorted(os.listdir(landing))
    real_root = landing.resolve()
    out = []
    for name in entries:
        if name.startswith(".") or not any(fnmatch.fnmatchcase(name, g) for g in globs):
            continue
        if daily and patterns.match_day(daily, name) is not None:
            continue  # a daily file: read for its own day
        path = landing / name
        real = path.resolve()
        if real.is_relative_to(real_root) and real.is_file() and exports.is_complete(export, real, entries, now):
            out.append(path)
    return out


def inputs_for_day(
    plant: Any, stream: str, landing: Path, stage_root: Path, day: date, span: tuple[date, date],
    con: duckdb.DuckDBPyConnection, now: float | None = None,
) -> list[Path | Delivery]:
    """Every input of one plant-day: its daily files and its slice of every staged file of any span.

    Without files of any span these are `exports.files_for_day` (plain paths in name order, as always) and the
    refused files of the day (`exports.refused_for_day`).
    """
    export = export_of(plant, stream)
    daily: list[Path] = []
    refused: list[Delivery] = []  # never read, each quarantined as one record naming it and why
    if export is not None and patterns.names_one_day(export.file_pattern):
        daily = exports.files_for_day(plant, landing, day, stream, now)
        refused = exports.refused_for_day(plant, landing, day, stream)
    spans = span_files(plant, stream, landing, now)
    if not spans:
        return [*daily, *refused]
    out: list[Path | Delivery] = [Delivery(p, p.stat().st_mtime) for p in daily] + refused
    for path in spans:
        staged = stage_export(plant, stream, path, stage_root, span, con)
        if staged.covers(day):
            out.append(Delivery(path, path.stat().st_mtime, staged.day_path(day), staged.problem))
    return out


def fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached_fingerprint(path: Path, plant_dir: Path) -> str:
    """The content fingerprint, hashed once per (name, size, mtime): a year of days does not re-read the file."""
    stat = path.stat()
    key = hashlib.sha1(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()
    cache = plant_dir / "by_stat" / key
    if cache.is_file():
        return cache.read_text().strip()
    value = fingerprint(path)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{key}.{uuid.uuid4().hex}")
    tmp.write_text(value)
    os.replace(tmp, cache)
    return value


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process stages a file; the plant-days of a parallel backfill wait for it and reuse its stage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load(folder: Path) -> StagedExport | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return StagedExport(folder, manifest["fingerprint"], manifest["records_by_day"], manifest.get("problem"))


def stage_export(
    plant: Any, stream: str, path: Path, stage_root: Path, span: tuple[date, date], con: duckdb.DuckDBPyConnection
) -> StagedExport:
    """The file cut into plant-days, parsed once per content (see the module docstring)."""
    plant_dir = Path(stage_root) / stream / f"plant_id={plant.plant_id}"
    content = _cached_fingerprint(path, plant_dir)
    # Keyed by the first partition day too: a plant onboarded with an earlier history moves it, and rows that
    # were clamped to the old first day now have days of their own. (The last day moves daily; only rows stamped
    # in the future are clamped to it.)
    folder = plant_dir / f"{content}.from={span[0].isoformat()}"
    staged = _load(folder)
    if staged is not None:
        return staged
    with _locked(plant_dir / f"{content}.lock"):
        staged = _load(folder)
        if staged is None:
            staged = _stage(plant, stream, path, folder, content, span, con)
    return staged


def _stage(plant: Any, stream: str, path: Path, folder: Path, content: str, span: tuple[date, date],
           con: duckdb.DuckDBPyConnection) -> StagedExport:
    first, last = span
    delivered = datetime.fromtimestamp(path.stat().st_mtime, ZoneInfo(plant.timezone)).date()
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
    result: dict[str, Any] = {}

    def cut(run: StreamRun) -> None:
        result.update(_cut_into_days(run, tmp, plant.timezone, first, last, min(max(delivered, first), last)))

    with probing_days(LocalSpan(plant.timezone, first, last), cut):
        exports.parse_stream(plant, stream, [path], first, con)
    manifest = {"file": path.name, "fingerprint": content, **result}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    try:
        os.replace(tmp, folder)
    except OSError:  # staged meanwhile by another process without the lock (another host): keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    staged = _load(folder)
    assert staged is not None, f"{folder}: staged without a manifest"
    return staged


def _cut_into_days(run: StreamRun, out: Path, tz: str, first: date, last: date, fallback: date) -> dict[str, Any]:
    """Write the probed file's lines per local day of their records; return records per day and any problem."""
    (sf,) = run.files
    columns = {r[0] for r in run_sql(run.con, f"SELECT column_name FROM (DESCRIBE {run.cls})")}
    instant = next((c for c in INSTANT_COLUMNS if c in columns), "NULL::TIMESTAMP")
    days = run.ws.create_as(
        "line_days",
        f"""WITH r AS (
            SELECT {LINE_OF} AS source_line, count(*) AS records,
                   CAST(timezone($tz, timezone('UTC', min({instant}))) AS DATE) AS day
            FROM {run.cls} WHERE {FILE_OF} = $i GROUP BY 1
        ), f AS (
            SELECT source_line, records,
                   coalesce(day, last_value(day IGNORE NULLS) OVER (ORDER BY source_line
                                                                  ROWS UNBOUNDED PRECEDING)) AS day
            FROM r
        )
        SELECT source_line, records,
               least(greatest(coalesce(day, (SELECT min(day) FROM r), $fallback), $first), $last) AS day
        FROM f""",
        {"tz": tz, "i": sf.idx, "first": first, "last": last, "fallback": fallback},
    )
    counts = run_sql(run.con, f"SELECT day, sum(records)::BIGINT FROM {days} GROUP BY 1 ORDER BY 1")
    out.mkdir(parents=True)
    if sf.lines is not None and counts:
        # Lines before the first record (preamble, header, a units row) belong to every day.
        lines = f"(SELECT source_line, line FROM {sf.lines})"
        run_sql(
            run.con,
            f"""COPY (
                SELECT l.source_line, l.line, d.day AS production_date
                FROM {lines} AS l JOIN {days} AS d USING (source_line)
                UNION ALL
                SELECT l.source_line, l.line, d.day
                FROM {lines} AS l CROSS JOIN (SELECT DISTINCT day FROM {days}) AS d
                WHERE l.source_line < (SELECT min(source_line) FROM {days})
            ) TO '{_sql_text(out)}' (FORMAT parquet, PARTITION_BY (production_date), COMPRESSION zstd)""",
        )
    for day, _ in counts:  # a day of records but no line (an unreadable or blank file): an empty slice
        folder = out / f"production_date={day.isoformat()}"
        if not folder.is_dir():
            folder.mkdir()
            run_sql(run.con, "COPY (SELECT NULL::BIGINT AS source_line, NULL::VARCHAR AS line WHERE false) "
                             f"TO '{_sql_text(folder / 'data_0.parquet')}' (FORMAT parquet)")
    return {"records_by_day": {d.isoformat(): int(n) for d, n in counts}, "problem": sf.problem}


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
