"""AVEVA (Wonderware) Historian WideHistory: `DateTime,<tag>,<tag>,...`, one row per retrieval cycle.

Every (line, tag column) cell is one record. An empty cell means "no value": it is accepted with
quality 'bad', value NULL and status_text 'No Data'. A cell of a column whose tag is not in the tag map is
`unknown_tag`; a row with a bad timestamp or outside the day quarantines all of its cells; a row whose field
count differs from the header is `malformed_row` for every tag column.

Options (`historian.options`):
  timestamp_format   strptime format or list of formats; default "%Y-%m-%d %H:%M:%S.%g"
  timestamps_in      "local" (server local time = plant time zone, default) or "utc"
  delimiter          default ","
  timestamp_column   name of the time column; default "DateTime"; or a list of columns read joined by a space
                     (a date and a time column, or year, month and day)
  ignore_columns     header names whose cells are not readings (a row counter, a comment): each cell is
                     quarantined as `ignored_column`, so raw = accepted + quarantined still holds
  zone_abbreviations abbreviation -> UTC offset; stamps may end with one or with an offset (see
                     plant_assets.ingest.parsing.written_time)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Sequence

import duckdb

from plant_assets.ingest import contract
from plant_assets.ingest.parsing import record_rules, source_files
from plant_assets.ingest.parsing.classify import rid_sql
from plant_assets.ingest.parsing.historian_run import WIDE_TIME_KEY, run_historian
from plant_assets.ingest.parsing.knobs import (
    knob_params,
    num_text_sql,
    relocate_header,
    scaled_sql,
    ts_parse_sql,
)
from plant_assets.ingest.parsing.options import (
    check_delimiter,
    check_formats,
    check_options,
    timestamps_in,
)
from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.stream_run import StreamRun
from plant_assets.ingest.parsing.written_time import (
    check_time_options,
    joined_sql,
    stamp_sql,
)

OPTIONS = ("timestamp_format", "timestamps_in", "delimiter", "timestamp_column", "ignore_columns",
           "zone_abbreviations")
DESCRIPTION = "AVEVA (Wonderware) Historian `WideHistory`: DateTime, then a column per tag; a row per cycle"
MAX_COLUMNS = 65535
NO_DATA = "No Data"


def check_wide_columns(opts: dict[str, Any], default_ts: str, where: str) -> dict[str, Any]:
    """timestamp_column (a name or a list of names) and ignore_columns of a wide export."""
    ts_col = opts.get("timestamp_column", default_ts)
    ts_cols = ts_col if isinstance(ts_col, list) and 1 <= len(ts_col) <= 6 else [ts_col]
    if not all(isinstance(c, str) and c.strip() for c in ts_cols):
        raise contract.DialectConfigError(f"{where}: timestamp_column must be a column name or a list of up to 6 "
                                          f"(e.g. [Year, Month, Day]), got {ts_col!r}")
    ignore = opts.get("ignore_columns", [])
    # "" names a column whose header is empty (e.g. a pandas row index written without a name)
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        raise contract.DialectConfigError(f"{where}: ignore_columns must be a list of header names, got {ignore!r}")
    return {"ts_cols": [c.strip() for c in ts_cols], "ignore": [c.strip() for c in ignore]}


def _options(plant: Any, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    where = f"{plant.plant_id}: historian.options"
    opts = dict(plant.historian.options or {})
    check_options(opts, OPTIONS, where)
    formats = check_formats(con, opts.get("timestamp_format", "%Y-%m-%d %H:%M:%S.%g"), where)
    return {
        "formats": formats,
        "mode": timestamps_in(opts, where),
        "delim": check_delimiter(opts.get("delimiter", ","), where),
        **check_wide_columns(opts, "DateTime", where),
        "knobs": {**plain_knobs(formats, timestamps_in(opts, where)),
                  **check_time_options(opts, plant.timezone, where)},
    }


def plain_knobs(formats: list[str], mode: str) -> dict[str, Any]:
    """The knobs of plant_assets.ingest.parsing.knobs at their defaults (what a WideHistory export needs)."""
    return {"formats": formats, "epoch_us": None, "mode": mode, "shift_us": 0, "decimal_comma": False,
            "scale": 1.0, "offset": 0.0, "skip_lines": 0, "skip_after_header": 0, "encoding": None}


def wide_parse_file(opts: dict[str, Any]):
    """The per-file step of a wide export (this dialect, and generic's layout wide): a record per (line, tag) cell."""
    knobs = opts["knobs"]

    def parse_file(run: StreamRun, sf: source_files.SourceFile) -> str | None:
        if not relocate_header(run.con, sf, opts["delim"], knobs["skip_lines"]):
            return f"no header line after the {knobs['skip_lines']} preamble line(s)"
        pos, missing = source_files.find_columns(sf.header, {f"ts{i}": c for i, c in enumerate(opts["ts_cols"])})
        if missing:
            return (
                f"header {source_files.short(', '.join(sf.header))!r} has no {' or '.join(map(repr, missing))} column"
                + source_files.delimiter_hint(sf.header_raw, opts["delim"])
            )
        ts_pos = [pos[f"ts{i}"] for i in range(len(opts["ts_cols"]))]
        ignored = {c.lower() for c in opts["ignore"]}
        names = list(sf.header)
        if len(names) > 1 and names[-1] == "":
            names.pop()  # a trailing delimiter on every line is not a tag column
        tag_cols = [(i + 1, name) for i, name in enumerate(names) if i + 1 not in ts_pos]
        if not tag_cols:
            return f"header {source_files.short(', '.join(sf.header))!r} has no tag columns" + source_files.delimiter_hint(
                sf.header_raw, opts["delim"]
            )
        if len(tag_cols) > MAX_COLUMNS:
            return f"header has {len(tag_cols)} tag columns; at most {MAX_COLUMNS} are supported"
        if len({t for _, t in tag_cols}) < len(tag_cols):
            run.force_dedup = True  # a tag twice in one header: its cells share (tag, ts_utc)
        known = dict(run_sql(run.con, f"SELECT source_tag, tag_idx FROM {run.tags}"))
        col_pos = [p for p, _ in tag_cols]
        col_tag = [t for _, t in tag_cols]
        col_idx = [known.get(t) for t in col_tag]
        col_ign = [t.lower() in ignored for t in col_tag]

        ts = record_rules.timestamp_sql(run.day, opts["mode"], "ts_parsed", "ts_mark", bool(knobs["shift_us"]))
        rules = [
            record_rules.Rule("f IS NULL", contract.MALFORMED_ROW,
                 "format('unbalanced quotes: the line cannot be split into fields (tag column {} ''{}'')', pos, tag)"),
            record_rules.Rule("nf <> $nf", contract.MALFORMED_ROW,
                 "format('line has {} fields, the header has {}: cannot locate tag column {} ''{}''', "
                 "nf, $nf, pos, tag)"),
            record_rules.Rule("ignored", contract.IGNORED_COLUMN,
                 "format('column {} ''{}'' is in ignore_columns of {}', pos, tag, $plant_id)"),
            record_rules.Rule("tag_idx IS NULL", contract.UNKNOWN_TAG,
                 "format('tag ''{}'' (column {}) is not in the tag map of {}', tag, pos, $plant_id)"),
            *record_rules.timestamp_rules(run.day, opts["mode"], "ts_parsed", "ts_text", "ts_mark"),
            record_rules.Rule("v_num IS NULL AND cell <> ''", contract.BAD_VALUE,
                 "format('value ''{}'' of tag ''{}'' is not a number', cell, tag)"),
            record_rules.Rule("NOT isfinite(v_num)", contract.BAD_VALUE,
                 "format('value ''{}'' of tag ''{}'' is not a finite number', cell, tag)"),
        ]
        _, code, detail = record_rules.rule_sql(rules)
        # Rules 1, 2 and 5-7 are about the line: decided once per line, then per cell only 3, 4, 8 and 9.
        line_rule = (
            f"CASE WHEN f IS NULL THEN 1 WHEN nf <> $nf THEN 2 WHEN ts_parsed IS NULL THEN 5 "
            f"WHEN {ts['in_gap']} THEN 6 WHEN {ts['outside']} THEN 7 END"
        )
        cell_rule = (
            "CASE WHEN line_rule <= 2 THEN line_rule WHEN ignored THEN 3 WHEN tag_idx IS NULL THEN 4 "
            "WHEN line_rule IS NOT NULL THEN line_rule WHEN v_num IS NULL AND cell <> '' THEN 8 "
            "WHEN NOT isfinite(v_num) THEN 9 END"
        )
        assert [r.code for r in rules] == [contract.MALFORMED_ROW, contract.MALFORMED_ROW, contract.IGNORED_COLUMN,
                                           contract.UNKNOWN_TAG, contract.BAD_TIMESTAMP, contract.BAD_TIMESTAMP,
                                           contract.OUTSIDE_PARTITION_DAY, contract.BAD_VALUE, contract.BAD_VALUE]
        sql = f"""
        INSERT INTO {run.cls} (rid, tag_idx, ts_utc, value, quality, status_text, raw_record, reason_code,
                               reason_detail, fold_local, fold_off2, fold_line)
        WITH s AS (
            SELECT source_line, line, {source_files.split_fields_sql()} AS f
            FROM {source_files.SRC} WHERE source_line > $data_after AND {source_files.NONBLANK}
        ), r0 AS (
            SELECT source_line, line, f, len(f) AS nf,
                   {joined_sql([source_files.field_sql('f', p) for p in ts_pos])} AS ts_text
            FROM s
        ), r1 AS (
            SELECT r0.*, {ts_parse_sql(knobs, 'ts_text')} AS ts_plain FROM r0
        ), r AS (
            SELECT r1.*, {stamp_sql(knobs, 'ts_text', 'ts_plain')} FROM r1
        ), t AS (
            SELECT source_line, f, nf, ts_text, ts_parsed, ts_mark, {ts['ts_utc']} AS ts_utc, {line_rule} AS line_rule,
                   {ts['off2']} AS off2,
                   {ts['fold_local']} AS fold_local,
                   CASE WHEN {ts['off2']} IS NOT NULL OR {line_rule} <= 2 THEN line END AS line
            FROM r
        ), u AS (
            SELECT t.*, unnest(range(1, $ncols + 1))::INTEGER AS sub FROM t
        ), c AS (
            SELECT u.*, ($col_pos::INTEGER[])[sub] AS pos, ($col_tag::VARCHAR[])[sub] AS tag,
                   ($col_idx::INTEGER[])[sub] AS tag_idx, f[($col_pos::INTEGER[])[sub]] AS cell,
                   ($col_ign::BOOLEAN[])[sub] AS ignored
            FROM u
        ), c2 AS (
            SELECT c.*, {source_files.num_sql(num_text_sql(knobs, 'cell'))} AS v_num FROM c
        ), d AS (
            SELECT c2.*, {cell_rule} AS rule_no FROM c2
        )
        SELECT {rid_sql('$file_idx', 'source_line', 'sub')}, tag_idx, ts_utc, {scaled_sql(knobs, 'v_num')},
               CASE WHEN v_num IS NULL THEN 'bad' ELSE 'good' END, CASE WHEN v_num IS NULL THEN $no_data END,
               CASE WHEN rule_no > 2 THEN format('{{}}={{}}; {{}}={{}}', $ts_col, ts_text, tag, cell)
                    WHEN rule_no IS NOT NULL THEN {source_files.raw_sql()} END,
               {code}, {detail}, fold_local, off2, CASE WHEN off2 IS NOT NULL THEN line END
        FROM d"""
        params = {
            **source_files.split_params(opts["delim"]),
            **record_rules.day_params(run.day, opts["formats"]),
            "file_idx": sf.idx,
            "data_after": sf.header_line + knobs["skip_after_header"],
            **knob_params(knobs),
            "nf": len(sf.header),
            "plant_id": run.plant_id,
            "no_data": NO_DATA,
            "ts_col": "+".join(sf.header[p - 1] for p in ts_pos),
            "ncols": len(tag_cols),
            "col_pos": col_pos,
            "col_tag": col_tag,
            "col_idx": col_idx,
            "col_ign": col_ign,
            "ws": source_files.WS,
        }
        run.insert(sf, sql, params)
        return None

    return parse_file


def parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> contract.ParsedExport:
    """Parse a plant-day of AVEVA WideHistory exports (one record per (row, tag) cell)."""
    opts = _options(plant, con)
    # All cells of a line share its timestamp: a DST fold is resolved per file, not per tag.
    return run_historian(
        plant, files, day, con, opts["delim"], wide_parse_file(opts), fold_key="0", time_key=WIDE_TIME_KEY,
        encoding=opts["knobs"]["encoding"], shift_us=opts["knobs"]["shift_us"],
    )
