"""Option knobs shared by the configurable dialects (generic, aveva_narrow, canary_tvq).

Each knob is validated once, up front (a DialectConfigError names the plant and the option), and turned
into a SQL fragment whose values are bound parameters:

  timestamp_format   strptime format or list of formats tried in order, or "epoch_s" / "epoch_ms" / "epoch_us"
  timestamps_in      "local" (plant time zone) or "utc"
  timestamp_marks    "start" (default) or "end": an interval-end stamp is moved back by `interval_seconds`
                     (so a 00:00 row carrying the previous day's date belongs to the previous day)
  interval_seconds   the export's interval for timestamp_marks: end
  midnight_label     "opening_day" (default) or "closing_day" (with timestamp_marks: end): a 00:00 stamp names
                     the day it closes (2026-09-08 00:00 is the end of 09-08); `24:00` always means the next 00:00
  zone_abbreviations abbreviation -> UTC offset ({CDT: "-05:00"}) over the defaults of the plant's zone; stamps
                     may end with such an abbreviation or an offset (-05:00, +0530, Z): see written_time
  decimal_comma      true: "1.234,5" -> 1234.5 (the delimiter must then not be ",")
  value_scale / value_offset   value = raw * scale + offset (before the tag map's unit conversion)
  skip_lines         physical lines before the header (a preamble of export metadata)
  skip_after_header  physical lines after the header that are not data (a units or description row)
  encoding           "auto" (default: UTF-8 with or without BOM, UTF-16 with BOM, else cp1252) or a codec name
"""

from __future__ import annotations

import codecs
from typing import Any

import duckdb

from plant_assets.ingest.contract import DialectConfigError
from plant_assets.ingest.parsing.options import check_formats
from plant_assets.ingest.parsing.source_files import (
    NONBLANK,
    WS,
    SourceFile,
    split_header,
)
from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.written_time import check_time_options, time_params

EPOCH_UNITS = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1}
KNOBS = (
    "timestamp_format",
    "timestamps_in",
    "timestamp_marks",
    "interval_seconds",
    "midnight_label",
    "zone_abbreviations",
    "decimal_comma",
    "value_scale",
    "value_offset",
    "skip_lines",
    "skip_after_header",
    "encoding",
)


def _number(opts: dict[str, Any], key: str, default: float, where: str) -> float:
    value = opts.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
        float("inf"), float("-inf")):
        raise DialectConfigError(f"{where}: {key} must be a finite number, got {value!r}")
    return float(value)


def _count(opts: dict[str, Any], key: str, where: str) -> int:
    value = opts.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise DialectConfigError(f"{where}: {key} must be an integer from 0 to 1000, got {value!r}")
    return value


def parse_knobs(opts: dict[str, Any], con: duckdb.DuckDBPyConnection, where: str, default_format: Any,
                delim: str, tz: str = "UTC") -> dict[str, Any]:
    """Validated knobs (see the module docstring); `tz` is the plant's zone (its abbreviations)."""
    fmt = opts.get("timestamp_format", default_format)
    epoch = EPOCH_UNITS.get(fmt) if isinstance(fmt, str) else None
    formats = [str(fmt)] if epoch else check_formats(con, fmt, where)
    mode = opts.get("timestamps_in", "local")
    if mode not in ("local", "utc"):
        raise DialectConfigError(f"{where}: timestamps_in must be 'local' or 'utc', got {mode!r}")
    marks = opts.get("timestamp_marks", "start")
    if marks not in ("start", "end"):
        raise DialectConfigError(f"{where}: timestamp_marks must be 'start' or 'end', got {marks!r}")
    interval = _number(opts, "interval_seconds", 0, where)
    if marks == "end" and interval <= 0:
        raise DialectConfigError(f"{where}: timestamp_marks 'end' needs interval_seconds > 0 (the export interval)")
    written = check_time_options(opts, tz, where)
    if written["closing_day"] and marks != "end":
        raise DialectConfigError(f"{where}: midnight_label 'closing_day' describes interval-end stamps: "
                                 "set timestamp_marks: end and interval_seconds")
    decimal_comma = opts.get("decimal_comma", False)
    if not isinstance(decimal_comma, bool):
        raise DialectConfigError(f"{where}: decimal_comma must be true or false, got {decimal_comma!r}")
    if decimal_comma and delim == ",":
        raise DialectConfigError(f"{where}: decimal_comma needs a delimiter other than ',' (usually ';')")
    encoding = opts.get("encoding", "auto")
    if not isinstance(encoding, str):
        raise DialectConfigError(f"{where}: encoding must be a codec name or 'auto', got {encoding!r}")
    if encoding != "auto":
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise DialectConfigError(f"{where}: unknown encoding {encoding!r} (e.g. 'utf-8', 'cp1252', 'utf-16')")
    return {
        "formats": formats,
        "epoch_us": epoch,
        "mode": mode,
        "shift_us": int(round(interval * 1_000_000)) if marks == "end" else 0,
        "decimal_comma": decimal_comma,
        "scale": _number(opts, "value_scale", 1.0, where),
        "offset": _number(opts, "value_offset", 0.0, where),
        "skip_lines": _count(opts, "skip_lines", where),
        "skip_after_header": _count(opts, "skip_after_header", where),
        "encoding": None if encoding in ("auto", "utf-8") else encoding,
        **written,
    }


def ts_parse_sql(knobs: dict[str, Any], text: str) -> str:
    """SQL: the naive timestamp of a text field as written (NULL when unparseable, or when it carries a mark
    or 24:00: written_time.stamp_sql reads those from this column's NULLs)."""
    if knobs["epoch_us"]:
        parsed = (f"CASE WHEN abs(TRY_CAST({text} AS DOUBLE)) < 1e17 "
                  f"THEN make_timestamp(CAST(TRY_CAST({text} AS DOUBLE) * $epoch_us AS BIGINT)) END")
    else:
        parsed = f"try_strptime({text}, $fmt)"
    return parsed


def outside_sql(day: Any, knobs: dict[str, Any], parsed: str) -> str:
    """SQL: an unmarked stamp is outside the partition day (interval-end stamps checked on stamp - interval).
    The text dialects get this, marks included, from record_rules.timestamp_sql; mtconnect_shdr uses this."""
    x = f"({parsed} - to_microseconds($shift_us))" if knobs["shift_us"] else parsed
    return day.outside_local_sql(x) if knobs["mode"] == "local" else day.outside_utc_sql(x)


def num_text_sql(knobs: dict[str, Any], text: str) -> str:
    """SQL: a value field as number text (decimal comma turned into a point, thousands points dropped)."""
    if knobs["decimal_comma"]:
        return f"replace(replace({text}, '.', ''), ',', '.')"
    return text


def scaled_sql(knobs: dict[str, Any], num: str) -> str:
    if knobs["scale"] == 1.0 and knobs["offset"] == 0.0:
        return num
    return f"({num} * $value_scale + $value_offset)"


def knob_params(knobs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"value_scale": knobs["scale"], "value_offset": knobs["offset"],
                           "shift_us": knobs["shift_us"], **time_params(knobs)}
    if knobs["epoch_us"]:
        out["epoch_us"] = knobs["epoch_us"]
    return out


def relocate_header(con: duckdb.DuckDBPyConnection, sf: SourceFile, delim: str, skip_lines: int) -> bool:
    """Move the header to the first non-blank line after `skip_lines` physical lines; False if there is none."""
    if skip_lines <= 0:
        return bool(sf.header_line)
    rows = run_sql(
        con,
        f"SELECT source_line, line FROM {sf.lines} WHERE source_line > $skip AND {NONBLANK} ORDER BY 1 LIMIT 1",
        {"skip": skip_lines, "ws": WS},
    ) if sf.lines else []
    if not rows:
        return False
    sf.header_line, sf.header_raw = int(rows[0][0]), rows[0][1]
    sf.header = split_header(rows[0][1], delim)
    return True
