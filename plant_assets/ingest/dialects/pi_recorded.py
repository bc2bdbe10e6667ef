"""OSIsoft / AVEVA PI recorded values (PI DataLink style): `Tag,Timestamp,Value,Status`, one reading a line.

Options (`historian.options`):
  timestamp_format  strptime format or list of formats tried in order; default "%d-%b-%Y %H:%M:%S"
  timestamps_in     "local" (plant time zone, default) or "utc"
  delimiter         default ","
  digital_states    digital state strings accepted as quality 'bad' (value NULL, status_text = the state);
                    default DEFAULT_DIGITAL_STATES; matched case-insensitively
  status_quality    Status -> good/uncertain/bad; default DEFAULT_STATUS_QUALITY, case-insensitive.
                    An empty Status (or no Status column) is 'good'; a Status not in the map is 'uncertain'.
  columns           header names {tag, ts, value, status}; default Tag, Timestamp, Value, Status (so a
                    `Tag,Time,Value,Status` export reads with columns: {ts: Time}); ts may be a list ([Date, Time])
  and the knobs of plant_assets.ingest.parsing.knobs (zone_abbreviations: stamps such as
  `01-Nov-2026 01:30:00 CST` or with an offset are read as their instant, whatever the row order;
  timestamp_marks / interval_seconds / midnight_label, decimal_comma, value_scale, skip_lines, encoding ...).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Sequence

import duckdb

from plant_assets.ingest import contract
from plant_assets.ingest.parsing import record_rules, source_files
from plant_assets.ingest.parsing.classify import rid_sql
from plant_assets.ingest.parsing.historian_run import LONG_TIME_KEY, run_historian
from plant_assets.ingest.parsing.knobs import (
    KNOBS,
    knob_params,
    num_text_sql,
    parse_knobs,
    relocate_header,
    scaled_sql,
    ts_parse_sql,
)
from plant_assets.ingest.parsing.long_records import check_columns, ts_keys
from plant_assets.ingest.parsing.options import (
    check_delimiter,
    check_options,
    quality_map,
)
from plant_assets.ingest.parsing.stream_run import StreamRun
from plant_assets.ingest.parsing.written_time import joined_sql, stamp_sql

DEFAULT_DIGITAL_STATES = (
    "I/O Timeout",
    "Bad Input",
    "Shutdown",
    "No Data",
    "Over Range",
    "Under Range",
    "Pt Created",
    "Intf Shut",
    "Arc Off-line",
    "Bad",
    "Scan Off",
    "Comm Fail",
    "Configure",
    "Calc Failed",
    "No Result",
)
DEFAULT_STATUS_QUALITY = {"good": "good", "questionable": "uncertain", "substituted": "uncertain", "bad": "bad"}
OPTIONS = ("delimiter", "digital_states", "status_quality", "columns", *KNOBS)
DESCRIPTION = "OSIsoft / AVEVA PI recorded values (PI DataLink): Tag, Timestamp, Value, Status, a reading a line"
COLUMNS = {"tag": "Tag", "ts": "Timestamp", "value": "Value", "status": "Status"}


def _options(plant: Any, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    where = f"{plant.plant_id}: historian.options"
    opts = dict(plant.historian.options or {})
    check_options(opts, OPTIONS, where)
    states = opts.get("digital_states", DEFAULT_DIGITAL_STATES)
    if not isinstance(states, (list, tuple)) or not all(isinstance(s, str) and s.strip() for s in states):
        raise contract.DialectConfigError(f"{where}: digital_states must be a list of non-empty strings, got {states!r}")
    status = quality_map(opts.get("status_quality"), DEFAULT_STATUS_QUALITY, f"{where}.status_quality")
    lowered = {k.strip().lower(): v for k, v in status.items()}
    # Exact spellings first (cheap), the case-insensitive lookup only for the rest.
    exact = {}
    for key, quality in status.items():
        for spelling in (key, key.strip(), key.lower(), key.upper(), key.title(), key.capitalize()):
            exact.setdefault(spelling, lowered[key.strip().lower()])
    delim = check_delimiter(opts.get("delimiter", ","), where)
    knobs = parse_knobs(opts, con, where, "%d-%b-%Y %H:%M:%S", delim, plant.timezone)
    return {
        "formats": knobs["formats"],
        "mode": knobs["mode"],
        "knobs": knobs,
        "columns": check_columns({**COLUMNS, **(opts.get("columns") or {})}, where, optional=("status",)),
        "delim": delim,
        "states": sorted({s.strip().lower() for s in states}),
        "status_exact_keys": list(exact),
        "status_exact_vals": list(exact.values()),
        "status_keys": list(lowered),
        "status_vals": list(lowered.values()),
    }


def _parse_file(opts: dict[str, Any]):
    def parse_file(run: StreamRun, sf: source_files.SourceFile) -> str | None:
        knobs, columns = opts["knobs"], opts["columns"]
        if not relocate_header(run.con, sf, opts["delim"], knobs["skip_lines"]):
            return f"no header line after the {knobs['skip_lines']} preamble line(s)"
        pos, missing = source_files.find_columns(sf.header, columns)
        if set(missing) - {columns.get("status")}:
            return (
                f"header {source_files.short(', '.join(sf.header))!r} lacks column(s) {missing}; expected "
                f"{','.join(columns.values())} (historian.options.columns names them)"
                + source_files.delimiter_hint(sf.header_raw, opts["delim"])
            )
        ts = record_rules.timestamp_sql(run.day, opts["mode"], "ts_parsed", "ts_mark", bool(knobs["shift_us"]))
        rules = [
            record_rules.Rule("f IS NULL", contract.MALFORMED_ROW, "'unbalanced quotes: the line cannot be split into fields'"),
            record_rules.Rule("nf <> $nf", contract.MALFORMED_ROW, "format('line has {} fields, the header has {}', nf, $nf)"),
            record_rules.Rule("tag_idx IS NULL", contract.UNKNOWN_TAG, "format('tag ''{}'' is not in the tag map of {}', tag, $plant_id)"),
            *record_rules.timestamp_rules(run.day, opts["mode"], "ts_parsed", "ts_text", "ts_mark"),
            record_rules.Rule("v_text = ''", contract.BAD_VALUE, "'value is empty'"),
            record_rules.Rule("v_num IS NULL AND NOT is_state", contract.BAD_VALUE,
                 "format('value ''{}'' is neither a number nor a known digital state', v_text)"),
            record_rules.Rule("NOT isfinite(v_num)", contract.BAD_VALUE, "format('value ''{}'' is not a finite number', v_text)"),
        ]
        number, code, detail = record_rules.rule_sql(rules)
        tag_idx = run.tag_lookup("p.tag")
        sql = f"""
        INSERT INTO {run.cls} (rid, tag_idx, ts_utc, value, quality, status_text, raw_record, reason_code,
                               reason_detail, fold_local, fold_off2, fold_line)
        WITH s AS (
            SELECT source_line, line, {source_files.split_fields_sql()} AS f
            FROM {source_files.SRC} WHERE source_line > $data_after AND {source_files.NONBLANK}
        ), p AS (
            SELECT source_line, line, f, len(f) AS nf,
                   {source_files.field_sql('f', pos['tag'])} AS tag,
                   {joined_sql([source_files.field_sql('f', pos[k]) for k in ts_keys(columns)])} AS ts_text,
                   {source_files.field_sql('f', pos['value'])} AS v_text, {source_files.field_sql('f', pos.get('status'))} AS st_text
            FROM s
        ), q0 AS (
            SELECT p.*, {tag_idx} AS tag_idx, {ts_parse_sql(knobs, 'ts_text')} AS ts_plain,
                   {source_files.num_sql(num_text_sql(knobs, 'v_text'))} AS v_num
            FROM p
        ), q AS (
            SELECT q0.*, {stamp_sql(knobs, 'ts_text', 'ts_plain')} FROM q0
        ), r AS (
            SELECT q.*, {ts['ts_local']} AS ts_local, {ts['ts_utc']} AS ts_utc, {ts['in_gap']} AS in_gap,
                   {ts['outside']} AS outside, {ts['off2']} AS off2,
                   CASE WHEN v_num IS NULL THEN list_position($states::VARCHAR[], lower(v_text)) IS NOT NULL ELSE false END
                       AS is_state
            FROM q
        ), c AS (
            SELECT r.*, {number} AS rule_no,
                   CASE WHEN is_state THEN 'bad'
                        WHEN st_text IS NULL OR st_text = '' THEN 'good'
                        ELSE coalesce(($status_exact_vals::VARCHAR[])[list_position($status_exact_keys::VARCHAR[],
                                                                                     st_text)],
                                      ($status_vals::VARCHAR[])[list_position($status_keys::VARCHAR[],
                                                                               lower(st_text))],
                                      'uncertain')
                   END AS quality
            FROM r
        )
        SELECT {rid_sql('$file_idx', 'source_line')}, tag_idx, ts_utc,
               CASE WHEN quality = 'bad' THEN NULL ELSE {scaled_sql(knobs, 'v_num')} END, quality,
               CASE WHEN is_state THEN v_text ELSE nullif(st_text, '') END,
               CASE WHEN rule_no IS NOT NULL THEN {source_files.raw_sql()} END, {code}, {detail},
               {ts['fold_local']}, off2, CASE WHEN off2 IS NOT NULL THEN line END
        FROM c"""
        params = {
            **source_files.split_params(opts["delim"]),
            **record_rules.day_params(run.day, opts["formats"]),
            **knob_params(knobs),
            "file_idx": sf.idx,
            "data_after": sf.header_line + knobs["skip_after_header"],
            "nf": len(sf.header),
            "plant_id": run.plant_id,
            **{k: opts[k] for k in ("states", "status_exact_keys", "status_exact_vals", "status_keys", "status_vals")},
            "ws": source_files.WS,
        }
        run.insert(sf, sql, params)
        return None

    return parse_file


def parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> contract.ParsedExport:
    """Parse a plant-day of PI recorded-values exports."""
    opts = _options(plant, con)
    return run_historian(plant, files, day, con, opts["delim"], _parse_file(opts), time_key=LONG_TIME_KEY,
                         encoding=opts["knobs"]["encoding"], shift_us=opts["knobs"]["shift_us"])
