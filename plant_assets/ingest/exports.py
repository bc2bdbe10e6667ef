"""Historian and event export parsers: one plant-day of landing files -> accepted / quarantine / reconciliation.

    parse_historian(plant, files, day, con) -> ParsedExport    dispatches on plant.historian.dialect
    parse_events(plant, kind, files, day, con) -> ParsedExport kind: "production_runs" | "downtime_events"
    parse_lab_results(plant, files, day, con) -> ParsedExport  lab samples judged against quality_specs
    parse_stream(plant, stream, files, day, con) -> ParsedExport one of the above by stream name
    files_for_day(plant, landing_dir, day, stream) -> list[Path]  the daily files of a plant-day
    refused_for_day(plant, landing_dir, day, stream) -> list[Delivery]  its files that may not be read, and why
    (files of any span: plant_assets/ingest/staging.py)

`con` is a DuckDB connection owned by the caller (its temp objects are uniquely named and dropped again).
Bad data never raises: every record ends up accepted or quarantined with a reason code, and every input file
gets a reconciliation row with raw = accepted + quarantined. Only a configuration the parser cannot use
raises (DialectConfigError, a ValueError), before any file is read. See docs/contracts.md.
"""

from __future__ import annotations

import fnmatch
import os
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any, Sequence

import duckdb

from plant_assets.ingest.contract import (
    ACCEPTED_SCHEMA,
    DOWNTIME_SCHEMA,
    QUARANTINE_SCHEMA,
    REASON_CODES,
    RECONCILIATION_SCHEMA,
    RUNS_SCHEMA,
    STREAMS,
    DialectConfigError,
    ParsedExport,
    Stream,
)
from plant_assets.ingest.dialects import DIALECTS
from plant_assets.ingest.events import parse_events
from plant_assets.ingest.lab_results import LAB_SCHEMA, parse_lab_results
from plant_assets.ingest.parsing.local_day import as_day
from plant_assets.ingest.parsing.source_files import Delivery

__all__ = [
    "ACCEPTED_SCHEMA",
    "DOWNTIME_SCHEMA",
    "LAB_SCHEMA",
    "QUARANTINE_SCHEMA",
    "REASON_CODES",
    "RECONCILIATION_SCHEMA",
    "RUNS_SCHEMA",
    "STREAMS",
    "DialectConfigError",
    "ParsedExport",
    "files_for_day",
    "is_complete",
    "refused_for_day",
    "parse_events",
    "parse_historian",
    "parse_lab_results",
    "parse_stream",
]


def parse_historian(
    plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection
) -> ParsedExport:
    """Parse one plant-day of historian exports with the plant's dialect (plant_assets.ingest.dialects)."""
    try:
        dialect = DIALECTS[plant.historian.dialect]
    except KeyError:
        raise DialectConfigError(
            f"{plant.plant_id}: unknown historian dialect {plant.historian.dialect!r}; known: {sorted(DIALECTS)}"
        ) from None
    return dialect.parse(plant, files, as_day(day), con)


def parse_stream(
    plant: Any, stream: Stream, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection
) -> ParsedExport:
    """Parse one plant-day of a stream. A plant without an optional export (MES runs, downtime, lab) gets an
    empty partition, so dbt reads one schema for every plant."""
    if stream == "historian":
        return parse_historian(plant, files, day, con)
    if getattr(plant, stream) is None:
        return ParsedExport.from_tables(EMPTY_STREAM_SCHEMAS[stream].empty_table(), QUARANTINE_SCHEMA.empty_table(),
                                        RECONCILIATION_SCHEMA.empty_table())
    if stream == "lab_results":
        return parse_lab_results(plant, files, day, con)
    return parse_events(plant, stream, files, day, con)


EMPTY_STREAM_SCHEMAS = {"production_runs": RUNS_SCHEMA, "downtime_events": DOWNTIME_SCHEMA, "lab_results": LAB_SCHEMA}


def files_for_day(
    plant: Any, landing_dir: Path | str, day: date | datetime | str, stream: Stream, now: float | None = None
) -> list[Path]:
    """The existing files of one plant-day and stream, sorted by name.

    The name is the stream's `file_pattern.format(date=day)`; glob characters (* ? [...]) in it match names
    in landing_dir only (never in a sub-folder). Only regular files whose real path stays inside landing_dir
    are returned, so a symlink or a name cannot lead outside it (`refused_for_day` names the refused ones). A
    historian file still being written (`historian.stable_after_seconds`, `historian.completion_marker`) is left
    for a later run.
    """
    return [path for path, problem in _day_entries(plant, landing_dir, day, stream, now) if problem is None]


def refused_for_day(
    plant: Any, landing_dir: Path | str, day: date | datetime | str, stream: Stream
) -> list[Delivery]:
    """The plant-day's files that match the stream's pattern but are never read, each with why (`problem`): a
    symlink leading out of the landing folder or to nothing, a folder, a file that cannot be read. The parse
    quarantines each as one unreadable_file record naming it, so a refused export is never silently absent."""
    refused = []
    for path, problem in _day_entries(plant, landing_dir, day, stream):
        if problem is not None:
            try:
                delivered = path.lstat().st_mtime
            except OSError:
                delivered = 0.0
            refused.append(Delivery(path, delivered, problem=f"refused: {problem}"))
    return refused


def _day_entries(
    plant: Any, landing_dir: Path | str, day: date | datetime | str, stream: Stream, now: float | None = None
) -> list[tuple[Path, str | None]]:
    """Every name of landing_dir matching the plant-day's pattern, with None when it may be read or why not.
    A file still being written is left out (neither read nor refused: a later run reads it)."""
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {STREAMS}, got {stream!r}")
    export = plant.historian if stream == "historian" else getattr(plant, stream)
    if export is None:  # an optional stream the plant does not export (lab_results)
        return []
    name = export.file_pattern.format(date=as_day(day))
    if not name or any(sep in name for sep in ("/", "\\", "\0")) or name in (".", ".."):
        raise DialectConfigError(f"{plant.plant_id}: {stream}.file_pattern gives {name!r}, not a bare file name")
    root = Path(landing_dir)
    try:
        real_root = root.resolve(strict=True)
        entries = os.listdir(real_root)
    except (FileNotFoundError, NotADirectoryError):
        return []
    has_glob = any(c in name for c in "*?[")
    matches = [e for e in entries if fnmatch.fnmatchcase(e, name)] if has_glob else [name] if name in entries else []
    out: list[tuple[Path, str | None]] = []
    for entry in sorted(matches):
        path = root / entry
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            out.append((path, f"a symlink that leads nowhere (its target is gone or loops): {exc.strerror or exc}"))
            continue
        if not real.is_relative_to(real_root):
            out.append((path, f"a symlink that leads out of the landing folder {real_root} (to {real})"))
        elif not real.is_file():
            out.append((path, "not a regular file (a folder, a device or a pipe)"))
        elif not os.access(real, os.R_OK):
            out.append((path, "cannot be read (permission denied)"))
        elif is_complete(export, real, entries, now):
            out.append((path, None))
    return out


def is_complete(export: Any, real: Path, entries: Sequence[str], now: float | None = None) -> bool:
    """False while a file may still be written: younger than `stable_after_seconds`, or its completion marker
    (`completion_marker`, e.g. "{name}.done") is missing. Event exports have neither knob (always complete)."""
    stable = float(getattr(export, "stable_after_seconds", 0) or 0)
    if stable > 0:
        try:
            age = (time.time() if now is None else now) - real.stat().st_mtime
        except OSError:
            return False
        if age < stable:
            return False
    marker = getattr(export, "completion_marker", None)
    if marker and marker.replace("{name}", real.name) not in entries:
        return False
    return True
