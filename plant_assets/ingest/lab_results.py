"""Lab results exports: one row per (sample, characteristic), with plant-local column names and units.

Each file holds the samples **taken** in the plant-local production day. The plant's `lab_results` section
(config.LabExport) says the delimiter, decimal separator, timestamp format, whether timestamps are local or
UTC and which local column holds each field; `characteristic_map` turns the lab's own characteristic label
into a characteristic of `quality_specs`. The value is converted with pint into the unit of the product's spec
(a row without a unit column / an empty unit is taken to be in the spec's unit already).

Checks, first failing one wins:
  malformed_row          unbalanced quotes, or a field count different from the header's
  bad_timestamp          sampled-at unparseable or in a DST gap
  outside_partition_day  sampled-at outside the plant-local day
  bad_value              unknown line; empty sample id; unknown product; no spec for the product and
                         characteristic; value not a finite number; unit not convertible to the spec's unit
  duplicate              same (sample_id, characteristic)

A sampled-at in a DST fold is resolved per line in file order (see base.resolve_fold).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Sequence

import duckdb
import pyarrow as pa

from plant_assets.core.units import conversion_to
from plant_assets.ingest import contract
from plant_assets.ingest.parsing import source_files
from plant_assets.ingest.parsing.classify import resolve_fold, rid_sql
from plant_assets.ingest.parsing.options import check_delimiter, check_formats
from plant_assets.ingest.parsing.record_rules import (
    Rule,
    day_params,
    rule_sql,
    timestamp_sql,
)
from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.stream_run import StreamRun, run_stream

LAB_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("order_id", pa.string()),
        ("line_id", pa.string()),
        ("product_code", pa.string()),
        ("characteristic", pa.string()),
        ("sampled_at_utc", pa.timestamp("us")),
        ("value", pa.float64()),  # in the spec's unit
        ("unit", pa.string()),  # the spec's unit
        ("reported_value", pa.float64()),  # as the lab reported it
        ("reported_unit", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)

LAB_CLS_DDL = """rid BIGINT, sample_id VARCHAR, order_id VARCHAR, line_id VARCHAR, product_code VARCHAR,
    characteristic VARCHAR, sampled_at_utc TIMESTAMP, reported_value DOUBLE, reported_unit VARCHAR,
    spec_unit VARCHAR, value DOUBLE,
    raw_record VARCHAR, reason_code VARCHAR, reason_detail VARCHAR,
    fold_local TIMESTAMP, fold_off2 INTEGER, fold_line VARCHAR"""

# Separates product and characteristic in the spec lookup key (never part of a code or a name).
_SEP = "\x1f"


def _convert_units(run: StreamRun) -> None:
    """value = reported_value in the spec's unit (pint), or bad_value when the reported unit cannot get there."""
    pairs = run_sql(
        run.con,
        f"""SELECT DISTINCT reported_unit, spec_unit FROM {run.cls}
        WHERE reason_code IS NULL AND reported_unit IS NOT NULL""",
    )
    keys, scales, offsets = [], [], []
    for reported, spec in pairs:
        try:
            scale, offset = conversion_to(reported, spec)
        except ValueError:
            continue  # no conversion: quarantined below
        keys.append(reported + _SEP + spec)
        scales.append(scale)
        offsets.append(offset)
    run_sql(
        run.con,
        f"""UPDATE {run.cls} SET value = CASE WHEN reported_unit IS NULL THEN reported_value ELSE
                reported_value * ($scales::DOUBLE[])[list_position($keys::VARCHAR[], reported_unit || $sep || spec_unit)]
                + ($offsets::DOUBLE[])[list_position($keys::VARCHAR[], reported_unit || $sep || spec_unit)] END
        WHERE reason_code IS NULL""",
        {"scales": scales, "offsets": offsets, "keys": keys, "sep": _SEP},
    )
    run_sql(
        run.con,
        f"""UPDATE {run.cls} SET reason_code = $code,
            reason_detail = format('unit ''{{}}'' cannot be converted to the spec unit ''{{}}'' of {{}} / {{}}',
                                   reported_unit, spec_unit, product_code, characteristic)
        WHERE reason_code IS NULL AND value IS NULL""",
        {"code": contract.BAD_VALUE},
    )


def parse_lab_results(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> contract.ParsedExport:
    """Parse a plant-day of lab results exports (the plant must have a `lab_results` section)."""
    export = plant.lab_results
    where = f"{plant.plant_id}: lab_results"
    if export is None:
        raise contract.DialectConfigError(f"{where}: plant.yaml has no lab_results section")
    delim = check_delimiter(export.delimiter, where)
    formats = check_formats(con, export.timestamp_format, where)
    mode = export.timestamps_in
    wanted = dict(export.columns)
    specs = list(plant.quality_specs)
    char_keys = list(export.characteristic_map)
    char_vals = [export.characteristic_map[k] for k in char_keys]

    def parse_file(run: StreamRun, sf: source_files.SourceFile) -> str | None:
        pos, missing = source_files.find_columns(sf.header, wanted)
        if missing:
            return (
                f"header {source_files.short(', '.join(sf.header))!r} lacks column(s) {missing} configured in lab_results.columns"
                + source_files.delimiter_hint(sf.header_raw, delim)
            )
        sampled = timestamp_sql(run.day, mode, "sampled_parsed")
        zone = "local time" if mode == "local" else "UTC"
        rules = [
            Rule("f IS NULL", contract.MALFORMED_ROW, "'unbalanced quotes: the line cannot be split into fields'"),
            Rule("nf <> $nf", contract.MALFORMED_ROW, "format('line has {} fields, the header has {}', nf, $nf)"),
            Rule("sampled_parsed IS NULL", contract.BAD_TIMESTAMP,
                 "format('sampled-at ''{}'' (column {}) does not match the format {}', sampled_text, "
                 "$sampled_at_col, $fmt_text)"),
            Rule("sampled_gap", contract.BAD_TIMESTAMP,
                 "format('sampled-at {} does not exist in {} (skipped by the DST change)', sampled_parsed, $tz_name)"),
            Rule("sampled_outside", contract.OUTSIDE_PARTITION_DAY,
                 f"format('sampled-at ({zone}) {{}} is outside production day {{}} ({{}} local, [{{}}, {{}}) UTC)', "
                 "sampled_parsed, $day_text, $tz_name, $tz_u0, $tz_u1)"),
            Rule("NOT list_contains($lines::VARCHAR[], line_text)", contract.BAD_VALUE,
                 "format('line ''{}'' (column {}) is not a line of {}', line_text, $line_id_col, $plant_id)"),
            Rule("sample_text = ''", contract.BAD_VALUE, "format('sample id (column {}) is empty', $sample_id_col)"),
            Rule("NOT list_contains($products::VARCHAR[], product_text)", contract.BAD_VALUE,
                 "format('product ''{}'' (column {}) is not a product of {}', product_text, $product_code_col, "
                 "$plant_id)"),
            Rule("spec_idx IS NULL", contract.BAD_VALUE,
                 "format('no spec limits for product {} and characteristic ''{}'' (column {}) in quality_specs', "
                 "product_text, characteristic_text, $characteristic_col)"),
            Rule("value_text = ''", contract.BAD_VALUE, "format('value is empty (column {})', $value_col)"),
            Rule("reported_value IS NULL OR NOT isfinite(reported_value)", contract.BAD_VALUE,
                 "format('value ''{}'' (column {}) is not a finite number', value_text, $value_col)"),
        ]
        number, code, detail = rule_sql(rules)
        col = lambda key: source_files.field_sql("f", pos.get(key))  # noqa: E731
        sql = f"""
        INSERT INTO {run.cls} (rid, sample_id, order_id, line_id, product_code, characteristic, sampled_at_utc,
                               reported_value, reported_unit, spec_unit, raw_record, reason_code, reason_detail,
                               fold_local, fold_off2, fold_line)
        WITH s AS (
            SELECT source_line, line, {source_files.split_fields_sql()} AS f
            FROM {source_files.SRC} WHERE source_line > $header_line AND {source_files.NONBLANK}
        ), p AS (
            SELECT source_line, line, f, len(f) AS nf,
                   {col('sample_id')} AS sample_text, {col('order_id')} AS order_text,
                   {col('line_id')} AS line_text, {col('product_code')} AS product_text,
                   {col('characteristic')} AS characteristic_text, {col('value')} AS value_text,
                   {col('unit')} AS unit_text, {col('sampled_at')} AS sampled_text
            FROM s
        ), q AS (
            SELECT p.*, try_strptime(sampled_text, $fmt) AS sampled_parsed,
                   {source_files.num_sql("CASE WHEN $decimal_comma THEN replace(value_text, ',', '.') ELSE value_text END")}
                       AS reported_value,
                   coalesce(($char_vals::VARCHAR[])[list_position($char_keys::VARCHAR[], characteristic_text)],
                            characteristic_text) AS characteristic_name
            FROM p
        ), r AS (
            SELECT q.*,
                   list_position($spec_keys::VARCHAR[], product_text || $sep || characteristic_name) AS spec_idx,
                   {sampled['ts_local']} AS sampled_local, {sampled['ts_utc']} AS sampled_utc0,
                   {sampled['in_gap']} AS sampled_gap, {sampled['outside']} AS sampled_outside,
                   {sampled['off2']} AS sampled_off2
            FROM q
        ), c AS (
            SELECT r.*, {number} AS rule_no FROM r
        )
        SELECT {rid_sql('$file_idx', 'source_line')}, sample_text, nullif(order_text, ''), line_text, product_text,
               characteristic_name, sampled_utc0, reported_value, nullif(unit_text, ''),
               ($spec_units::VARCHAR[])[spec_idx],
               CASE WHEN rule_no IS NOT NULL THEN {source_files.raw_sql()} END, {code}, {detail},
               CASE WHEN sampled_off2 IS NOT NULL THEN sampled_local END, sampled_off2,
               CASE WHEN sampled_off2 IS NOT NULL THEN line END
        FROM c"""
        params = {
            **source_files.split_params(delim),
            **day_params(run.day, formats),
            "file_idx": sf.idx,
            "header_line": sf.header_line,
            "nf": len(sf.header),
            "plant_id": plant.plant_id,
            "lines": sorted(line.id for line in plant.lines),
            "products": sorted(p.code for p in plant.products),
            "spec_keys": [s.product + _SEP + s.characteristic for s in specs],
            "spec_units": [s.unit for s in specs],
            "sep": _SEP,
            "char_keys": char_keys,
            "char_vals": char_vals,
            "decimal_comma": export.decimal == ",",
            "ws": source_files.WS,
            **{f"{k}_col": v for k, v in wanted.items()},
        }
        run.insert(sf, sql, params)
        return None

    def post(run: StreamRun) -> None:
        if mode == "local" and run.day.has_fold:
            resolve_fold(run.ws, run.cls, "line_id", "fold_local", "sampled_at_utc", "fold_off2")
        _convert_units(run)

    return run_stream(
        plant,
        files,
        day,
        con,
        delim=delim,
        cls_ddl=LAB_CLS_DDL,
        parse_file=parse_file,
        post=post,
        dedup_keys=("sample_id", "characteristic"),
        dedup_what="this sample and characteristic were",
        accepted_select="sample_id, order_id, line_id, product_code, characteristic, sampled_at_utc, value, "
        "spec_unit AS unit, reported_value, coalesce(reported_unit, spec_unit) AS reported_unit",
        accepted_order="line_id, sampled_at_utc, sample_id, characteristic, rid",
        accepted_schema=LAB_SCHEMA,
    )
