"""Canary-style TVQ exports: `TagName,TimeStamp,Value,Quality`, one point a line, written on change.

Every tag has its own timestamps (no common grid; a flat signal can be silent for hours): nothing here
resamples, the points are kept as they come. Timestamps are ISO-8601 UTC by default
(`2026-09-07T14:30:00.1234567Z`, fractions optional). Quality is an OPC quality code: OPC DA (192 good,
64-127 uncertain, below 64 bad) or an OPC UA StatusCode (top two bits 00 good, 01 uncertain, 1x bad);
set `quality_mode: text` with a `quality_map` for exports that write words instead.

Options (`historian.options`): delimiter (","), columns ({tag, ts, value, quality}), quality_mode
("opc" | "text" | "code" | "none"), quality_map, digital_states, plus the knobs of
plant_assets.ingest.parsing.knobs (timestamps_in default "utc").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Sequence

import duckdb

from plant_assets.ingest.contract import ParsedExport
from plant_assets.ingest.parsing.historian_run import LONG_TIME_KEY, run_historian
from plant_assets.ingest.parsing.knobs import KNOBS, parse_knobs
from plant_assets.ingest.parsing.long_records import (
    LongSpec,
    check_columns,
    check_quality,
    long_parse_file,
)
from plant_assets.ingest.parsing.options import check_delimiter, check_options

DEFAULT_COLUMNS = {"tag": "TagName", "ts": "TimeStamp", "value": "Value", "quality": "Quality"}
DEFAULT_FORMATS = ["%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S.%nZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
                   "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"]
OPTIONS = ("delimiter", "columns", "quality_mode", "quality_map", "digital_states", *KNOBS)
DESCRIPTION = "Canary-style TVQ: TagName, TimeStamp, Value, Quality, a point a line, written on change"


def spec(plant: Any, con: duckdb.DuckDBPyConnection) -> LongSpec:
    where = f"{plant.plant_id}: historian.options"
    opts = dict(plant.historian.options or {})
    check_options(opts, OPTIONS, where)
    opts.setdefault("timestamps_in", "utc")
    delim = check_delimiter(opts.get("delimiter", ","), where)
    columns = check_columns({**DEFAULT_COLUMNS, **(opts.get("columns") or {})}, where)
    mode, qmap = check_quality(opts.get("quality_mode", "opc"), opts.get("quality_map"), where)
    return LongSpec(columns=columns, quality_mode=mode, quality_map=qmap,
                    digital_states=tuple(opts.get("digital_states", ())),
                    knobs=parse_knobs(opts, con, where, DEFAULT_FORMATS, delim, plant.timezone), delim=delim)


def parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> ParsedExport:
    """Parse a plant-day of Canary TVQ exports."""
    s = spec(plant, con).with_units(plant)
    return run_historian(plant, files, day, con, s.delim, long_parse_file(s), encoding=s.knobs["encoding"],
                         time_key=LONG_TIME_KEY,
                         shift_us=s.knobs["shift_us"])
