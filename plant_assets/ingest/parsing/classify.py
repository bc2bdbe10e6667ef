"""The classification table `cls` of a stream run and its final stage: record ids (`rid`), unreadable
files, DST-fold resolution, duplicates, raw records and the three output frames (`finish`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import pyarrow as pa

from plant_assets.ingest import contract
from plant_assets.ingest.parsing import source_files
from plant_assets.ingest.parsing.sql import copy_to_parquet, run_sql
from plant_assets.ingest.parsing.workspace import Workspace

if TYPE_CHECKING:
    from plant_assets.ingest.parsing.stream_run import StreamRun


RID_LINE_SHIFT = 16  # rid = file_idx << 47 | source_line << 16 | sub (sub: column of a wide file)
FILE_OF = "(rid >> 47)"
LINE_OF = f"((rid >> {RID_LINE_SHIFT}) & 2147483647)"


def rid_sql(file_idx_sql: str, line_sql: str, sub_sql: str = "0") -> str:
    return f"(({file_idx_sql})::BIGINT << 47) | (({line_sql})::BIGINT << {RID_LINE_SHIFT}) | ({sub_sql})::BIGINT"


def insert_unreadable(run: "StreamRun", sf: source_files.SourceFile, problem: str) -> int:
    """Quarantine every non-blank line of a file as unreadable_file (one record at line 0 if it has none)."""
    detail = f"{sf.name}: {problem}"
    params = {"i": sf.idx, "code": contract.UNREADABLE_FILE, "detail": detail, "ws": source_files.WS}
    n = 0
    if sf.lines is not None:
        n = source_files.exec_on_source(
            run.ws,
            sf,
            f"""INSERT INTO {run.cls} (rid, raw_record, reason_code, reason_detail)
            SELECT {rid_sql('$i', 'source_line')}, {source_files.raw_sql()}, $code, $detail FROM {source_files.SRC} WHERE {source_files.NONBLANK}""",
            params,
        )[0][0]
    if n == 0:
        run_sql(
            run.ws.con,
            f"""INSERT INTO {run.cls} (rid, raw_record, reason_code, reason_detail)
            VALUES ({rid_sql('$i', '0')}, '', $code, $detail)""",
            params,
        )
        n = 1
    return n


def quarantine_bad_lines(run: "StreamRun", sf: source_files.SourceFile) -> None:
    """Records of a line that holds a NUL byte, or that was too long to parse (cut and marked when read:
    source_files.TOO_LONG_MARK), become malformed_row, whatever the parser made of them: one damaged line is
    quarantined alone, never its file."""
    if not sf.may_have_damaged_lines:
        return
    source_files.exec_on_source(
        run.ws,
        sf,
        f"""UPDATE {run.cls} SET reason_code = $code, reason_detail = b.detail, raw_record = b.raw
        FROM (
            SELECT source_line, {source_files.raw_sql()} AS raw,
                   CASE WHEN regexp_matches(line, $too_long)
                        THEN format('line longer than {{}} bytes ({{}} bytes); only its start is kept',
                                    regexp_extract(line, $too_long, 2), regexp_extract(line, $too_long, 1))
                        ELSE format('line holds a NUL byte at character {{}}: binary data inside a text export',
                                    instr(line, chr(0))) END AS detail
            FROM {source_files.SRC}
            WHERE contains(line, chr(0)) OR (ends_with(line, ' bytes]') AND regexp_matches(line, $too_long))
        ) AS b
        WHERE {FILE_OF.replace('rid', f'{run.cls}.rid')} = $i
          AND {LINE_OF.replace('rid', f'{run.cls}.rid')} = b.source_line""",
        {"code": contract.MALFORMED_ROW, "too_long": source_files.TOO_LONG_RE, "i": sf.idx},
    )


def resolve_fold(ws: Workspace, cls: str, key_sql: str, local_col: str, utc_col: str, off2_col: str,
                 tz_name: str = "the plant's zone") -> None:
    """Move the second pass of a repeated (DST fold) hour to its standard-time UTC instant, when the row order
    tells the passes apart; else quarantine the hour as ambiguous_local_time. Only unmarked stamps get here
    (a stamp with an offset or zone abbreviation is its own instant: written_time).

    A series is one (file, key) in file order: the records with a local time (every unmarked record of a
    fall-back day for the historian dialects, the fold records for events and lab results). A break is a
    record that goes back in local time (earlier than the record before it), or repeats the record before it's
    local time with different content (another line: other value, status ...). A time-ordered export breaks
    once, at a fold record where its second pass starts: that record and every later fold record of the
    series are second pass. An exact re-delivered line repeats the time with the same content, so it stays in
    its pass and becomes a duplicate. A series that breaks more than once, or elsewhere than in the fold, is
    not in time order: its fold records are not guessed but quarantined. Records of a wide line share the
    line, so they move together.
    """
    series = f"""WITH a AS (
                SELECT rid, {FILE_OF} AS f, coalesce(({key_sql})::VARCHAR, '') AS k, {local_col} AS lt,
                       {off2_col} AS off2, {local_col} - to_seconds({off2_col}) AS utc2, fold_line AS line
                FROM {cls} WHERE {local_col} IS NOT NULL
            ), b AS (
                SELECT *, lt < lag(lt) OVER s OR (lt = lag(lt) OVER s AND line IS DISTINCT FROM lag(line) OVER s)
                          AS breaks
                FROM a WINDOW s AS (PARTITION BY f, k ORDER BY rid)
            ), r AS (
                SELECT f, k, count(*) FILTER (WHERE breaks) AS n_breaks,
                       count(*) FILTER (WHERE breaks AND off2 IS NOT NULL) AS fold_breaks,
                       min(rid) FILTER (WHERE breaks) AS first_rid
                FROM b GROUP BY f, k
            )"""
    run_sql(
        ws.con,
        f"""UPDATE {cls} SET reason_code = $code, reason_detail = s.detail
        FROM (
            {series}
            SELECT b.rid, format('local time {{}} occurs twice on this day in {{}}, the stamp carries no UTC offset '
                                 'or zone abbreviation and the rows are not in time order, so which pass it '
                                 'belongs to cannot be known (export the offset, or sorted rows)', b.lt, $tz) AS detail
            FROM b JOIN r ON b.f = r.f AND b.k = r.k
            WHERE b.off2 IS NOT NULL AND (r.n_breaks > 1 OR r.n_breaks > r.fold_breaks)
        ) AS s
        WHERE {cls}.rid = s.rid AND {cls}.reason_code IS NULL""",
        {"code": contract.AMBIGUOUS_LOCAL_TIME, "tz": tz_name},
    )
    run_sql(
        ws.con,
        f"""UPDATE {cls} SET {utc_col} = s.utc2
        FROM (
            {series}
            SELECT b.rid, b.utc2 FROM b JOIN r ON b.f = r.f AND b.k = r.k
            WHERE r.n_breaks = 1 AND r.fold_breaks = 1 AND b.off2 IS NOT NULL AND b.rid >= r.first_rid
        ) AS s
        WHERE {cls}.rid = s.rid"""
    )


def keys_are_unique(run: "StreamRun", time_key: str | None, params: dict[str, Any]) -> bool:
    """Cheap proof that no two accepted readings share (tag, ts_utc), for well-ordered exports (else False).

    One streaming pass over the accepted records in table order. A file has no duplicate if its records form
    one run and either (tag-major, as PI exports) each tag forms one run in which ts_utc strictly increases,
    or (time-major, as wide exports) `time_key` (an injective encoding of the key) strictly increases. Files
    whose ts_utc ranges do not overlap share no key. Any doubt returns False and the full GROUP BY runs, so
    this is only a shortcut and never decides alone what is a duplicate.
    """
    if run.force_dedup or len(run.tag_names) >= (1 << 23):
        return False
    time_up = f"{time_key} > lag({time_key}) OVER ()" if time_key else "false"
    rows = run_sql(
        run.con,
        f"""WITH b AS (
            SELECT {FILE_OF} AS f, tag_idx, ts_utc, lag({FILE_OF}) OVER () AS pf, lag(tag_idx) OVER () AS pt,
                   lag(ts_utc) OVER () AS pts, {time_up} AS time_up
            FROM {run.cls} WHERE reason_code IS NULL
        )
        SELECT f, min(ts_utc), max(ts_utc), count(*) FILTER (WHERE pf IS DISTINCT FROM f) AS file_runs,
               count(*) FILTER (WHERE pf IS DISTINCT FROM f OR pt IS DISTINCT FROM tag_idx) AS tag_runs,
               count(DISTINCT tag_idx) AS tags,
               bool_and(pf IS DISTINCT FROM f OR pt IS DISTINCT FROM tag_idx OR ts_utc > pts) AS tag_major,
               bool_and(pf IS DISTINCT FROM f OR time_up) AS time_major,
               bool_and(pf IS DISTINCT FROM f OR tag_idx >= pt) AS tags_ascending
        FROM b GROUP BY f ORDER BY 2""",
        params,
    )
    previous_max = None
    for _, lo, hi, file_runs, tag_runs, tags, tag_major, time_major, tags_ascending in rows:
        ordered = (tag_runs == tags and tag_major) or time_major
        if file_runs != 1 or not ordered or (previous_max is not None and lo <= previous_max):
            return False
        previous_max = hi
        # One tag-major file whose tags come in tag_map order: file order is (tag, ts_utc) order already, and
        # stays the output order (the workspace keeps insertion order).
        run.in_key_order = len(rows) == 1 and tag_runs == tags and bool(tag_major) and bool(tags_ascending)
    return True


def mark_duplicates(run: "StreamRun", keys: Sequence[str], what: str, params: dict[str, Any]) -> None:
    """Among accepted-so-far records, keep the first (file order) of each key; the rest become `duplicate`.

    keys are SQL expressions over cls columns (with named parameters from params).
    """
    con, cls = run.con, run.cls
    select = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    dups = run.ws.create_as(
        "dups",
        f"""SELECT {select}, min(rid) AS keep_rid FROM {cls} WHERE reason_code IS NULL
            GROUP BY ALL HAVING count(*) > 1""",
        params,
    )
    if run_sql(con, f"SELECT count(*) FROM {dups}")[0][0] == 0:
        return
    join = " AND ".join(f"({k}) = d.k{i}" for i, k in enumerate(keys))
    run_sql(
        con,
        f"""UPDATE {cls} SET reason_code = $code,
            reason_detail = $what || ' already read from ' || $names[(d.keep_rid >> 47) + 1] || ':'
                            || ((d.keep_rid >> {RID_LINE_SHIFT}) & 2147483647)::VARCHAR || '; this copy is dropped'
        FROM {dups} AS d
        WHERE {cls}.reason_code IS NULL AND {join} AND {cls}.rid <> d.keep_rid""",
        {**params, "code": contract.DUPLICATE, "what": what, "names": [f.name for f in run.files]},
    )


def fill_raw_records(run: "StreamRun") -> None:
    """raw_record of quarantined records that have none yet (duplicates): their line, read again."""
    todo = run_sql(
        run.con,
        f"SELECT DISTINCT {FILE_OF} FROM {run.cls} WHERE reason_code IS NOT NULL AND raw_record IS NULL ORDER BY 1",
    )
    for (idx,) in todo:
        sf = run.files[int(idx)]
        source_files.exec_on_source(
            run.ws,
            sf,
            f"""UPDATE {run.cls} SET raw_record = s.raw
            FROM (
                SELECT source_line, {source_files.raw_sql()} AS raw FROM {source_files.SRC}
                WHERE source_line IN (SELECT {LINE_OF} FROM {run.cls}
                                      WHERE reason_code IS NOT NULL AND raw_record IS NULL AND {FILE_OF} = $i)
            ) AS s
            WHERE {run.cls}.reason_code IS NOT NULL AND {run.cls}.raw_record IS NULL
              AND {FILE_OF.replace('rid', f'{run.cls}.rid')} = $i
              AND {LINE_OF.replace('rid', f'{run.cls}.rid')} = s.source_line""",
            {"i": int(idx)},
        )


def finish(
    run: "StreamRun",
    accepted_select: str,
    accepted_order: str,
    accepted_schema: pa.Schema,
    key_params: dict[str, Any],
    enum_types: dict[str, str] | None = None,
) -> contract.ParsedExport:
    """The three output tables. `accepted_select` lists output columns (source_file, source_line added here).

    The sort runs on the narrow cls columns; names (tag, file) are looked up after it, which is cheaper.
    `enum_types` names accepted string columns whose every value is in an ENUM type (written as that ENUM).
    """
    con = run.con
    params = {**key_params, "names": [f.name for f in run.files], "tag_names": run.tag_names}
    sql = f"""SELECT {accepted_select}, $names[{FILE_OF} + 1] AS source_file, {LINE_OF} AS source_line
        FROM (SELECT * EXCLUDE (raw_record, reason_code, reason_detail, fold_local, fold_off2, fold_line)
              FROM {run.cls} WHERE reason_code IS NULL {'' if run.in_key_order else f'ORDER BY {accepted_order}'})"""
    enum_types = {**({"source_file": run.ws.enum_type("file_enum", params["names"])} if run.files else {}),
                  **(enum_types or {})}
    accepted_file, accepted_rows = copy_to_parquet(con, sql, params, accepted_schema, enum_types)
    sql = f"""SELECT $names[{FILE_OF} + 1] AS source_file, {LINE_OF} AS source_line,
               coalesce(raw_record, '') AS raw_record, reason_code, reason_detail
        FROM {run.cls} WHERE reason_code IS NOT NULL ORDER BY rid"""
    quarantine_file, _ = copy_to_parquet(con, sql, params, contract.QUARANTINE_SCHEMA)
    counts: dict[int, tuple[int, int]] = {}
    reasons: dict[str, int] = {}
    for idx, code, n in run_sql(con, f"SELECT {FILE_OF}, reason_code, count(*) FROM {run.cls} GROUP BY ALL"):
        acc, quar = counts.get(int(idx), (0, 0))
        counts[int(idx)] = (acc + int(n), quar) if code is None else (acc, quar + int(n))
        if code is not None:
            reasons[code] = reasons.get(code, 0) + int(n)
    rec_rows: dict[str, list[Any]] = {c: [] for c in contract.RECONCILIATION_SCHEMA.names}
    for sf in run.files:
        acc, quar = counts.get(sf.idx, (0, 0))
        raw = run.raw_counts.get(sf.idx, 0)
        if raw != acc + quar:  # a bug in a parser, never a data problem
            raise AssertionError(f"{sf.name}: {raw} raw records but {acc} accepted + {quar} quarantined")
        rec_rows["source_file"].append(sf.name)
        rec_rows["raw_records"].append(raw)
        rec_rows["accepted_records"].append(acc)
        rec_rows["quarantined_records"].append(quar)
    return contract.ParsedExport(
        reconciliation=pa.table(rec_rows, schema=contract.RECONCILIATION_SCHEMA),
        accepted_file=accepted_file,
        quarantine_file=quarantine_file,
        accepted_schema=accepted_schema,
        accepted_rows=accepted_rows,
        quarantined_by_reason=reasons,
    )
