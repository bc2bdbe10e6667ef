"""MTConnect agent logs in SHDR form (e.g. the NIST Smart Manufacturing test bed): `timestamp|dataItem|value`.

One event a line, no header, `|`-separated, no quoting. Event-driven: an item's value holds until its next
event, and nothing here resamples. The data item name is the tag (matched exactly, as MTConnect names are).

  2018-07-10T10:18:44.365Z|Sload|31                         a sample: a number (load %, speed, temperature ...)
  2018-07-10T10:18:44.365Z|execution|ACTIVE                 an event of a text item (`text_items`)
  2018-07-10T10:40:23.994Z|system_cond|Warning|1105|||SAFETY SHIELD CALCULATING
                                                            a condition: level|native_code|native_severity|
                                                            qualifier|message (7 fields)
  2018-07-10T19:06:02.782736Z|Sload|UNAVAILABLE              the agent does not know the value

What a line becomes (every line is accepted or quarantined with a reason):
- a number: `value`, quality good;
- a value in `unavailable_values` (any item, any kind; case-insensitive): quality bad, value NULL, the text in
  status_text, like a PI digital state;
- an item in `text_items` (enumerated states such as `execution` ACTIVE / READY / STOPPED / FEED_HOLD /
  INTERRUPTED, `mode`, `power`): a **text value**: quality good, value NULL, the text as written in status_text
  (docs/contracts.md); a text on any other item is `bad_value` (so a load never silently becomes text);
- a condition line of a mapped item: level Normal / Warning / Fault is a text value whose status_text is the
  condition's fields as written, level first (`Warning|1105|||SAFETY SHIELD CALCULATING`); level Unavailable
  is quality bad; another level is `bad_value`;
- another number of fields: `malformed_row`; an item not in the tag map: `unknown_tag`.

A file opens with the agent's current state of every item under older timestamps (when each value was last
set). With `initial_state: carry` (the default) the latest line of each item before the partition day is that
item's value at the day's first instant, so it is accepted at the day's start (source_line still names the
line it came from) unless the item has an event at exactly that instant; the item's older lines are
`outside_partition_day`. Of lines of one item at one instant the first is kept, the others are `duplicate` (a
condition that raises one native code and clears another at the same instant says so in its reason). `initial_state: quarantine` makes every line before the day `outside_partition_day`.

SHDR's several `item|value` pairs on one line, and the MESSAGE / TIME_SERIES / asset layouts, are not read
(`malformed_row` names the field count).

Options (`historian.options`): text_items, unavailable_values, initial_state, and the knobs timestamp_format
(ISO-8601 with or without fraction and Z), timestamps_in (default "utc", as agents write), value_scale,
value_offset, skip_lines, encoding (plant_assets.ingest.parsing.knobs).
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
from plant_assets.ingest.parsing.knobs import knob_params, outside_sql, parse_knobs, scaled_sql, ts_parse_sql
from plant_assets.ingest.parsing.options import check_options
from plant_assets.ingest.parsing.stream_run import StreamRun

DELIMITER = "|"
# The names the NIST Mazak agent gives the EXECUTION, CONTROLLER_MODE, POWER_STATE, EMERGENCY_STOP and PROGRAM
# items; another agent's names go in historian.options.text_items.
DEFAULT_TEXT_ITEMS = ("execution", "mode", "power", "estop", "program")
DEFAULT_UNAVAILABLE = ("UNAVAILABLE",)
CONDITION_LEVELS = ("normal", "warning", "fault")
INITIAL_STATE = ("carry", "quarantine")
DEFAULT_FORMATS = ["%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"]
KNOB_OPTIONS = ("timestamp_format", "timestamps_in", "value_scale", "value_offset", "skip_lines", "encoding")
OPTIONS = ("text_items", "unavailable_values", "initial_state", *KNOB_OPTIONS)
DESCRIPTION = ("MTConnect agent log (SHDR): timestamp, data item, value (or condition fields), an event a line; "
               "text states kept")
SAMPLE_FIELDS, CONDITION_FIELDS = 3, 7


def _names(opts: dict[str, Any], key: str, default: Sequence[str], where: str) -> list[str]:
    names = opts.get(key, list(default))
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and n.strip() for n in names):
        raise contract.DialectConfigError(f"{where}: {key} must be a list of non-empty strings, got {names!r}")
    return [n.strip() for n in names]


def spec(plant: Any, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The validated options (a DialectConfigError names the plant and the option)."""
    where = f"{plant.plant_id}: historian.options"
    opts = dict(plant.historian.options or {})
    check_options(opts, OPTIONS, where)
    opts.setdefault("timestamps_in", "utc")
    initial = opts.get("initial_state", "carry")
    if initial not in INITIAL_STATE:
        raise contract.DialectConfigError(f"{where}: initial_state must be one of {list(INITIAL_STATE)}, got {initial!r}")
    return {
        "text_items": _names(opts, "text_items", DEFAULT_TEXT_ITEMS, where),
        "unavailable": sorted({v.lower() for v in _names(opts, "unavailable_values", DEFAULT_UNAVAILABLE, where)}),
        "carry": initial == "carry",
        "knobs": parse_knobs(opts, con, where, DEFAULT_FORMATS, DELIMITER),
    }


def _rules(day: Any, mode: str) -> list[record_rules.Rule]:
    return [
        record_rules.Rule(f"nf NOT IN ({SAMPLE_FIELDS}, {CONDITION_FIELDS})", contract.MALFORMED_ROW,
                          f"format('line has {{}} fields; an SHDR line has {SAMPLE_FIELDS} (timestamp|item|value) or "
                          f"{CONDITION_FIELDS} (a condition: timestamp|item|level|native_code|native_severity|"
                          f"qualifier|message)', nf)"),
        record_rules.Rule("tag_idx IS NULL", contract.UNKNOWN_TAG,
                          "format('tag ''{}'' is not in the tag map of {}', tag, $plant_id)"),
        *record_rules.timestamp_rules(day, mode, "ts_parsed", "ts_text"),
        # A condition item can raise or clear several native codes at one instant; the lake keeps one reading
        # per item and instant (the first, as for any repeated key).
        record_rules.Rule(f"nf = {CONDITION_FIELDS} AND source_line > first_at_instant", contract.DUPLICATE,
                          "format('data item ''{}'' has another condition at the same instant {} (line {}); one "
                          "reading per item and instant is kept, the first', tag, ts_text, first_at_instant)"),
        record_rules.Rule(f"nf = {CONDITION_FIELDS} AND NOT is_unavailable "
                          f"AND list_position($levels::VARCHAR[], lower(v_text)) IS NULL", contract.BAD_VALUE,
                          "format('condition level ''{}'' of data item ''{}'' is not Normal, Warning, Fault or "
                          "Unavailable', v_text, tag)"),
        record_rules.Rule("kind = 'number' AND v_text = ''", contract.BAD_VALUE,
                          "format('value of data item ''{}'' is empty', tag)"),
        record_rules.Rule("kind = 'number' AND v_num IS NULL AND NOT is_unavailable", contract.BAD_VALUE,
                          "format('value ''{}'' of data item ''{}'' is not a number (an item that carries text "
                          "states belongs in historian.options.text_items)', v_text, tag)"),
        record_rules.Rule("kind = 'number' AND NOT isfinite(v_num)", contract.BAD_VALUE,
                          "format('value ''{}'' of data item ''{}'' is not a finite number', v_text, tag)"),
    ]


def _parse_file(s: dict[str, Any]):
    knobs = s["knobs"]

    def parse_file(run: StreamRun, sf: source_files.SourceFile) -> str | None:
        ts = record_rules.timestamp_sql(run.day, knobs["mode"], "ts_parsed")
        before = "ts_parsed < $tz_l0" if knobs["mode"] == "local" else "ts_parsed < $tz_u0"
        number, code, detail = record_rules.rule_sql(_rules(run.day, knobs["mode"]))
        # The latest well-formed line of each mapped item before the day carries its value into the day.
        carry = ("""(candidate AND NOT at_day_start
                     AND row_number() OVER (PARTITION BY tag_idx, candidate
                                            ORDER BY ts_parsed DESC, source_line) = 1)"""
                 if s["carry"] else "false")
        # No quoting in SHDR: a plain split keeps every field as written (a message may start with a space).
        sql = f"""
        INSERT INTO {run.cls} (rid, tag_idx, ts_utc, value, quality, status_text, raw_record, reason_code,
                               reason_detail, fold_local, fold_off2, fold_line)
        WITH p AS (
            SELECT source_line, line, string_split(line, '{DELIMITER}') AS f
            FROM {source_files.SRC} WHERE source_line > $skip_lines AND {source_files.NONBLANK}
        ), q AS (
            SELECT source_line, line, f, len(f) AS nf, trim(f[1], $ws) AS ts_text, trim(f[2], $ws) AS tag,
                   trim(coalesce(f[3], ''), $ws) AS v_text
            FROM p
        ), r AS (
            SELECT q.*, {run.tag_lookup('q.tag')} AS tag_idx, {ts_parse_sql(knobs, 'ts_text')} AS ts_parsed,
                   CASE WHEN nf = {CONDITION_FIELDS} THEN 'condition'
                        WHEN list_position($text_items::VARCHAR[], tag) IS NOT NULL THEN 'text'
                        ELSE 'number' END AS kind,
                   list_position($unavailable::VARCHAR[], lower(v_text)) IS NOT NULL AS is_unavailable,
                   {source_files.num_sql('v_text')} AS v_num
            FROM q
        ), w AS (
            SELECT r.*, coalesce({before}, false) AND nf IN ({SAMPLE_FIELDS}, {CONDITION_FIELDS})
                        AND tag_idx IS NOT NULL AS candidate,
                   coalesce(bool_or({ts['ts_utc']} = $tz_u0) OVER (PARTITION BY tag_idx), false) AS at_day_start,
                   min(source_line) OVER (PARTITION BY tag_idx, ts_parsed, nf) AS first_at_instant
            FROM r
        ), t AS (
            SELECT w.*, {carry} AS carried FROM w
        ), u AS (
            SELECT t.*, {ts['ts_local']} AS ts_local,
                   CASE WHEN carried THEN $tz_u0::TIMESTAMP ELSE {ts['ts_utc']} END AS ts_utc,
                   {ts['in_gap']} AND NOT carried AS in_gap,
                   {outside_sql(run.day, knobs, 'ts_parsed')} AND NOT carried AS outside,
                   CASE WHEN NOT carried THEN {ts['off2']} END AS off2
            FROM t
        ), c AS (
            SELECT u.*, {number} AS rule_no,
                   CASE WHEN is_unavailable THEN 'bad' ELSE 'good' END AS quality
            FROM u
        )
        SELECT {rid_sql('$file_idx', 'source_line')}, tag_idx, ts_utc,
               CASE WHEN kind = 'number' AND NOT is_unavailable THEN {scaled_sql(knobs, 'v_num')} END, quality,
               CASE WHEN is_unavailable OR kind = 'text' THEN v_text
                    WHEN kind = 'condition' THEN array_to_string(f[3:], '{DELIMITER}') END,
               CASE WHEN rule_no IS NOT NULL THEN {source_files.raw_sql()} END, {code}, {detail},
               CASE WHEN off2 IS NOT NULL THEN ts_local END, off2, CASE WHEN off2 IS NOT NULL THEN line END
        FROM c ORDER BY source_line"""
        params = {
            **record_rules.day_params(run.day, knobs["formats"]),
            **knob_params(knobs),
            "file_idx": sf.idx,
            "skip_lines": knobs["skip_lines"],
            "plant_id": run.plant_id,
            "text_items": s["text_items"],
            "unavailable": s["unavailable"],
            "levels": list(CONDITION_LEVELS),
            "ws": source_files.WS,
        }
        run.insert(sf, sql, params)
        return None

    return parse_file


def parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> contract.ParsedExport:
    """Parse a plant-day of MTConnect SHDR agent logs."""
    s = spec(plant, con)
    return run_historian(plant, files, day, con, DELIMITER, _parse_file(s), encoding=s["knobs"]["encoding"],
                         time_key=LONG_TIME_KEY)
