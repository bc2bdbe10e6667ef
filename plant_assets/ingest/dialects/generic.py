"""A generic long or wide CSV or Parquet dialect whose every knob is configuration: an unseen export onboards with
`plant.yaml` alone.

  layout: long   one reading a line; `columns: {tag, ts, value, quality?, svalue?}` name the header columns
  layout: wide   one row per time; `timestamp_column` names the time column, every other column is a tag

Options (`historian.options`):
  layout             "long" (default) or "wide"
  delimiter          one character (default ",")
  columns            long layout: header names (default tag/timestamp/value); ts may be a list ([Date, Time])
  timestamp_column   wide layout: the time column (default "timestamp"), or a list ([Year, Month, Day])
  ignore_columns     wide layout: columns that are not readings, quarantined cell by cell as ignored_column
  quality_mode, quality_map, digital_states   long layout quality (see long_records: none | text | code | opc)
  and the knobs of plant_assets.ingest.parsing.knobs: timestamp_format (strptime or epoch_s/epoch_ms/epoch_us),
  timestamps_in (local/utc), timestamp_marks (start/end) + interval_seconds, decimal_comma, value_scale,
  value_offset, skip_lines, skip_after_header, encoding (auto = UTF-8 with/without BOM, UTF-16, cp1252).

Parquet exports (`*.parquet`, long or wide) are read too: each is turned into text columns (a timestamp becomes
"2026-09-07 14:30:00[.ffffff]", covered by the default timestamp_format) and classified like a CSV whose line n+1 is
row n; decimal_comma, encoding and skip_* do not apply to them.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Sequence

import duckdb

from plant_assets.ingest.contract import DialectConfigError, ParsedExport
from plant_assets.ingest.dialects import aveva_wide
from plant_assets.ingest.parsing.historian_run import (
    LONG_TIME_KEY,
    WIDE_TIME_KEY,
    run_historian,
)
from plant_assets.ingest.parsing.knobs import KNOBS, parse_knobs
from plant_assets.ingest.parsing.long_records import (
    LongSpec,
    check_columns,
    check_quality,
    long_parse_file,
)
from plant_assets.ingest.parsing.options import check_delimiter, check_options

DEFAULT_COLUMNS = {"tag": "tag", "ts": "timestamp", "value": "value"}
DEFAULT_FORMAT = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"]
OPTIONS = ("layout", "delimiter", "columns", "timestamp_column", "ignore_columns", "quality_mode", "quality_map",
           "digital_states", *KNOBS)
DESCRIPTION = "Any long or wide CSV or Parquet export; every knob (columns, formats, quality) set in plant.yaml"
LONG_ONLY = ("columns", "quality_mode", "quality_map", "digital_states")


def check(plant: Any, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Validated options: {'layout': ..., 'spec': LongSpec} or {'layout': 'wide', 'wide': aveva_wide opts}."""
    where = f"{plant.plant_id}: historian.options"
    opts = dict(plant.historian.options or {})
    check_options(opts, OPTIONS, where)
    layout = opts.get("layout", "long")
    if layout not in ("long", "wide"):
        raise DialectConfigError(f"{where}: layout must be 'long' or 'wide', got {layout!r}")
    delim = check_delimiter(opts.get("delimiter", ","), where)
    knobs = parse_knobs(opts, con, where, DEFAULT_FORMAT, delim, plant.timezone)
    if layout == "wide":
        bad = sorted(set(opts) & set(LONG_ONLY))
        if bad:
            raise DialectConfigError(f"{where}: {bad} only apply to layout 'long'")
        return {"layout": "wide", "wide": {"formats": knobs["formats"], "mode": knobs["mode"], "delim": delim,
                                           **aveva_wide.check_wide_columns(opts, "timestamp", where), "knobs": knobs}}
    wide_only = sorted(set(opts) & {"timestamp_column", "ignore_columns"})
    if wide_only:
        raise DialectConfigError(f"{where}: {wide_only} only apply to layout 'wide' (the long layout names its "
                                 "columns in columns: tag, ts (a name or a list), value ...)")
    columns = check_columns({**DEFAULT_COLUMNS, **(opts.get("columns") or {})}, where)
    mode, qmap = check_quality(opts.get("quality_mode", "text" if "quality" in columns else "none"),
                               opts.get("quality_map"), where)
    if mode == "text" and not qmap:
        qmap = {"good": "good", "uncertain": "uncertain", "questionable": "uncertain", "bad": "bad"}
    states = opts.get("digital_states", ())
    if not isinstance(states, (list, tuple)) or not all(isinstance(s, str) and s.strip() for s in states):
        raise DialectConfigError(f"{where}: digital_states must be a list of non-empty strings")
    return {"layout": "long", "spec": LongSpec(columns=columns, quality_mode=mode, quality_map=qmap,
                                               digital_states=tuple(states), knobs=knobs, delim=delim)}


def _parquet_as_csv(con: duckdb.DuckDBPyConnection, path: Path, folder: Path, delim: str) -> Path:
    """A Parquet export as a CSV of the same name in `folder` (every column as text; row n = line n + 1), so it
    goes through the same classification, quarantine and reconciliation. A file DuckDB cannot read as Parquet
    is returned as is and is quarantined as unreadable."""
    import pyarrow.csv as pacsv

    try:
        table = con.sql("SELECT COLUMNS(*)::VARCHAR FROM read_parquet($p)", params={"p": str(path)}).to_arrow_table()
    except duckdb.Error:
        return path
    out = folder / path.name
    pacsv.write_csv(table, out, pacsv.WriteOptions(delimiter=delim, quoting_style="needed"))
    return out


def parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> ParsedExport:
    """Parse a plant-day of generic long or wide CSV (or Parquet: `*.parquet`) exports."""
    cfg = check(plant, con)
    parquet = [Path(f) for f in files if str(f).lower().endswith(".parquet") and Path(f).is_file()]
    if parquet:
        delim = cfg["wide"]["delim"] if cfg["layout"] == "wide" else cfg["spec"].delim
        with tempfile.TemporaryDirectory(prefix="pa-parquet-") as tmp:
            converted = {str(f): _parquet_as_csv(con, f, Path(tmp), delim) for f in parquet}
            return _parse(plant, [converted.get(str(Path(f)), f) for f in files], day, con, cfg)
    return _parse(plant, files, day, con, cfg)


def _parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection,
           cfg: dict[str, Any]) -> ParsedExport:
    if cfg["layout"] == "wide":
        wide = cfg["wide"]
        return run_historian(plant, files, day, con, wide["delim"], aveva_wide.wide_parse_file(wide), fold_key="0",
                             time_key=WIDE_TIME_KEY, encoding=wide["knobs"]["encoding"],
                             shift_us=wide["knobs"]["shift_us"])
    spec = cfg["spec"].with_units(plant)
    return run_historian(plant, files, day, con, spec.delim, long_parse_file(spec), encoding=spec.knobs["encoding"],
                         time_key=LONG_TIME_KEY,
                         shift_us=spec.knobs["shift_us"])
