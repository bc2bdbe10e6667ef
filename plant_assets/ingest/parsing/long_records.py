"""One reading a line, every column named by configuration: the parser behind aveva_narrow, canary_tvq and
the long layout of generic.

A `LongSpec` says which header columns hold the tag, the timestamp, the value (and optionally a string value
used when the value is empty, e.g. AVEVA vValue) and the quality, and how a quality maps to good / uncertain /
bad:

  quality_mode "none"   every reading is good
               "text"   case-insensitive text map (e.g. Good/Questionable/Bad); empty = good, unmapped = uncertain
               "code"   integer code map (e.g. AVEVA Quality 0 good, 1 bad, 16 uncertain); unmapped = uncertain
               "opc"    OPC quality bits: a code below 256 is OPC DA (192 good, 64-127 uncertain, else bad), a
                        larger one an OPC UA StatusCode (top two bits: 00 good, 01 uncertain, 1x bad)

A value that is a known digital state, or any value the source itself marks bad (including an empty one), is
accepted with quality 'bad', value NULL and the state or quality text in status_text. Anything else that is
not a finite number is `bad_value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plant_assets.ingest import contract
from plant_assets.ingest.parsing import record_rules, source_files
from plant_assets.ingest.parsing.classify import rid_sql
from plant_assets.ingest.parsing.knobs import (
    knob_params,
    num_text_sql,
    relocate_header,
    scaled_sql,
    ts_parse_sql,
)
from plant_assets.ingest.parsing.stream_run import StreamRun
from plant_assets.ingest.parsing.written_time import joined_sql, stamp_sql

QUALITY_MODES = ("none", "text", "code", "opc")


@dataclass
class LongSpec:
    columns: dict[str, str]  # keys: tag, ts, value, and optionally svalue, quality
    quality_mode: str = "none"
    quality_map: dict[Any, str] = field(default_factory=dict)
    digital_states: tuple[str, ...] = ()
    knobs: dict[str, Any] = field(default_factory=dict)
    delim: str = ","
    # source_tag -> the tag map's source_unit, checked against a `unit` column when the export has one
    tag_units: dict[str, str] = field(default_factory=dict)

    def with_units(self, plant: Any) -> "LongSpec":
        self.tag_units = {m.source_tag: m.source_unit for m in plant.tag_map}
        return self


def check_columns(columns: Any, where: str, optional: tuple[str, ...] = ("svalue", "quality", "unit")) -> dict[str, str]:
    """Header names by role. `ts` may be a list (a date and a time column, or year, month and day): its parts
    become ts, ts_2, ts_3 ... and are read joined by one space (written_time.joined_sql)."""
    if not isinstance(columns, dict):
        raise contract.DialectConfigError(f"{where}: columns must map tag/ts/value/... to header names, got {columns!r}")
    out: dict[str, str] = {}
    for key, name in columns.items():
        names = name if key == "ts" and isinstance(name, list) and 1 <= len(name) <= 6 else [name]
        if not all(isinstance(n, str) and n.strip() for n in names):
            raise contract.DialectConfigError(f"{where}: columns must map tag/ts/value/... to header names (ts may be "
                                              f"a list of up to 6, e.g. [Date, Time]), got {columns!r}")
        for i, n in enumerate(names):
            out[key if i == 0 else f"{key}_{i + 1}"] = n.strip()
    missing = [k for k in ("tag", "ts", "value") if k not in columns]
    unknown = sorted(set(columns) - {"tag", "ts", "value", *optional})
    if missing or unknown:
        raise contract.DialectConfigError(f"{where}: columns needs tag, ts and value (optional: {list(optional)}); "
                                 f"missing {missing}, unknown {unknown}")
    return out


def ts_keys(columns: dict[str, str]) -> list[str]:
    """The keys of the stamp's columns, in order: ts, ts_2, ts_3 ..."""
    return ["ts"] + sorted((k for k in columns if k.startswith("ts_")), key=lambda k: int(k[3:]))


def check_quality(mode: Any, raw_map: Any, where: str) -> tuple[str, dict[Any, str]]:
    if mode not in QUALITY_MODES:
        raise contract.DialectConfigError(f"{where}: quality_mode must be one of {list(QUALITY_MODES)}, got {mode!r}")
    if raw_map is None:
        return mode, {}
    if not isinstance(raw_map, dict):
        raise contract.DialectConfigError(f"{where}: quality_map must map source quality to good/uncertain/bad")
    out: dict[Any, str] = {}
    for key, value in raw_map.items():
        if value not in contract.QUALITIES:
            raise contract.DialectConfigError(f"{where}: quality_map {key!r} -> {value!r}; use one of {list(contract.QUALITIES)}")
        if mode == "code":
            try:
                key = int(key)
            except (TypeError, ValueError):
                raise contract.DialectConfigError(f"{where}: quality_map key {key!r} is not an integer code") from None
        else:
            key = str(key).strip().lower()
        out[key] = value
    return mode, out


def _quality_sql(spec: LongSpec) -> str:
    if spec.quality_mode == "none" or "quality" not in spec.columns:
        return "'good'"
    if spec.quality_mode == "text":
        return ("CASE WHEN q_text IS NULL OR q_text = '' THEN 'good' ELSE coalesce(($q_vals::VARCHAR[])"
                "[list_position($q_keys::VARCHAR[], lower(q_text))], 'uncertain') END")
    q_num = "TRY_CAST(TRY_CAST(q_text AS DOUBLE) AS BIGINT)"
    if spec.quality_mode == "code":
        return (f"coalesce(($q_vals::VARCHAR[])[list_position($q_codes::BIGINT[], {q_num})], "
                f"CASE WHEN q_text = '' OR q_text IS NULL THEN 'good' ELSE 'uncertain' END)")
    return (f"CASE WHEN {q_num} IS NULL THEN CASE WHEN q_text = '' OR q_text IS NULL THEN 'good' ELSE 'uncertain' END "
            f"WHEN {q_num} >= 256 THEN CASE ({q_num} >> 30) & 3 WHEN 0 THEN 'good' WHEN 1 THEN 'uncertain' ELSE 'bad' END "
            f"ELSE CASE {q_num} & 192 WHEN 192 THEN 'good' WHEN 64 THEN 'uncertain' ELSE 'bad' END END")


def long_parse_file(spec: LongSpec):
    """A parse_file for base.run_historian reading one reading a line."""
    knobs = spec.knobs

    def parse_file(run: StreamRun, sf: source_files.SourceFile) -> str | None:
        if not relocate_header(run.con, sf, spec.delim, knobs.get("skip_lines", 0)):
            return f"no header line after the {knobs.get('skip_lines')} preamble line(s)"
        pos, missing = source_files.find_columns(sf.header, spec.columns)
        required = {spec.columns[k] for k in ("tag", "value", *ts_keys(spec.columns))}
        if set(missing) & required:
            expected = ",".join(spec.columns.values())
            return (f"header {source_files.short(', '.join(sf.header))!r} lacks column(s) {sorted(set(missing) & required)}; "
                    f"expected {expected}" + source_files.delimiter_hint(sf.header_raw, spec.delim))
        if len(set(sf.header)) < len(sf.header) and any(sf.header.count(c) > 1 for c in spec.columns.values()):
            dup = sorted({c for c in spec.columns.values() if sf.header.count(c) > 1})
            return f"header names column(s) {dup} more than once; cannot tell which one holds the data"
        keyed = {k: pos.get(k) for k in spec.columns}
        ts = record_rules.timestamp_sql(run.day, knobs["mode"], "ts_parsed", "ts_mark", bool(knobs["shift_us"]))
        rules = [
            record_rules.Rule("f IS NULL", contract.MALFORMED_ROW, "'unbalanced quotes: the line cannot be split into fields'"),
            record_rules.Rule("nf <> $nf", contract.MALFORMED_ROW, "format('line has {} fields, the header has {}', nf, $nf)"),
            record_rules.Rule("tag_idx IS NULL", contract.UNKNOWN_TAG, "format('tag ''{}'' is not in the tag map of {}', tag, $plant_id)"),
            *record_rules.timestamp_rules(run.day, knobs["mode"], "ts_parsed", "ts_text", "ts_mark"),
            record_rules.Rule("u_text <> '' AND u_text <> ($tag_units::VARCHAR[])[tag_idx]", contract.BAD_VALUE,
                 "format('unit ''{}'' differs from the tag map''s source_unit ''{}'' for tag ''{}'' (a unit change? "
                 "update tag_map.csv)', u_text, ($tag_units::VARCHAR[])[tag_idx], tag)"),
            record_rules.Rule("v_text = '' AND src_quality <> 'bad'", contract.BAD_VALUE, "'value is empty'"),
            record_rules.Rule("v_num IS NULL AND v_text <> '' AND NOT is_state AND src_quality <> 'bad'", contract.BAD_VALUE,
                 "format('value ''{}'' is neither a number nor a known digital state', v_text)"),
            record_rules.Rule("NOT isfinite(v_num)", contract.BAD_VALUE, "format('value ''{}'' is not a finite number', v_text)"),
        ]
        number, code, detail = record_rules.rule_sql(rules)
        tag_idx = run.tag_lookup("p.tag")
        svalue = source_files.field_sql("f", keyed.get("svalue"))
        v_text = f"coalesce(nullif({source_files.field_sql('f', keyed['value'])}, ''), nullif({svalue}, ''), '')"
        sql = f"""
        INSERT INTO {run.cls} (rid, tag_idx, ts_utc, value, quality, status_text, raw_record, reason_code,
                               reason_detail, fold_local, fold_off2, fold_line)
        WITH s AS (
            SELECT source_line, line, {source_files.split_fields_sql()} AS f
            FROM {source_files.SRC} WHERE source_line > $data_after AND {source_files.NONBLANK}
        ), p AS (
            SELECT source_line, line, f, len(f) AS nf,
                   {source_files.field_sql('f', keyed['tag'])} AS tag, {joined_sql([source_files.field_sql('f', keyed[k]) for k in ts_keys(spec.columns)])} AS ts_text,
                   {v_text} AS v_text, {source_files.field_sql('f', keyed.get('quality'))} AS q_text,
                   coalesce({source_files.field_sql('f', keyed.get('unit'))}, '') AS u_text
            FROM s
        ), q AS (
            SELECT p.*, {tag_idx} AS tag_idx, {ts_parse_sql(knobs, 'ts_text')} AS ts_plain,
                   {source_files.num_sql(num_text_sql(knobs, 'v_text'))} AS v_num,
                   {_quality_sql(spec)} AS src_quality
            FROM p
        ), q2 AS (
            SELECT q.*, {stamp_sql(knobs, 'ts_text', 'ts_plain')} FROM q
        ), r AS (
            SELECT q2.*, {ts['ts_local']} AS ts_local, {ts['ts_utc']} AS ts_utc, {ts['in_gap']} AS in_gap,
                   {ts['outside']} AS outside, {ts['off2']} AS off2,
                   CASE WHEN v_num IS NULL AND v_text <> ''
                        THEN list_position($states::VARCHAR[], lower(v_text)) IS NOT NULL ELSE false END AS is_state
            FROM q2
        ), c AS (
            SELECT r.*, {number} AS rule_no,
                   CASE WHEN is_state OR v_num IS NULL THEN 'bad' ELSE src_quality END AS quality
            FROM r
        )
        SELECT {rid_sql('$file_idx', 'source_line')}, tag_idx, ts_utc,
               CASE WHEN quality = 'bad' THEN NULL ELSE {scaled_sql(knobs, 'v_num')} END, quality,
               CASE WHEN is_state OR (v_num IS NULL AND v_text <> '') THEN v_text
                    WHEN quality <> 'good' THEN coalesce(nullif(q_text, ''), 'No Data') END,
               CASE WHEN rule_no IS NOT NULL THEN {source_files.raw_sql()} END, {code}, {detail},
               {ts['fold_local']}, off2, CASE WHEN off2 IS NOT NULL THEN line END
        FROM c"""
        q_keys = [k for k in spec.quality_map if not isinstance(k, int)]
        q_codes = [k for k in spec.quality_map if isinstance(k, int)]
        params = {
            **source_files.split_params(spec.delim),
            **record_rules.day_params(run.day, knobs["formats"]),
            **knob_params(knobs),
            "file_idx": sf.idx,
            "data_after": sf.header_line + knobs.get("skip_after_header", 0),
            "nf": len(sf.header),
            "plant_id": run.plant_id,
            "states": sorted({s.strip().lower() for s in spec.digital_states}),
            "q_keys": q_keys,
            "tag_units": [spec.tag_units.get(t, "") for t in run.tag_names],
            "q_codes": q_codes,
            "q_vals": [spec.quality_map[k] for k in (q_codes if spec.quality_mode == "code" else q_keys)],
            "ws": source_files.WS,
        }
        run.insert(sf, sql, params)
        return None

    return parse_file
