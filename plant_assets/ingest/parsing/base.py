"""Shared pieces of the historian and event parsers: frames, reason codes and the SQL stages.

Every parser follows the same plan, all heavy lifting in DuckDB on the caller's connection:

1. `open_source`: a file becomes a temp table `(source_line, line)`, one row per **physical** line (1-based,
   header = line 1), read by DuckDB's read_csv as one VARCHAR column without quoting (nothing is lost or
   re-interpreted), stored in file order so that a line's number is its rowid + 1. A file DuckDB cannot read that
   way (NUL bytes, UTF-16, invalid UTF-8, a stray carriage return, a glob character in its name ...) is split
   into lines in Python and registered instead, so a bad file never raises. The header is the first
   non-blank line; blank lines carry no record.
2. `split_fields_sql`: a line becomes its list of fields (`string_split`; a CSV regex when the line holds a
   quote character; trimmed when a space touches a delimiter), as a CSV reader would read it.
3. One INSERT per file classifies every record (a long line, or a (line, tag) cell of a wide file) into the
   `cls` temp table: parsed values plus `reason_code` (NULL = accepted so far) and `reason_detail`, first
   failing `Rule` wins. A record is keyed by `rid` = file, line and column packed into one BIGINT (which is
   also the file order). The INSERT's row count is the file's raw record count.
4. `LocalDay` converts plant-local timestamps to naive UTC with the plant's zone: offsets come from
   `zoneinfo` for the one partition day (piecewise constant, so the SQL is plain interval arithmetic, the
   same on any connection time zone), local times in a DST gap are `bad_timestamp`, and local times in a DST
   fold are resolved by file order (`resolve_fold`): the repeated hour of a time-ordered series is the
   second (standard-time) pass.
5. Exact duplicates on the key become `duplicate` (first in file order kept; `keys_are_unique` skips the
   GROUP BY for well-ordered exports), then `finish` writes the accepted and quarantine rows to Parquet with DuckDB
   (`COPY`, in a fixed order and schema; nothing passes through Python memory) and builds the reconciliation.

Identifiers in SQL are only generated here (temp names from a uuid); file paths, formats, tags and every
other value from configuration or data are bound parameters.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import tempfile
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

# ----------------------------------------------------------------------------------------------
# Reason codes and qualities (docs/contracts.md)

BAD_TIMESTAMP = "bad_timestamp"
BAD_VALUE = "bad_value"
UNKNOWN_TAG = "unknown_tag"
OUTSIDE_PARTITION_DAY = "outside_partition_day"
DUPLICATE = "duplicate"
MALFORMED_ROW = "malformed_row"
UNREADABLE_FILE = "unreadable_file"
REASON_CODES = (
    BAD_TIMESTAMP,
    BAD_VALUE,
    UNKNOWN_TAG,
    OUTSIDE_PARTITION_DAY,
    DUPLICATE,
    MALFORMED_ROW,
    UNREADABLE_FILE,
)
QUALITIES = ("good", "uncertain", "bad")

# ----------------------------------------------------------------------------------------------
# Frames

ACCEPTED_SCHEMA = pa.schema(
    [
        ("tag", pa.string()),
        ("ts_utc", pa.timestamp("us")),
        ("value", pa.float64()),
        ("quality", pa.string()),
        ("status_text", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)
RUNS_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("line_id", pa.string()),
        ("product_code", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("good_qty", pa.float64()),
        ("scrap_qty", pa.float64()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)
DOWNTIME_SCHEMA = pa.schema(
    [
        ("line_id", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("reason", pa.string()),
        ("category", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("raw_record", pa.string()),
        ("reason_code", pa.string()),
        ("reason_detail", pa.string()),
    ]
)
RECONCILIATION_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("raw_records", pa.int64()),
        ("accepted_records", pa.int64()),
        ("quarantined_records", pa.int64()),
    ]
)


class ParsedExport:
    """One stream of one plant-day, parsed.

    accepted: readings (ACCEPTED_SCHEMA) or events (RUNS_SCHEMA / DOWNTIME_SCHEMA), sorted.
    quarantine: QUARANTINE_SCHEMA, sorted by file, line (and column for wide files).
    reconciliation: RECONCILIATION_SCHEMA, one row per input file, raw = accepted + quarantined.

    accepted and quarantine are spooled to Parquet by DuckDB (`COPY`), never held in Python memory, so a
    multi-GB export parses in bounded memory; `.accepted` / `.quarantine` read them back on demand, and
    `move_accepted` / `move_quarantine` hand the files to the lake without reading them. The spool files
    are removed with this object.
    """

    def __init__(
        self,
        reconciliation: pa.Table,
        accepted_file: Path,
        quarantine_file: Path,
        accepted_schema: pa.Schema,
        accepted_rows: int,
        quarantined_by_reason: dict[str, int],
    ):
        self.reconciliation = reconciliation
        self.accepted_file = accepted_file
        self.quarantine_file = quarantine_file
        self.accepted_schema = accepted_schema
        self.accepted_rows = accepted_rows
        self.quarantined_by_reason = dict(sorted(quarantined_by_reason.items()))
        self._spool = [accepted_file, quarantine_file]
        weakref.finalize(self, _remove_files, list(self._spool))

    @classmethod
    def from_tables(cls, accepted: pa.Table, quarantine: pa.Table, reconciliation: pa.Table) -> "ParsedExport":
        """A ParsedExport of tables built in Python (an empty partition)."""
        files = []
        for table in (accepted, quarantine):
            path = spool_path()
            pq.write_table(table, path, compression="zstd")
            files.append(path)
        reasons: dict[str, int] = {}
        for code in quarantine.column("reason_code").to_pylist():
            reasons[code] = reasons.get(code, 0) + 1
        return cls(reconciliation, files[0], files[1], accepted.schema, accepted.num_rows, reasons)

    @property
    def accepted(self) -> pa.Table:
        return pq.read_table(self.accepted_file).cast(self.accepted_schema)

    @property
    def quarantine(self) -> pa.Table:
        return pq.read_table(self.quarantine_file).cast(QUARANTINE_SCHEMA)

    @property
    def quarantined_rows(self) -> int:
        return sum(self.quarantined_by_reason.values())

    def reason_counts(self) -> dict[str, int]:
        return dict(self.quarantined_by_reason)

    def unbalanced_files(self) -> list[str]:
        """Files whose raw_records differ from accepted + quarantined (always empty for our parsers)."""
        rec = self.reconciliation.to_pylist()
        return [r["source_file"] for r in rec if r["raw_records"] != r["accepted_records"] + r["quarantined_records"]]


_SPOOL_DIR: Path | None = None


def spool_path() -> Path:
    """A fresh file name in this process's spool folder (PLANT_ASSETS_SPOOL, else the system temp dir)."""
    global _SPOOL_DIR
    if _SPOOL_DIR is None or not _SPOOL_DIR.is_dir():
        root = os.environ.get("PLANT_ASSETS_SPOOL") or None
        if root:
            Path(root).mkdir(parents=True, exist_ok=True)
        _SPOOL_DIR = Path(tempfile.mkdtemp(prefix="plant-assets-spool-", dir=root))
    return _SPOOL_DIR / f"{uuid.uuid4().hex}.parquet"


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink()
        except OSError:
            pass


_DUCKDB_TYPES = {pa.string(): "VARCHAR", pa.timestamp("us"): "TIMESTAMP", pa.float64(): "DOUBLE",
                 pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.date32(): "DATE", pa.bool_(): "BOOLEAN"}


def typed_select(schema: pa.Schema, enum_types: dict[str, str] | None = None) -> str:
    """Columns of `schema` cast to their DuckDB types, so the Parquet file has exactly that schema.

    A string column named in `enum_types` is cast to that ENUM type instead: DuckDB writes an ENUM's
    dictionary page straight from the type rather than hashing every value, and the file still holds plain
    strings.
    """
    enum_types = enum_types or {}
    return ", ".join(
        f'CAST("{f.name}" AS {enum_types.get(f.name) or _DUCKDB_TYPES[f.type]}) AS "{f.name}"' for f in schema
    )


def copy_to_parquet(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any],
    schema: pa.Schema,
    enum_types: dict[str, str] | None = None,
) -> tuple[Path, int]:
    """Write a query's rows to a new spool Parquet file in DuckDB (streamed; spills instead of holding it)."""
    path = spool_path()
    copy = f"COPY (SELECT {typed_select(schema, enum_types)} FROM ({sql})) TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
    rows = con.execute(copy, bind(sql, params)).fetchone()[0]
    return path, int(rows)


class DialectConfigError(ValueError):
    """The plant's dialect options cannot be used (a configuration error, raised before any data is read)."""


# ----------------------------------------------------------------------------------------------
# Small helpers

# Whitespace trimmed from every field (DuckDB's one-argument trim only removes spaces).
WS = " \t\r\n\f\v"
RAW_RECORD_MAX = 4000  # characters of a quarantined line kept in raw_record
_GLOB_CHARS = set("*?[]{}")


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def bind(sql: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The named parameters a statement uses (DuckDB rejects unused ones); a missing one is a bug."""
    used = set(_PARAM.findall(sql))
    params = params or {}
    missing = used - set(params)
    if missing:
        raise KeyError(f"SQL parameters without values: {sorted(missing)}")
    return {k: params[k] for k in used}


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    """Run one statement with its named parameters and fetch every row (the connection is then free)."""
    return con.execute(sql, bind(sql, params)).fetchall()


def as_day(day: date | datetime | str) -> date:
    if isinstance(day, datetime):
        return day.date()
    if isinstance(day, date):
        return day
    if isinstance(day, str):
        return date.fromisoformat(day)
    raise TypeError(f"day must be a date or an ISO date string, not {type(day).__name__}")


def check_delimiter(delim: Any, where: str) -> str:
    if not isinstance(delim, str) or len(delim) != 1 or delim in "\"\r\n" or delim.isalnum():
        raise DialectConfigError(f"{where}: delimiter must be one non-alphanumeric character other than a quote "
                                 f"or a line break, got {delim!r}")
    return delim


def check_formats(con: duckdb.DuckDBPyConnection, fmt: Any, where: str) -> list[str]:
    """A strptime format or list of formats (tried in order); validated by DuckDB once, up front."""
    formats = [fmt] if isinstance(fmt, str) else fmt
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and f for f in formats):
        raise DialectConfigError(f"{where}: timestamp_format must be a strptime format or a list of them, got {fmt!r}")
    if any("%z" in f or "%Z" in f for f in formats):
        raise DialectConfigError(
            f"{where}: timestamp_format {fmt!r} reads a UTC offset or zone name (%z/%Z), which is not supported; "
            "export naive timestamps and set timestamps_in to 'local' or 'utc'"
        )
    try:
        run_sql(con, "SELECT try_strptime('x', $f)", {"f": formats})
    except duckdb.Error as exc:
        raise DialectConfigError(f"{where}: timestamp_format {fmt!r} is not a valid strptime format: {exc}") from exc
    return formats


def check_options(options: dict[str, Any], known: Iterable[str], where: str) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DialectConfigError(f"{where}: unknown option(s) {unknown}; known options are {sorted(known)}")


def re2_char(ch: str) -> str:
    return "\\x{%x}" % ord(ch)


def split_header(line: str, delim: str) -> list[str]:
    """Fields of a header line, read as CSV, trimmed."""
    try:
        row = next(csv.reader([line], delimiter=delim, quotechar='"', strict=False), [])
    except csv.Error:
        row = line.split(delim)
    return [f.strip(WS) for f in row]


def delimiter_hint(line: str, delim: str) -> str:
    """'; the header seems to use ';'' when another common delimiter explains the header better."""
    counts = {d: line.count(d) for d in (",", ";", "\t", "|") if d != delim}
    best = max(counts, key=lambda d: counts[d]) if counts else None
    if best and counts[best] > line.count(delim):
        return f"; the file seems to use {best!r} as delimiter, the plant config says {delim!r}"
    return ""


def short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------------------------
# Temp objects on the caller's connection


class Workspace:
    """Uniquely named temp tables on the caller's connection, dropped on exit.

    Line numbers and the output order rely on DuckDB keeping insertion order, so a connection that turned
    it off gets it back on until the workspace closes.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.prefix = f"_pa_{uuid.uuid4().hex[:12]}"
        self._tables: list[str] = []
        self._views: list[str] = []
        self._types: list[str] = []
        self._restore_order = not run_sql(con, "SELECT current_setting('preserve_insertion_order')")[0][0]
        if self._restore_order:
            run_sql(con, "SET preserve_insertion_order = true")

    def name(self, name: str) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"bad temp name {name!r}")
        return f'"{self.prefix}_{name}"'

    def create(self, name: str, ddl_columns: str) -> str:
        ident = self.name(name)
        run_sql(self.con, f"CREATE TEMP TABLE {ident} ({ddl_columns})")
        self._tables.append(ident)
        return ident

    def create_as(self, name: str, select_sql: str, params: dict[str, Any] | None = None) -> str:
        ident = self.name(name)
        run_sql(self.con, f"CREATE TEMP TABLE {ident} AS {select_sql}", params)
        self._tables.append(ident)
        return ident

    def enum_type(self, name: str, values: Sequence[str]) -> str:
        """A temp ENUM type of these distinct values, dropped on exit."""
        ident = self.name(name)
        run_sql(self.con, f"CREATE TEMP TYPE {ident} AS ENUM (SELECT unnest($values::VARCHAR[]))", {"values": list(values)})
        self._types.append(ident)
        return ident

    def adopt(self, ident: str) -> None:
        """Drop this table (created by the caller with a name from .name()) on exit."""
        self._tables.append(ident)

    def register(self, name: str, table: pa.Table) -> str:
        view = f"{self.prefix}_{name}"
        self.con.register(view, table)
        self._views.append(view)
        return f'"{view}"'

    def unregister(self, quoted: str) -> None:
        view = quoted.strip('"')
        self.con.unregister(view)
        self._views.remove(view)

    def close(self) -> None:
        for view in reversed(self._views):
            try:
                self.con.unregister(view)
            except duckdb.Error:
                pass
        for ident in reversed(self._tables):
            try:
                run_sql(self.con, f"DROP TABLE IF EXISTS {ident}")
            except duckdb.Error:
                pass
        for ident in reversed(self._types):
            try:
                run_sql(self.con, f"DROP TYPE IF EXISTS {ident}")
            except duckdb.Error:
                pass
        self._views.clear()
        self._tables.clear()
        self._types.clear()
        if self._restore_order:
            run_sql(self.con, "SET preserve_insertion_order = false")
            self._restore_order = False

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------
# Files and lines

SRC = "__SRC__"  # placeholder for a file's (source_line, line) relation in a statement
# A line with a visible first character is not blank; only the rest need the (slower) trim.
NONBLANK = "(ascii(line) > 32 OR trim(line, $ws) <> '')"
# One physical line a row, stored in file order (an order-keeping CREATE TABLE AS), so a line's number is its
# rowid + 1: cheaper than numbering the rows while reading.
_READ_LINES = """SELECT line
    FROM read_csv($src_path, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
                  delim = chr(1), quote = '', escape = '', comment = '', skip = 0, strict_mode = true,
                  all_varchar = true)"""


@dataclass
class SourceFile:
    """One input file: the temp relation holding its lines, its header and, if it cannot be used, why."""

    idx: int
    path: Path
    name: str  # the source_file value: the file's name
    problem: str | None = None  # set when the file cannot be read as text at all
    header_line: int = 0  # physical line of the header (0 = none found)
    header: list[str] = field(default_factory=list)
    header_raw: str = ""
    lines: str | None = None  # relation (source_line, line): a subquery or registered view; None = not read

    def from_sql(self) -> str:
        if self.lines is None:
            return "(SELECT NULL::BIGINT AS source_line, NULL::VARCHAR AS line WHERE false)"
        return f"(SELECT source_line, line FROM {self.lines})"


def source_files(files: Sequence[Path | str]) -> list[SourceFile]:
    paths = [Path(f) for f in files]
    names = [p.name for p in paths]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"the same file name is given more than once: {dupes}")
    return [SourceFile(i, p, p.name) for i, p in enumerate(sorted(paths, key=lambda p: p.name))]


def _duckdb_can_open(path: Path) -> bool:
    # DuckDB expands globs and reads URLs; such names are read in Python instead.
    text = str(path)
    return not (set(text) & _GLOB_CHARS) and "://" not in text and not text.startswith("~")


def _decode(data: bytes) -> tuple[str, str | None]:
    """Text of a file and, when it is not a text export at all, why."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return data.decode("utf-16", errors="replace"), f"broken UTF-16 text at byte {exc.start}"
    if b"\x00" in data[: 1 << 16]:
        return data.decode("latin-1"), "binary data (NUL bytes), not a text export"
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    # Windows exports in cp1252 are common; bytes undefined there become U+FFFD.
    return data.decode("cp1252", errors="replace"), None


def _read_in_python(ws: Workspace, sf: SourceFile, encoding: str | None = None) -> None:
    """Decode the whole file in Python (with `encoding` when the config names one) and register its lines."""
    try:
        data = sf.path.read_bytes()
    except OSError as exc:
        sf.problem = f"cannot read file: {exc.strerror or exc}"
        return
    if encoding:
        try:
            text, sf.problem = data.decode(encoding), None
            if text.startswith("\ufeff"):
                text = text[1:]
        except UnicodeDecodeError as exc:
            text, sf.problem = data.decode(encoding, errors="replace"), f"not {encoding} text (byte {exc.start})"
    else:
        text, sf.problem = _decode(data)
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    parts = [p[:-1] if p.endswith("\r") else p for p in parts]
    table = pa.table(
        {
            "source_line": pa.array(range(1, len(parts) + 1), pa.int64()),
            "line": pa.array(parts, pa.string()),
        }
    )
    sf.lines = ws.register(f"src_{sf.idx}", table)


def open_source(ws: Workspace, sf: SourceFile, delim: str, encoding: str | None = None) -> None:
    """Read a file's lines into a temp table and find its header (first non-blank line).

    DuckDB reads a plain text file (fast, one physical line a row); anything else (UTF-16, NUL bytes, invalid
    UTF-8, a stray carriage return, a glob character in the name ...) is decoded in Python instead.
    Sets sf.problem when the file is missing, empty or not text.
    """
    path = sf.path
    try:
        if not path.is_file():
            sf.problem = "file not found" if not path.exists() else "not a regular file"
            return
        if path.stat().st_size == 0:
            sf.problem = "file is empty (0 bytes)"
            return
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError as exc:
        sf.problem = f"cannot open file: {exc.strerror or exc}"
        return
    plain = not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" not in head
    if plain and encoding is None and _duckdb_can_open(path):
        table = ws.name(f"lines_{sf.idx}")
        try:
            run_sql(ws.con, f"CREATE TEMP TABLE {table} AS {_READ_LINES}", {"src_path": str(path)})
            ws.adopt(table)
            sf.lines = f"(SELECT rowid + 1 AS source_line, line FROM {table})"
        except duckdb.Error:
            run_sql(ws.con, f"DROP TABLE IF EXISTS {table}")
    if sf.lines is None:
        _read_in_python(ws, sf, encoding)
        if sf.lines is None:
            return
    first = f"SELECT source_line, line FROM {sf.lines} WHERE {{where}} AND {NONBLANK} ORDER BY source_line LIMIT 1"
    row = run_sql(ws.con, first.format(where="source_line <= 64"), {"ws": WS}) or run_sql(
        ws.con, first.format(where="true"), {"ws": WS}
    )
    if row:
        sf.header_line = int(row[0][0])
        sf.header_raw = row[0][1]
        sf.header = split_header(row[0][1], delim)


def exec_on_source(ws: Workspace, sf: SourceFile, sql: str, params: dict[str, Any]) -> list[tuple]:
    """Run a statement over the file's lines (SRC in sql)."""
    return run_sql(ws.con, sql.replace(SRC, sf.from_sql()), params)


def split_params(delim: str) -> dict[str, Any]:
    """Parameters used by split_fields_sql: the delimiter and two CSV regexes built from it."""
    d = re2_char(delim)
    fld = f'(?:[ \\t]*"(?:[^"]|"")*"[ \\t\\r]*|[^"{d}]*)'
    return {
        "delim": delim,
        "ws": WS,
        "csv_valid": f"(?:{fld}{d})*",
        "csv_field": f"({fld}){d}",
    }


def split_fields_sql(col: str = "line") -> str:
    """SQL: the list of trimmed, unquoted fields of a line; NULL when its quotes are unbalanced.

    The common case (no quote, no space next to a delimiter or at the ends of the line) is a bare
    string_split; otherwise every field is trimmed of whitespace and a quoted field is unquoted.
    """
    return f"""CASE WHEN contains({col}, '"') THEN CASE WHEN regexp_full_match({col} || $delim, $csv_valid)
            THEN list_transform(regexp_extract_all({col} || $delim, $csv_field, 1),
                lambda x: CASE WHEN trim(x, $ws) LIKE '"%"' THEN replace(trim(x, $ws)[2:-2], '""', '"')
                               ELSE trim(x, $ws) END) END
        WHEN contains({col}, ' ' || $delim) OR contains({col}, $delim || ' ') OR ascii({col}) <= 32
             OR ends_with({col}, ' ')
            THEN list_transform(string_split({col}, $delim), lambda x: trim(x, $ws))
        ELSE string_split({col}, $delim) END"""


def num_sql(text: str, sql_type: str = "DOUBLE") -> str:
    """SQL: TRY_CAST of a text field, NULL for an empty one (cheaper than casting '')."""
    return f"CASE WHEN {text} <> '' THEN TRY_CAST({text} AS {sql_type}) END"


def field_sql(fields: str, pos: int | None) -> str:
    """SQL for the field at a 1-based position (positions are ints from our own header lookup)."""
    if pos is None:
        return "NULL::VARCHAR"
    return f"{fields}[{int(pos)}]"


def raw_sql(col: str = "line") -> str:
    return f"CASE WHEN length({col}) > {RAW_RECORD_MAX} THEN left({col}, {RAW_RECORD_MAX}) || '…[truncated]' ELSE {col} END"


def find_columns(header: Sequence[str], wanted: dict[str, str]) -> tuple[dict[str, int], list[str]]:
    """1-based positions of wanted columns {key: header name}: exact match first, then case-insensitive."""
    positions: dict[str, int] = {}
    missing: list[str] = []
    lowered = [h.lower() for h in header]
    for key, name in wanted.items():
        if name in header:
            positions[key] = header.index(name) + 1
        elif name.lower() in lowered:
            positions[key] = lowered.index(name.lower()) + 1
        else:
            missing.append(name)
    return positions, missing


# ----------------------------------------------------------------------------------------------
# Time zones: one plant-local day


@dataclass(frozen=True)
class Segment:
    start: datetime  # local, inclusive
    end: datetime  # local, exclusive
    kind: str  # normal | gap | fold
    offset: int  # seconds east of UTC (for a fold: of the first pass)
    offset2: int  # fold: offset of the second pass; else = offset


def _offset(tz: ZoneInfo, utc: datetime) -> int:
    return int(utc.replace(tzinfo=timezone.utc).astimezone(tz).utcoffset().total_seconds())


class LocalDay:
    """The partition: plant-local [day 00:00, day+1 00:00) and how its local times map to UTC."""

    def __init__(self, tz_name: str, day: date):
        self.tz_name = tz_name
        self.tz = ZoneInfo(tz_name)
        self.day = day
        self.start_local = datetime.combine(day, time())
        self.end_local = self.start_local + timedelta(days=1)
        self.start_utc = self.to_utc(self.start_local)
        self.end_utc = self.to_utc(self.end_local)
        self.segments = self._segments()

    def to_utc(self, local: datetime, fold: int = 0) -> datetime:
        """Naive UTC of a naive local time (a gap time maps to the transition instant with fold=0)."""
        return local.replace(tzinfo=self.tz, fold=fold).astimezone(timezone.utc).replace(tzinfo=None)

    def _transitions(self) -> list[tuple[datetime, int, int]]:
        lo = self.start_local - timedelta(hours=30)
        hi = self.end_local + timedelta(hours=30)
        step = timedelta(minutes=15)
        found = []
        t, prev = lo, _offset(self.tz, lo)
        while t < hi:
            nxt = t + step
            off = _offset(self.tz, nxt)
            if off != prev:
                a, b = t, nxt  # offset(a) == prev, offset(b) == off
                while b - a > timedelta(seconds=1):
                    mid = a + (b - a) / 2
                    mid = mid.replace(microsecond=0)
                    if mid <= a:
                        break
                    if _offset(self.tz, mid) == prev:
                        a = mid
                    else:
                        b = mid
                found.append((b, prev, off))
            t, prev = nxt, off
        return found

    def _classify(self, local: datetime) -> tuple[str, int, int]:
        o0 = int(local.replace(tzinfo=self.tz, fold=0).utcoffset().total_seconds())
        o1 = int(local.replace(tzinfo=self.tz, fold=1).utcoffset().total_seconds())
        if o0 == o1:
            return "normal", o0, o0
        back = (local - timedelta(seconds=o0)).replace(tzinfo=timezone.utc).astimezone(self.tz).replace(tzinfo=None)
        if back != local:
            return "gap", o0, o1
        return "fold", o0, o1

    def _segments(self) -> list[Segment]:
        points = {self.start_local, self.end_local}
        for t_utc, before, after in self._transitions():
            for p in (t_utc + timedelta(seconds=before), t_utc + timedelta(seconds=after)):
                if self.start_local < p < self.end_local:
                    points.add(p)
        bounds = sorted(points)
        segs: list[Segment] = []
        for a, b in zip(bounds, bounds[1:]):
            kind, o1, o2 = self._classify(a)
            if segs and segs[-1].kind == kind == "normal" and segs[-1].offset == o1:
                segs[-1] = Segment(segs[-1].start, b, kind, o1, o2)
            else:
                segs.append(Segment(a, b, kind, o1, o2))
        return segs

    @property
    def has_fold(self) -> bool:
        return any(s.kind == "fold" for s in self.segments)

    def params(self, p: str = "tz") -> dict[str, Any]:
        out: dict[str, Any] = {
            f"{p}_l0": self.start_local,
            f"{p}_l1": self.end_local,
            f"{p}_u0": self.start_utc,
            f"{p}_u1": self.end_utc,
            f"{p}_name": self.tz_name,
        }
        for i, s in enumerate(self.segments):
            out[f"{p}_s{i}"] = s.start
            out[f"{p}_e{i}"] = s.end
            out[f"{p}_o{i}"] = s.offset
            out[f"{p}_p{i}"] = s.offset2
        return out

    def utc_sql(self, x: str, p: str = "tz") -> str:
        """SQL: naive UTC of local timestamp x (first pass for folds, NULL in a gap).

        Local times outside the day use the offset of the nearest segment: they are quarantined anyway.
        """
        segs = self.segments
        if len(segs) == 1:
            return f"({x} - to_seconds(${p}_o0))"
        arms = []
        for i, s in enumerate(segs[:-1]):
            value = "NULL::TIMESTAMP" if s.kind == "gap" else f"{x} - to_seconds(${p}_o{i})"
            arms.append(f"WHEN {x} < ${p}_e{i} THEN {value}")
        last = len(segs) - 1
        value = "NULL::TIMESTAMP" if segs[-1].kind == "gap" else f"{x} - to_seconds(${p}_o{last})"
        return f"(CASE {' '.join(arms)} ELSE {value} END)"

    def gap_sql(self, x: str, p: str = "tz") -> str:
        """SQL: true when local timestamp x does not exist (DST gap)."""
        arms = [f"({x} >= ${p}_s{i} AND {x} < ${p}_e{i})" for i, s in enumerate(self.segments) if s.kind == "gap"]
        return f"({' OR '.join(arms)})" if arms else "false"

    def fold_offset2_sql(self, x: str, p: str = "tz") -> str:
        """SQL: the second-pass offset (seconds) when local timestamp x is ambiguous (DST fold), else NULL."""
        arms = [
            f"WHEN {x} >= ${p}_s{i} AND {x} < ${p}_e{i} THEN ${p}_p{i}"
            for i, s in enumerate(self.segments)
            if s.kind == "fold"
        ]
        return f"(CASE {' '.join(arms)} END)::INTEGER" if arms else "NULL::INTEGER"

    def outside_local_sql(self, x: str, p: str = "tz") -> str:
        return f"({x} < ${p}_l0 OR {x} >= ${p}_l1)"

    def outside_utc_sql(self, x: str, p: str = "tz") -> str:
        return f"({x} < ${p}_u0 OR {x} >= ${p}_u1)"


# ----------------------------------------------------------------------------------------------
# Classification table and the final stage

RID_LINE_SHIFT = 16  # rid = file_idx << 47 | source_line << 16 | sub (sub: column of a wide file)
FILE_OF = "(rid >> 47)"
LINE_OF = f"((rid >> {RID_LINE_SHIFT}) & 2147483647)"


def rid_sql(file_idx_sql: str, line_sql: str, sub_sql: str = "0") -> str:
    return f"(({file_idx_sql})::BIGINT << 47) | (({line_sql})::BIGINT << {RID_LINE_SHIFT}) | ({sub_sql})::BIGINT"


def insert_unreadable(run: "StreamRun", sf: SourceFile, problem: str) -> int:
    """Quarantine every non-blank line of a file as unreadable_file (one record at line 0 if it has none)."""
    detail = f"{sf.name}: {problem}"
    params = {"i": sf.idx, "code": UNREADABLE_FILE, "detail": detail, "ws": WS}
    n = 0
    if sf.lines is not None:
        n = exec_on_source(
            run.ws,
            sf,
            f"""INSERT INTO {run.cls} (rid, raw_record, reason_code, reason_detail)
            SELECT {rid_sql('$i', 'source_line')}, {raw_sql()}, $code, $detail FROM {SRC} WHERE {NONBLANK}""",
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


def resolve_fold(ws: Workspace, cls: str, key_sql: str, local_col: str, utc_col: str, off2_col: str) -> None:
    """Move the second pass of a repeated (DST fold) hour to its standard-time UTC instant.

    Within each (file, key) series in file order, the second pass starts at the first fold record that goes
    back in local time (earlier than an earlier fold record), or that repeats an earlier fold record's local
    time with different content (another line: other value, status ...). It and every later fold record
    of the series are second pass. An exact re-delivered line repeats the time with the same content, so it
    stays in its pass and becomes a duplicate. Records of a wide line share the line, so they move together.
    Only fold records carry fold_line / the local time, so this touches a few rows.
    """
    run_sql(
        ws.con,
        f"""UPDATE {cls} SET {utc_col} = s.utc2
        FROM (
            WITH a AS (
                SELECT rid, {FILE_OF} AS f, coalesce(({key_sql})::VARCHAR, '') AS k, {local_col} AS lt,
                       {local_col} - to_seconds({off2_col}) AS utc2, fold_line AS line
                FROM {cls} WHERE {off2_col} IS NOT NULL
            ), w AS (
                SELECT *,
                       max(lt) OVER (PARTITION BY f, k ORDER BY rid
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max,
                       first_value(line) OVER (PARTITION BY f, k, lt ORDER BY rid) AS first_line
                FROM a
            ), r AS (
                SELECT f, k, min(rid) AS first_rid FROM w
                WHERE lt < prev_max OR line IS DISTINCT FROM first_line GROUP BY f, k
            )
            SELECT w.rid, w.utc2 FROM w JOIN r ON w.f = r.f AND w.k = r.k AND w.rid >= r.first_rid
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
        {**params, "code": DUPLICATE, "what": what, "names": [f.name for f in run.files]},
    )


def fill_raw_records(run: "StreamRun") -> None:
    """raw_record of quarantined records that have none yet (duplicates): their line, read again."""
    todo = run_sql(
        run.con,
        f"SELECT DISTINCT {FILE_OF} FROM {run.cls} WHERE reason_code IS NOT NULL AND raw_record IS NULL ORDER BY 1",
    )
    for (idx,) in todo:
        sf = run.files[int(idx)]
        exec_on_source(
            run.ws,
            sf,
            f"""UPDATE {run.cls} SET raw_record = s.raw
            FROM (
                SELECT source_line, {raw_sql()} AS raw FROM {SRC}
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
) -> ParsedExport:
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
    quarantine_file, _ = copy_to_parquet(con, sql, params, QUARANTINE_SCHEMA)
    counts: dict[int, tuple[int, int]] = {}
    reasons: dict[str, int] = {}
    for idx, code, n in run_sql(con, f"SELECT {FILE_OF}, reason_code, count(*) FROM {run.cls} GROUP BY ALL"):
        acc, quar = counts.get(int(idx), (0, 0))
        counts[int(idx)] = (acc + int(n), quar) if code is None else (acc, quar + int(n))
        if code is not None:
            reasons[code] = reasons.get(code, 0) + int(n)
    rec_rows: dict[str, list[Any]] = {c: [] for c in RECONCILIATION_SCHEMA.names}
    for sf in run.files:
        acc, quar = counts.get(sf.idx, (0, 0))
        raw = run.raw_counts.get(sf.idx, 0)
        if raw != acc + quar:  # a bug in a parser, never a data problem
            raise AssertionError(f"{sf.name}: {raw} raw records but {acc} accepted + {quar} quarantined")
        rec_rows["source_file"].append(sf.name)
        rec_rows["raw_records"].append(raw)
        rec_rows["accepted_records"].append(acc)
        rec_rows["quarantined_records"].append(quar)
    return ParsedExport(
        reconciliation=pa.table(rec_rows, schema=RECONCILIATION_SCHEMA),
        accepted_file=accepted_file,
        quarantine_file=quarantine_file,
        accepted_schema=accepted_schema,
        accepted_rows=accepted_rows,
        quarantined_by_reason=reasons,
    )


# ----------------------------------------------------------------------------------------------
# Tag map and qualities


def create_tag_table(ws: Workspace, tag_names: list[str]) -> str:
    """A temp table (source_tag, tag_idx) of the plant's tags; tag_idx is the 1-based position in tag_names.

    tag_names is sorted, so ordering by tag_idx is ordering by tag (and an integer is cheaper to sort and group).
    """
    return ws.create_as(
        "tags",
        "SELECT unnest($tags::VARCHAR[]) AS source_tag, unnest(range(1, len($tags::VARCHAR[]) + 1))::INTEGER AS tag_idx",
        {"tags": tag_names},
    )


def quality_map(raw: Any, default: dict[str, str], where: str, key_type: type = str) -> dict[Any, str]:
    if raw is None:
        return dict(default)
    if not isinstance(raw, dict):
        raise DialectConfigError(f"{where}: must be a mapping of source status to good/uncertain/bad, got {raw!r}")
    out: dict[Any, str] = {}
    for k, v in raw.items():
        if v not in QUALITIES:
            raise DialectConfigError(f"{where}: {k!r} maps to {v!r}; use one of {list(QUALITIES)}")
        try:
            out[key_type(k)] = v
        except (TypeError, ValueError) as exc:
            raise DialectConfigError(f"{where}: key {k!r} is not a {key_type.__name__}") from exc
    return out


# Historian timestamps: naive local or UTC text -> local/UTC columns


def timestamps_in(options: dict[str, Any], where: str) -> str:
    value = options.get("timestamps_in", "local")
    if value not in ("local", "utc"):
        raise DialectConfigError(f"{where}: timestamps_in must be 'local' or 'utc', got {value!r}")
    return value


# ----------------------------------------------------------------------------------------------
# Record classification: first matching rule wins


@dataclass(frozen=True)
class Rule:
    when: str  # SQL condition
    code: str  # one of REASON_CODES
    detail: str  # SQL expression for reason_detail


def rule_sql(rules: Sequence[Rule]) -> tuple[str, str, str]:
    """(rule number SQL, reason_code SQL given column `rule_no`, reason_detail SQL given `rule_no`)."""
    for r in rules:
        if r.code not in REASON_CODES:
            raise ValueError(f"unknown reason code {r.code!r}")
    number = "CASE " + " ".join(f"WHEN {r.when} THEN {i}" for i, r in enumerate(rules, 1)) + " END"
    code = "CASE rule_no " + " ".join(f"WHEN {i} THEN '{r.code}'" for i, r in enumerate(rules, 1)) + " END"
    detail = "CASE rule_no " + " ".join(f"WHEN {i} THEN {r.detail}" for i, r in enumerate(rules, 1)) + " END"
    return number, code, detail


# ----------------------------------------------------------------------------------------------
# The historian run shared by the three dialects

HIST_CLS_DDL = """rid BIGINT, tag_idx INTEGER, ts_utc TIMESTAMP, value DOUBLE, quality VARCHAR,
    status_text VARCHAR, raw_record VARCHAR, reason_code VARCHAR, reason_detail VARCHAR,
    fold_local TIMESTAMP, fold_off2 INTEGER, fold_line VARCHAR"""


@dataclass
class StreamRun:
    """What a parser's per-file step gets: the connection's temp tables and the partition."""

    ws: Workspace
    cls: str
    tags: str
    tag_names: list[str]
    day: LocalDay
    files: list[SourceFile]
    plant_id: str
    delim: str
    raw_counts: dict[int, int] = field(default_factory=dict)
    # A parser sets this when it knows duplicates are possible that the cheap check cannot see.
    force_dedup: bool = False
    # Set by keys_are_unique when the accepted rows are already in (tag, ts_utc) order: finish skips the sort.
    in_key_order: bool = False
    # ENUM type of tag_names (None for an empty tag map): lookups by tag and the accepted `tag` column.
    tag_enum: str | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        return self.ws.con

    def tag_lookup(self, text: str) -> str:
        """SQL for the tag_idx of tag text `text` (NULL when the tag is not mapped).

        A cast to the tag map's ENUM type is a hash lookup that keeps the file order of the rows (which the
        cheap uniqueness check relies on, and a hash join may not keep); its code is tag_idx - 1.
        """
        if self.tag_enum is None:
            return "NULL::INTEGER"
        return f"(enum_code(TRY_CAST({text} AS {self.tag_enum})) + 1)::INTEGER"

    def insert(self, sf: SourceFile, sql: str, params: dict[str, Any], records_per_line: int = 1) -> None:
        """Run a per-file classifying INSERT (SRC = the file's lines); its row count is the raw record count."""
        n = exec_on_source(self.ws, sf, sql, {**params, "tag_names": self.tag_names})[0][0]
        self.raw_counts[sf.idx] = int(n)


def run_stream(
    plant: Any,
    files: Sequence[Path | str],
    day: date | datetime | str,
    con: duckdb.DuckDBPyConnection,
    *,
    delim: str,
    cls_ddl: str,
    parse_file: Callable[[StreamRun, SourceFile], str | None],
    post: Callable[[StreamRun], None] | None,
    dedup_keys: Sequence[str],
    dedup_what: str,
    accepted_select: str,
    accepted_order: str,
    accepted_schema: pa.Schema,
    key_params: Callable[[LocalDay], dict[str, Any]] | None = None,
    unique_check: Callable[[StreamRun, dict[str, Any]], bool] | None = None,
    encoding: str | None = None,
    enum_types: Callable[[StreamRun], dict[str, str]] | None = None,
) -> ParsedExport:
    """Read the files, let `parse_file(run, sf)` classify each readable one, then `post`, dedup and the frames.

    parse_file inserts the file's records with run.insert (returning None), or returns a problem text to
    quarantine the whole file as unreadable_file.
    """
    local_day = LocalDay(plant.timezone, as_day(day))
    sfs = source_files(files)
    tag_names = sorted({m.source_tag for m in plant.tag_map})
    with Workspace(con) as ws:
        run = StreamRun(
            ws=ws,
            cls=ws.create("cls", cls_ddl),
            tags=create_tag_table(ws, tag_names),
            tag_names=tag_names,
            day=local_day,
            files=sfs,
            plant_id=plant.plant_id,
            delim=delim,
            tag_enum=ws.enum_type("tag_enum", tag_names) if tag_names else None,
        )
        for sf in sfs:
            open_source(ws, sf, delim, encoding)
            problem = sf.problem
            if problem is None:
                problem = "file has no header line (only blank lines)" if not sf.header_line else parse_file(run, sf)
            if problem is not None:
                run_sql(con, f"DELETE FROM {run.cls} WHERE {FILE_OF} = $i", {"i": sf.idx})
                run.raw_counts[sf.idx] = insert_unreadable(run, sf, problem)
        if post is not None:
            post(run)
        kp = key_params(local_day) if key_params else {}
        if unique_check is None or not unique_check(run, kp):
            mark_duplicates(run, dedup_keys, dedup_what, kp)
        fill_raw_records(run)
        return finish(run, accepted_select, accepted_order, accepted_schema, kp, enum_types(run) if enum_types else None)


# (tag, ts_utc) of an accepted reading as one BIGINT that sorts like (tag, ts_utc): tag_idx follows the sorted
# tag names, and an accepted ts_utc lies in the partition's UTC window [start_utc, end_utc) (at most 27 hours,
# < 2^37 microseconds) so its offset from start_utc fits in the low 40 bits. Cheaper to group and sort.
READING_KEY = "((tag_idx::BIGINT << 40) | (epoch_us(ts_utc) - $key_origin))"
# Time first, then the column: what a time-ordered wide export increases along (injective for a file whose
# header names each tag once; a header repeating a tag forces the full dedup).
WIDE_TIME_KEY = "(((epoch_us(ts_utc) - $key_origin) << 16) | (rid & 65535))"
# The same for a time-major long export (each time stamp's rows in tag order): time, then tag (< 2^23 tags).
LONG_TIME_KEY = "(((epoch_us(ts_utc) - $key_origin) << 23) | tag_idx)"


def run_historian(
    plant: Any,
    files: Sequence[Path | str],
    day: date | datetime | str,
    con: duckdb.DuckDBPyConnection,
    delim: str,
    parse_file: Callable[[StreamRun, SourceFile], str | None],
    fold_key: str | None = "tag_idx",
    time_key: str | None = None,
    precheck: bool = True,
    encoding: str | None = None,
    shift_us: int = 0,
) -> ParsedExport:
    """run_stream for readings: DST-fold resolution per (file, fold_key), dedup on (tag, ts_utc).

    shift_us moves every instant back after the fold is resolved (interval-end stamps -> interval start).
    """

    def post(run: StreamRun) -> None:
        if fold_key is not None and run.day.has_fold:
            resolve_fold(run.ws, run.cls, fold_key, "fold_local", "ts_utc", "fold_off2")
        if shift_us:
            run_sql(run.con, f"UPDATE {run.cls} SET ts_utc = ts_utc - to_microseconds($s) WHERE ts_utc IS NOT NULL",
                    {"s": int(shift_us)})

    return run_stream(
        plant,
        files,
        day,
        con,
        delim=delim,
        cls_ddl=HIST_CLS_DDL,
        parse_file=parse_file,
        post=post,
        dedup_keys=(READING_KEY,),
        dedup_what="this tag and timestamp was",
        accepted_select="$tag_names[tag_idx] AS tag, ts_utc, value, quality, status_text",
        accepted_order=READING_KEY,  # unique after the dedup, so no tie to break
        accepted_schema=ACCEPTED_SCHEMA,
        key_params=lambda day: {"key_origin": _epoch_us(day.start_utc)},
        unique_check=(lambda run, kp: keys_are_unique(run, time_key, kp)) if precheck else None,
        encoding=encoding,
        enum_types=lambda run: {"quality": run.ws.enum_type("quality_enum", QUALITIES),
                                **({"tag": run.tag_enum} if run.tag_enum else {})},
    )


def _epoch_us(naive_utc: datetime) -> int:
    delta = naive_utc - datetime(1970, 1, 1)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def timestamp_sql(day: LocalDay, mode: str, parsed: str) -> dict[str, str]:
    """SQL expressions for a parsed naive timestamp column in `mode` ('local' or 'utc')."""
    if mode == "local":
        return {
            "ts_local": parsed,
            "ts_utc": day.utc_sql(parsed),
            "in_gap": day.gap_sql(parsed),
            "outside": day.outside_local_sql(parsed),
            "off2": day.fold_offset2_sql(parsed),
        }
    return {
        "ts_local": "NULL::TIMESTAMP",
        "ts_utc": parsed,
        "in_gap": "false",
        "outside": day.outside_utc_sql(parsed),
        "off2": "NULL::INTEGER",
    }


def timestamp_rules(day: LocalDay, mode: str, parsed: str, text: str) -> list[Rule]:
    """bad_timestamp (unparseable / DST gap) and outside_partition_day rules for one timestamp column."""
    zone = "local time" if mode == "local" else "UTC"
    return [
        Rule(f"{parsed} IS NULL", BAD_TIMESTAMP,
             f"format('timestamp ''{{}}'' does not match the format {{}}', {text}, $fmt_text)"),
        Rule("in_gap", BAD_TIMESTAMP,
             f"format('local time {{}} does not exist in {{}} (skipped by the DST change)', {parsed}, $tz_name)"),
        Rule("outside", OUTSIDE_PARTITION_DAY,
             f"format('{zone} {{}} is outside production day {{}} ({{}} local, [{{}}, {{}}) UTC)', "
             f"{parsed}, $day_text, $tz_name, $tz_u0, $tz_u1)"),
    ]


def day_params(day: LocalDay, formats: Sequence[str] | None = None) -> dict[str, Any]:
    params = day.params()
    params["day_text"] = day.day.isoformat()
    params["tz_name"] = day.tz_name
    if formats is not None:
        params["fmt"] = list(formats)
        params["fmt_text"] = " or ".join(repr(f) for f in formats)
    return params
