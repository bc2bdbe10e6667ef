"""Ignition tag historian tables: `sqlt_data_*` rows joined to the `sqlth_te` tag table.

Data file header `tagid,intvalue,floatvalue,stringvalue,datevalue,dataintegrity,t_stamp`; `t_stamp` is epoch
milliseconds UTC. The tag is `sqlth_te.tagpath` of the row's `tagid`; the value is coalesce(intvalue, floatvalue);
`dataintegrity` maps to a quality (192 good, anything else bad by default); status_text is the raw
dataintegrity code. A bad-quality record is accepted with value NULL. Checks, first failing one wins:
malformed_row, unknown_tag (tagid not an integer, tag table missing, tagid not in it, tag path not in the tag
map), bad_timestamp (t_stamp not epoch ms), outside_partition_day (UTC window of the plant-local day),
bad_value (dataintegrity not an integer, value text not a number, NaN/Inf, no value with a good quality).

Options (`historian.options`):
  tag_table              file name of the sqlth_te export in the same landing folder; default "sqlth_te.csv"
  delimiter              default "," (both files)
  dataintegrity_quality  {code: good|uncertain|bad}; default {192: good}
  default_quality        quality of codes not in that map; default "bad"
  columns                header names of a renamed export, keyed by Ignition's own names: tagid, intvalue,
                         floatvalue, dataintegrity, t_stamp (data files), id, tagpath (tag table)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Sequence

import duckdb

from plant_assets.ingest import contract
from plant_assets.ingest.parsing import source_files
from plant_assets.ingest.parsing.classify import rid_sql
from plant_assets.ingest.parsing.historian_run import run_historian
from plant_assets.ingest.parsing.options import (
    check_delimiter,
    check_options,
    quality_map,
)
from plant_assets.ingest.parsing.record_rules import Rule, day_params, rule_sql
from plant_assets.ingest.parsing.stream_run import StreamRun

OPTIONS = ("tag_table", "delimiter", "dataintegrity_quality", "default_quality", "columns")
DESCRIPTION = "Ignition tag historian tables: `sqlt_data_*` rows joined to the `sqlth_te` tag table"
DATA_COLUMNS = {
    "tagid": "tagid",
    "int": "intvalue",
    "float": "floatvalue",
    "di": "dataintegrity",
    "ts": "t_stamp",
}
TE_COLUMNS = {"id": "id", "tagpath": "tagpath"}
MAX_EPOCH_MS = 253402300799999  # 9999-12-31 23:59:59.999


def _options(plant: Any) -> dict[str, Any]:
    where = f"{plant.plant_id}: historian.options"
    opts = dict(plant.historian.options or {})
    check_options(opts, OPTIONS, where)
    tag_table = opts.get("tag_table", "sqlth_te.csv")
    if (
        not isinstance(tag_table, str)
        or not tag_table.strip()
        or any(c in tag_table for c in "/\\\0")
        or tag_table.strip() in (".", "..")
    ):
        raise contract.DialectConfigError(f"{where}: tag_table must be a bare file name in the landing folder, got {tag_table!r}")
    qmap = quality_map(opts.get("dataintegrity_quality"), {192: "good"}, f"{where}.dataintegrity_quality", int)
    default = opts.get("default_quality", "bad")
    if default not in contract.QUALITIES:
        raise contract.DialectConfigError(f"{where}: default_quality must be one of {list(contract.QUALITIES)}, got {default!r}")
    return {
        "tag_table": tag_table.strip(),
        "delim": check_delimiter(opts.get("delimiter", ","), where),
        "di_keys": list(qmap),
        "di_vals": list(qmap.values()),
        "di_default": default,
        **_column_names(opts.get("columns") or {}, where),
    }


def _column_names(columns: Any, where: str) -> dict[str, dict[str, str]]:
    """The data and tag-table header names: Ignition's own, or the `columns` option's (keyed by Ignition's)."""
    known = [*DATA_COLUMNS.values(), *TE_COLUMNS.values()]
    if not isinstance(columns, dict) or set(columns) - set(known) or not all(
            isinstance(v, str) and v.strip() for v in columns.values()):
        raise contract.DialectConfigError(f"{where}: columns maps Ignition's column names {known} to this export's "
                                          f"header names, got {columns!r}")
    rename = {k: v.strip() for k, v in columns.items()}
    return {"data_columns": {k: rename.get(v, v) for k, v in DATA_COLUMNS.items()},
            "te_columns": {k: rename.get(v, v) for k, v in TE_COLUMNS.items()}}


def _load_tag_table(run: StreamRun, folder: Path, n: int, opts: dict[str, Any]) -> tuple[str, str | None]:
    """A temp table (id, tagpath, tag_idx) from sqlth_te in `folder`, and a problem text if it is unusable.

    A tag id listed twice takes its first line's tag path.
    """
    te = run.ws.create(f"te_{n}", "id BIGINT, tagpath VARCHAR, tag_idx INTEGER")
    path = folder / opts["tag_table"]
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        return te, f"tag table {opts['tag_table']!r} resolves outside the landing folder"
    sf = source_files.SourceFile(len(run.files) + n, path, path.name)
    source_files.open_source(run.ws, sf, opts["delim"])
    if sf.problem:
        return te, f"tag table {sf.name}: {sf.problem}"
    if not sf.header_line:
        return te, f"tag table {sf.name} has no header"
    pos, missing = source_files.find_columns(sf.header, opts["te_columns"])
    if missing:
        return te, (
            f"tag table {sf.name} header {source_files.short(', '.join(sf.header))!r} lacks {missing}"
            + source_files.delimiter_hint(sf.header_raw, opts["delim"])
        )
    source_files.exec_on_source(
        run.ws,
        sf,
        f"""INSERT INTO {te}
        WITH s AS (
            SELECT source_line, {source_files.split_fields_sql()} AS f FROM {source_files.SRC}
            WHERE source_line > $header_line AND {source_files.NONBLANK}
        ), p AS (
            SELECT TRY_CAST({source_files.field_sql('f', pos['id'])} AS BIGINT) AS id,
                   arg_min({source_files.field_sql('f', pos['tagpath'])}, source_line) AS tagpath
            FROM s WHERE f IS NOT NULL GROUP BY ALL
        )
        SELECT p.id, p.tagpath, t.tag_idx
        FROM p LEFT JOIN {run.tags} AS t ON t.source_tag = p.tagpath
        WHERE p.id IS NOT NULL""",
        {**source_files.split_params(opts["delim"]), "header_line": sf.header_line, "ws": source_files.WS},
    )
    return te, None


def _parse_file(opts: dict[str, Any]):
    tag_tables: dict[Path, tuple[str, str | None]] = {}

    def parse_file(run: StreamRun, sf: source_files.SourceFile) -> str | None:
        cols = opts["data_columns"]
        pos, missing = source_files.find_columns(sf.header, cols)
        values = {cols["int"], cols["float"]}
        if set(missing) - values or values <= set(missing):
            return (
                f"header {source_files.short(', '.join(sf.header))!r} lacks column(s) {missing}; expected "
                f"{','.join(cols.values())} (historian.options.columns renames them)"
                + source_files.delimiter_hint(sf.header_raw, opts["delim"])
            )
        folder = sf.path.parent
        if folder not in tag_tables:
            tag_tables[folder] = _load_tag_table(run, folder, len(tag_tables), opts)
        te, te_problem = tag_tables[folder]
        rules = [
            Rule("f IS NULL", contract.MALFORMED_ROW, "'unbalanced quotes: the line cannot be split into fields'"),
            Rule("nf <> $nf", contract.MALFORMED_ROW, "format('line has {} fields, the header has {}', nf, $nf)"),
            Rule("tagid IS NULL", contract.UNKNOWN_TAG, "format('tagid ''{}'' is not an integer', tagid_text)"),
            Rule("$te_problem::VARCHAR IS NOT NULL", contract.UNKNOWN_TAG,
                 "format('cannot resolve tagid {}: {}', tagid, $te_problem::VARCHAR)"),
            Rule("tagpath IS NULL", contract.UNKNOWN_TAG, "format('tagid {} is not in the tag table {}', tagid, $te_name)"),
            Rule("tag_idx IS NULL", contract.UNKNOWN_TAG,
                 "format('tag path ''{}'' (tagid {}) is not in the tag map of {}', tagpath, tagid, $plant_id)"),
            Rule("ts_parsed IS NULL", contract.BAD_TIMESTAMP,
                 "format('t_stamp ''{}'' is not epoch milliseconds', ts_text)"),
            Rule("outside", contract.OUTSIDE_PARTITION_DAY,
                 "format('UTC {} is outside production day {} ({} local, [{}, {}) UTC)', "
                 "ts_parsed, $day_text, $tz_name, $tz_u0, $tz_u1)"),
            Rule("di IS NULL", contract.BAD_VALUE, "format('dataintegrity ''{}'' is not an integer', di_text)"),
            Rule("iv IS NULL AND int_text <> ''", contract.BAD_VALUE, "format('intvalue ''{}'' is not a number', int_text)"),
            Rule("fv IS NULL AND float_text <> ''", contract.BAD_VALUE,
                 "format('floatvalue ''{}'' is not a number', float_text)"),
            Rule("NOT isfinite(v_num)", contract.BAD_VALUE, "format('value {} is not a finite number', v_num)"),
            Rule("v_num IS NULL AND quality <> 'bad'", contract.BAD_VALUE,
                 "format('no numeric value (intvalue and floatvalue are empty) with dataintegrity {}', di)"),
        ]
        number, code, detail = rule_sql(rules)
        sql = f"""
        INSERT INTO {run.cls} (rid, tag_idx, ts_utc, value, quality, status_text, raw_record, reason_code,
                               reason_detail)
        WITH s AS (
            SELECT source_line, line, {source_files.split_fields_sql()} AS f
            FROM {source_files.SRC} WHERE source_line > $header_line AND {source_files.NONBLANK}
        ), p AS (
            SELECT source_line, line, f, len(f) AS nf,
                   {source_files.field_sql('f', pos['tagid'])} AS tagid_text, {source_files.field_sql('f', pos.get('int'))} AS int_text,
                   {source_files.field_sql('f', pos.get('float'))} AS float_text, {source_files.field_sql('f', pos['di'])} AS di_text,
                   {source_files.field_sql('f', pos['ts'])} AS ts_text
            FROM s
        ), q AS (
            SELECT p.*, {source_files.num_sql('tagid_text', 'BIGINT')} AS tagid, {source_files.num_sql('ts_text', 'BIGINT')} AS ms,
                   {source_files.num_sql('di_text', 'BIGINT')} AS di, {source_files.num_sql('int_text')} AS iv,
                   {source_files.num_sql('float_text')} AS fv
            FROM p
        ), j AS (
            SELECT q.*, te.tagpath, te.tag_idx,
                   CASE WHEN ms BETWEEN 0 AND {MAX_EPOCH_MS} THEN epoch_ms(ms) END AS ts_parsed,
                   coalesce(iv, fv) AS v_num,
                   CASE WHEN di = 192 THEN $q192
                        ELSE coalesce(($di_vals::VARCHAR[])[list_position($di_keys::BIGINT[], di)], $di_default)
                   END AS quality
            FROM q LEFT JOIN {te} AS te ON te.id = q.tagid
        ), c AS (
            SELECT j.*, {run.day.outside_utc_sql('ts_parsed')} AS outside, {number} AS rule_no FROM j
        )
        SELECT {rid_sql('$file_idx', 'source_line')}, tag_idx, ts_parsed,
               CASE WHEN quality = 'bad' THEN NULL ELSE v_num END, quality, di_text,
               CASE WHEN rule_no IS NOT NULL THEN {source_files.raw_sql()} END, {code}, {detail}
        FROM c"""
        params = {
            **source_files.split_params(opts["delim"]),
            **day_params(run.day),
            "file_idx": sf.idx,
            "header_line": sf.header_line,
            "nf": len(sf.header),
            "plant_id": run.plant_id,
            "te_problem": te_problem,
            "te_name": opts["tag_table"],
            "di_keys": opts["di_keys"],
            "di_vals": opts["di_vals"],
            "di_default": opts["di_default"],
            "q192": dict(zip(opts["di_keys"], opts["di_vals"])).get(192, opts["di_default"]),
            "ws": source_files.WS,
        }
        run.insert(sf, sql, params)
        return None

    return parse_file


def parse(plant: Any, files: Sequence[Path | str], day: date, con: duckdb.DuckDBPyConnection) -> contract.ParsedExport:
    """Parse a plant-day of Ignition sqlt_data exports (tag paths from the sqlth_te tag table)."""
    opts = _options(plant)
    # Timestamps are UTC: no DST fold to resolve.
    # Exports interleave tags at equal timestamps in tag-id order, which the cheap uniqueness check cannot use.
    return run_historian(plant, files, day, con, opts["delim"], _parse_file(opts), fold_key=None, precheck=False)
