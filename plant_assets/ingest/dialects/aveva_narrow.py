"""AVEVA (Wonderware) Historian narrow `History` exports: one reading a line.

Header `DateTime,TagName,Value,vValue,Quality,QualityDetail,OPCQuality` (column names configurable). The
value is `Value` or, when that is empty, `vValue` (the string form). DateTime is in server local time by
default (AVEVA returns local time unless asked for UTC).

Quality (visible and overridable in config):
  quality_column "Quality" (default): quality_map {0: good, 1: bad, 16: uncertain}, unmapped codes uncertain
  quality_column "OPCQuality": OPC DA bits (192 good, 64-127 uncertain, below 64 bad)

Options (`historian.options`): delimiter (","), columns ({tag, ts, value, svalue, quality}), quality_column,
quality_map, digital_states, plus the knobs of plant_assets.ingest.parsing.knobs (timestamp_format default
"%Y-%m-%d %H:%M:%S.%g" or without fraction, timestamps_in default "local", ...).
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

DEFAULT_COLUMNS = {"tag": "TagName", "ts": "DateTime", "value": "Value", "svalue": "vValue", "quality": "Quality"}
DEFAULT_QUALITY_MAP = {0: "good", 1: "bad", 16: "uncertain"}
DEFAULT_FORMATS = ["%Y-%m-%d %H:%M:%S.%g", "%Y-%m-%d %H:%M:%S"]
OPTIONS = ("delimiter", "columns", "quality_column", "quality_map", "digital_states", *KNOBS)
DESCRIPTION = "AVEVA (Wonderware) Historian narrow `History`: DateTime, TagName, Value, Quality, a reading a line"


def spec(plant: Any, con: duckdb.DuckDBPyConnection) -> LongSpec:
    where = f"{plant.plant_id}: historian.options"
    opts = dict(plant.historian.options or {})
    check_options(opts, OPTIONS, where)
    delim = check_delimiter(opts.get("delimiter", ","), where)
    columns = check_columns({**DEFAULT_COLUMNS, **(opts.get("columns") or {})}, where)
    qcol = opts.get("quality_column", "Quality")
    if qcol == "OPCQuality":
        columns["quality"] = "OPCQuality"
        mode, qmap = "opc", {}
    else:
        columns["quality"] = qcol
        mode, qmap = check_quality("code", opts.get("quality_map", DEFAULT_QUALITY_MAP), where)
    states = opts.get("digital_states", ())
    return LongSpec(columns=columns, quality_mode=mode, quality_map=qmap, digital_states=tuple(states),
                    knobs=parse_knobs(opts, con, where, DEFAULT_FORMATS, delim, plant.timezone), delim=delim)


def parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> ParsedExport:
    """Parse a plant-day of AVEVA Historian narrow History exports."""
    s = spec(plant, con).with_units(plant)
    return run_historian(plant, files, day, con, s.delim, long_parse_file(s), encoding=s.knobs["encoding"],
                         time_key=LONG_TIME_KEY,
                         shift_us=s.knobs["shift_us"])
