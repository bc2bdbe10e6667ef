"""Plant event exports: production runs and downtime events, with plant-local column names.

Each file holds the events that **start** in the plant-local production day. The plant's EventExport says
the delimiter, the timestamp format, whether timestamps are local or UTC and which local column holds each
canonical field (`columns`); downtime categories map to planned/unplanned through `category_map`
(a label not in the map is accepted when it already is 'planned' or 'unplanned', any case).

Checks, first failing one wins:
  malformed_row          unbalanced quotes, or a field count different from the header's
  bad_timestamp          start or end unparseable / in a DST gap; end before start (an empty end = open event)
  outside_partition_day  start outside the plant-local day
  bad_value              unknown line; runs: empty order id, unknown product, quantity not a number >= 0;
                         downtime: category not mappable
  duplicate              runs: same (order_id, line_id, start_utc); downtime: same (line_id, start_utc)

A start in a DST fold is resolved per line in file order (see base.resolve_fold); an ambiguous end takes the
earliest of its two instants that is not before the start. An end is converted with the offsets of the days it
may fall on (END_WINDOW_DAYS from the start day), not the start day's: an order that starts the evening before
the clocks change and ends the next morning ends at its true UTC instant.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal, Sequence

import duckdb

from plant_assets.ingest import contract
from plant_assets.ingest.parsing import source_files
from plant_assets.ingest.parsing.classify import resolve_fold, rid_sql
from plant_assets.ingest.parsing.local_day import LocalDay
from plant_assets.ingest.parsing.options import check_delimiter, check_formats
from plant_assets.ingest.parsing.record_rules import (
    Rule,
    day_params,
    rule_sql,
    timestamp_sql,
)
from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.stream_run import StreamRun, run_stream

# How far after its start day an event's end is converted with the right offset (a longer event's end takes
# the offset of the window's last local day).
END_WINDOW_DAYS = 8


def end_window(day: LocalDay) -> LocalDay:
    return LocalDay(day.tz_name, day.day, days=END_WINDOW_DAYS)


EventKind = Literal["production_runs", "downtime_events"]

EVENT_CLS_DDL = """rid BIGINT, order_id VARCHAR, line_id VARCHAR, product_code VARCHAR,
    start_utc TIMESTAMP, end_utc TIMESTAMP, end_local TIMESTAMP, end_off2 INTEGER,
    good_qty DOUBLE, scrap_qty DOUBLE, reason VARCHAR, category VARCHAR,
    raw_record VARCHAR, reason_code VARCHAR, reason_detail VARCHAR,
    fold_local TIMESTAMP, fold_off2 INTEGER, fold_line VARCHAR"""

_FIELDS = {
    "production_runs": ("order_id", "line_id", "product_code", "start", "end", "good_qty", "scrap_qty"),
    "downtime_events": ("line_id", "start", "end", "reason", "category"),
}


def _qty_rules(name: str) -> list[Rule]:
    return [
        Rule(f"{name}_text = ''", contract.BAD_VALUE, f"format('{name} is empty (column {{}})', ${name}_col)"),
        Rule(f"{name} IS NULL", contract.BAD_VALUE,
             f"format('{name} ''{{}}'' (column {{}}) is not a number', {name}_text, ${name}_col)"),
        Rule(f"NOT isfinite({name}) OR {name} < 0", contract.BAD_VALUE,
             f"format('{name} {{}} (column {{}}) is not a finite number >= 0', {name}_text, ${name}_col)"),
    ]


def parse_events(
    plant: Any,
    kind: EventKind,
    files: Sequence[Path | str],
    day: date,
    con: duckdb.DuckDBPyConnection,
) -> contract.ParsedExport:
    """Parse a plant-day of production-run or downtime-event exports."""
    if kind not in _FIELDS:
        raise ValueError(f"kind must be 'production_runs' or 'downtime_events', got {kind!r}")
    export = getattr(plant, kind)
    where = f"{plant.plant_id}: {kind}"
    delim = check_delimiter(export.delimiter, where)
    formats = check_formats(con, export.timestamp_format, where)
    mode = export.timestamps_in
    if mode not in ("local", "utc"):
        raise contract.DialectConfigError(f"{where}: timestamps_in must be 'local' or 'utc', got {mode!r}")
    wanted = {k: export.columns[k] for k in _FIELDS[kind]}
    runs = kind == "production_runs"
    cat_keys = list(export.category_map)
    cat_vals = [export.category_map[k] for k in cat_keys]

    def parse_file(run: StreamRun, sf: source_files.SourceFile) -> str | None:
        pos, missing = source_files.find_columns(sf.header, wanted)
        if missing:
            return (
                f"header {source_files.short(', '.join(sf.header))!r} lacks column(s) {missing} configured in {kind}.columns"
                + source_files.delimiter_hint(sf.header_raw, delim)
            )
        start = timestamp_sql(run.day, mode, "start_parsed")
        # an end may lie days after the partition day, past a change of time that day does not have
        end = timestamp_sql(end_window(run.day), mode, "end_parsed", prefix="te")
        zone = "local time" if mode == "local" else "UTC"
        rules = [
            Rule("f IS NULL", contract.MALFORMED_ROW, "'unbalanced quotes: the line cannot be split into fields'"),
            Rule("nf <> $nf", contract.MALFORMED_ROW, "format('line has {} fields, the header has {}', nf, $nf)"),
            Rule("start_parsed IS NULL", contract.BAD_TIMESTAMP,
                 "format('start ''{}'' (column {}) does not match the format {}', start_text, $start_col, $fmt_text)"),
            Rule("start_gap", contract.BAD_TIMESTAMP,
                 "format('start {} does not exist in {} (skipped by the DST change)', start_parsed, $tz_name)"),
            Rule("start_outside", contract.OUTSIDE_PARTITION_DAY,
                 f"format('start ({zone}) {{}} is outside production day {{}} ({{}} local, [{{}}, {{}}) UTC)', "
                 "start_parsed, $day_text, $tz_name, $tz_u0, $tz_u1)"),
            Rule("end_text <> '' AND end_parsed IS NULL", contract.BAD_TIMESTAMP,
                 "format('end ''{}'' (column {}) does not match the format {}', end_text, $end_col, $fmt_text)"),
            Rule("end_gap", contract.BAD_TIMESTAMP,
                 "format('end {} does not exist in {} (skipped by the DST change)', end_parsed, $tz_name)"),
            Rule("NOT list_contains($lines::VARCHAR[], line_text)", contract.BAD_VALUE,
                 "format('line ''{}'' (column {}) is not a line of {}', line_text, $line_id_col, $plant_id)"),
        ]
        if runs:
            rules += [
                Rule("order_text = ''", contract.BAD_VALUE, "format('order id (column {}) is empty', $order_id_col)"),
                Rule("NOT list_contains($products::VARCHAR[], product_text)", contract.BAD_VALUE,
                     "format('product ''{}'' (column {}) is not a product of {}', product_text, $product_code_col, "
                     "$plant_id)"),
                *_qty_rules("good_qty"),
                *_qty_rules("scrap_qty"),
            ]
        else:
            rules += [
                Rule("category IS NULL", contract.BAD_VALUE,
                     "format('category ''{}'' (column {}) is not in category_map {}', category_text, "
                     "$category_col, $cat_text)"),
            ]
        number, code, detail = rule_sql(rules)
        col = lambda key: source_files.field_sql("f", pos.get(key))  # noqa: E731
        sql = f"""
        INSERT INTO {run.cls} (rid, order_id, line_id, product_code, start_utc, end_utc, end_local, end_off2,
                               good_qty, scrap_qty, reason, category, raw_record, reason_code, reason_detail,
                               fold_local, fold_off2, fold_line)
        WITH s AS (
            SELECT source_line, line, {source_files.split_fields_sql()} AS f
            FROM {source_files.SRC} WHERE source_line > $header_line AND {source_files.NONBLANK}
        ), p AS (
            SELECT source_line, line, f, len(f) AS nf,
                   {col('order_id')} AS order_text, {col('line_id')} AS line_text,
                   {col('product_code')} AS product_text, {col('start')} AS start_text, {col('end')} AS end_text,
                   {col('good_qty')} AS good_qty_text, {col('scrap_qty')} AS scrap_qty_text,
                   {col('reason')} AS reason_text, {col('category')} AS category_text
            FROM s
        ), q AS (
            SELECT p.*, try_strptime(start_text, $fmt) AS start_parsed,
                   try_strptime(nullif(end_text, ''), $fmt) AS end_parsed,
                   {source_files.num_sql('good_qty_text')} AS good_qty, {source_files.num_sql('scrap_qty_text')} AS scrap_qty,
                   coalesce(($cat_vals::VARCHAR[])[list_position($cat_keys::VARCHAR[], category_text)],
                            ($cat_vals::VARCHAR[])[list_position(list_transform($cat_keys::VARCHAR[],
                                                                                lambda k: lower(k)),
                                                                 lower(category_text))],
                            CASE WHEN lower(category_text) IN ('planned', 'unplanned') THEN lower(category_text) END
                   ) AS category
            FROM p
        ), r AS (
            SELECT q.*,
                   {start['ts_local']} AS start_local, {start['ts_utc']} AS start_utc0, {start['in_gap']} AS start_gap,
                   {start['outside']} AS start_outside, {start['off2']} AS start_off2,
                   {end['ts_local']} AS end_local, {end['ts_utc']} AS end_utc0, {end['in_gap']} AS end_gap,
                   {end['off2']} AS end_off2
            FROM q
        ), c AS (
            SELECT r.*, {number} AS rule_no FROM r
        )
        SELECT {rid_sql('$file_idx', 'source_line')}, order_text, line_text, product_text,
               start_utc0, end_utc0, CASE WHEN end_off2 IS NOT NULL THEN end_local END, end_off2,
               good_qty, scrap_qty, nullif(reason_text, ''), category,
               CASE WHEN rule_no IS NOT NULL THEN {source_files.raw_sql()} END, {code}, {detail},
               CASE WHEN start_off2 IS NOT NULL THEN start_local END, start_off2,
               CASE WHEN start_off2 IS NOT NULL THEN line END
        FROM c"""
        params = {
            **source_files.split_params(delim),
            **day_params(run.day, formats),
            **end_window(run.day).params("te"),
            "file_idx": sf.idx,
            "header_line": sf.header_line,
            "nf": len(sf.header),
            "plant_id": plant.plant_id,
            "lines": sorted(line.id for line in plant.lines),
            "products": sorted(p.code for p in plant.products),
            "cat_keys": cat_keys,
            "cat_vals": cat_vals,
            "cat_text": str(dict(export.category_map)),
            "ws": source_files.WS,
            **{f"{k}_col": v for k, v in wanted.items()},
        }
        run.insert(sf, sql, params)
        return None

    def post(run: StreamRun) -> None:
        if mode != "local":
            pass
        elif run.day.has_fold:
            resolve_fold(run.ws, run.cls, "line_id", "fold_local", "start_utc", "fold_off2")
            # An ambiguous end is the earliest of its two instants that is not before the start.
            run_sql(
                run.con,
                f"""UPDATE {run.cls} SET end_utc = end_local - to_seconds(end_off2)
                WHERE end_off2 IS NOT NULL AND start_utc IS NOT NULL AND end_utc < start_utc""",
            )
        run_sql(
            run.con,
            f"""UPDATE {run.cls} SET reason_code = $code,
                reason_detail = format('end {{}} is before start {{}} (UTC)', end_utc, start_utc)
            WHERE reason_code IS NULL AND end_utc < start_utc""",
            {"code": contract.BAD_TIMESTAMP},
        )

    if runs:
        keys = ("order_id", "line_id", "start_utc")
        what = "this order, line and start were"
        select = "order_id, line_id, product_code, start_utc, end_utc, good_qty, scrap_qty"
        order = "line_id, start_utc, order_id, rid"
        schema = contract.RUNS_SCHEMA
    else:
        keys = ("line_id", "start_utc")
        what = "this line and start were"
        select = "line_id, start_utc, end_utc, reason, category"
        order = "line_id, start_utc, rid"
        schema = contract.DOWNTIME_SCHEMA
    return run_stream(
        plant,
        files,
        day,
        con,
        delim=delim,
        cls_ddl=EVENT_CLS_DDL,
        parse_file=parse_file,
        post=post,
        dedup_keys=keys,
        dedup_what=what,
        accepted_select=select,
        accepted_order=order,
        accepted_schema=schema,
    )
