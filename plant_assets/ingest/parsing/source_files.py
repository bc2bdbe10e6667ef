"""Files and lines: a landing file becomes a relation `(source_line, line)` (`open_source`), and a line its
list of fields (`split_fields_sql`), with the header helpers the parsers share."""

from __future__ import annotations

import codecs
import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import duckdb
import pyarrow as pa

from plant_assets.ingest.parsing.sql import run_sql
from plant_assets.ingest.parsing.workspace import Workspace

# Whitespace trimmed from every field (DuckDB's one-argument trim only removes spaces).
WS = " \t\r\n\f\v"
RAW_RECORD_MAX = 4000  # characters of a quarantined line kept in raw_record
# A line longer than this many bytes is never parsed: it is kept cut to RAW_RECORD_MAX characters followed by
# TOO_LONG_MARK, and its records are quarantined as malformed_row (classify.quarantine_bad_lines).
MAX_LINE_BYTES_DEFAULT = 2 << 20  # DuckDB's own default max_line_size
TOO_LONG_MARK = "…[line of {size} bytes is longer than the limit of {limit} bytes]"
# The mark, found again in SQL (a staged day's lines were cut while staging).
TOO_LONG_RE = r"…\[line of (\d+) bytes is longer than the limit of (\d+) bytes\]$"
_GLOB_CHARS = set("*?[]{}")


SRC = "__SRC__"  # placeholder for a file's (source_line, line) relation in a statement
# A line with a visible first character is not blank; only the rest need the (slower) trim.
NONBLANK = "(ascii(line) > 32 OR trim(line, $ws) <> '')"
# One physical line a row, stored in file order (an order-keeping CREATE TABLE AS), so a line's number is its
# rowid + 1: cheaper than numbering the rows while reading.
_READ_LINES = """SELECT line
    FROM read_csv($src_path, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
                  delim = chr(1), quote = '', escape = '', comment = '', skip = 0, strict_mode = true,
                  all_varchar = true, max_line_size = $max_line)"""


def max_line_bytes() -> int:
    """The longest line parsed, in bytes: PLANT_ASSETS_MAX_LINE_BYTES, default 2 MiB."""
    return int(os.environ.get("PLANT_ASSETS_MAX_LINE_BYTES", MAX_LINE_BYTES_DEFAULT))


@dataclass(frozen=True)
class Delivery:
    """An input file with the time it was delivered (its mtime): newer deliveries sort first, so when two
    files hold the same reading the newest delivery's copy is kept and the older one is the duplicate.

    `staged` names a Parquet of the file's lines (source_line, line) for one plant-day, cut once from a file
    that spans many days (plant_assets/ingest/staging.py): it is read instead of `path`, with the original
    line numbers. `problem` is why the landing file could not be read as text (found when it was staged); without
    `staged`, why the file was refused (exports.refused_for_day): it is never opened.
    """

    path: Path
    delivered: float
    staged: Path | None = None
    problem: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class SourceFile:
    """One input file: the temp relation holding its lines, its header and, if it cannot be used, why."""

    idx: int
    path: Path
    name: str  # the source_file value: the file's name
    problem: str | None = None  # set when the file cannot be read as text at all
    staged: Path | None = None  # read this Parquet of (source_line, line) instead of path
    header_line: int = 0  # physical line of the header (0 = none found)
    header: list[str] = field(default_factory=list)
    header_raw: str = ""
    lines: str | None = None  # relation (source_line, line): a subquery or registered view; None = not read
    # False when reading showed no line with a NUL byte and none cut for its length: nothing for
    # classify.quarantine_bad_lines to look for (True: unknown, or some).
    may_have_damaged_lines: bool = True

    def from_sql(self) -> str:
        if self.lines is None:
            return "(SELECT NULL::BIGINT AS source_line, NULL::VARCHAR AS line WHERE false)"
        return f"(SELECT source_line, line FROM {self.lines})"


def source_files(files: Sequence[Path | str | Delivery]) -> list[SourceFile]:
    """Files in precedence order (a duplicate reading is kept from the first): newest delivery first, then by name
    (plain paths carry no delivery time, so they keep name order)."""
    items = [f if isinstance(f, Delivery) else Path(f) for f in files]
    names = [f.name for f in items]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"the same file name is given more than once: {dupes}")
    ordered = sorted(items, key=lambda f: (-f.delivered if isinstance(f, Delivery) else 0.0, f.name))
    return [
        SourceFile(i, f.path, f.name, problem=f.problem, staged=f.staged) if isinstance(f, Delivery)
        else SourceFile(i, f, f.name)
        for i, f in enumerate(ordered)
    ]


def _duckdb_can_open(path: Path) -> bool:
    # DuckDB expands globs and reads URLs; such names are read in Python instead.
    text = str(path)
    return not (set(text) & _GLOB_CHARS) and "://" not in text and not text.startswith("~")


def utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the bytes look like mostly-ASCII UTF-16 without a byte order mark:
    every second byte NUL (the high byte of ASCII characters), the other half almost never."""
    sample = head[: 1 << 12]
    half = len(sample) // 2
    if half < 2:
        return None
    odd_nul = sample[1::2].count(0) / half
    even_nul = sample[0::2].count(0) / half
    if odd_nul > 0.6 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.6 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _mostly_binary(head: bytes) -> bool:
    """True when most non-blank lines of the head hold a NUL byte: a binary file, not a text export with a few
    damaged lines (those lines alone are quarantined: classify.quarantine_bad_lines)."""
    lines = [line for line in head.split(b"\n") if line.strip()]
    return sum(b"\x00" in line for line in lines) * 2 > len(lines)


def _decode(data: bytes) -> tuple[str, str | None]:
    """Text of a file and, when it is not a text export at all, why."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError as exc:
            return data.decode("utf-16", errors="replace"), f"broken UTF-16 text at byte {exc.start}"
    head = data[: 1 << 16]
    if b"\x00" in head:
        utf16 = utf16_without_bom(head)
        if utf16:
            return data.decode("latin-1"), (f"binary data (NUL bytes): looks like {utf16.upper()} text without a "
                                            f"byte order mark; re-export as UTF-8 (or UTF-16 with a BOM), or set "
                                            f"'encoding: {utf16}' in the export's options")
        if _mostly_binary(head):
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
    limit = max_line_bytes()
    cut = [_cut_if_too_long(p, limit) if len(p) * 4 > limit else p for p in parts]
    sf.may_have_damaged_lines = "\x00" in text or any(a is not b for a, b in zip(cut, parts))
    parts = cut
    table = pa.table(
        {
            "source_line": pa.array(range(1, len(parts) + 1), pa.int64()),
            "line": pa.array(parts, pa.string()),
        }
    )
    sf.lines = ws.register(f"src_{sf.idx}", table)


def _cut_if_too_long(line: str, limit: int) -> str:
    """A line over `limit` bytes (as UTF-8) cut to RAW_RECORD_MAX characters and marked: never parsed."""
    size = len(line.encode("utf-8", errors="replace"))
    if size <= limit:
        return line
    return line[:RAW_RECORD_MAX] + TOO_LONG_MARK.format(size=size, limit=limit)


def _all_bytes_read(con: duckdb.DuckDBPyConnection, sf: SourceFile, table: str, size: int, head: bytes) -> bool:
    """True when DuckDB's lines account for every byte of the file. DuckDB silently drops a last line longer
    than its read buffer (32 MB) instead of failing, so its read is trusted only when line bytes, line ends and
    a UTF-8 BOM add up to the file size (a final line without a line end one ending less). The same pass
    notes whether any line holds a NUL byte."""
    count, chars, nul_lines = run_sql(
        con, f"SELECT count(*), coalesce(sum(strlen(line)), 0), count(*) FILTER (WHERE contains(line, chr(0))) "
             f"FROM {table}")[0]
    sf.may_have_damaged_lines = nul_lines > 0
    end = 2 if b"\r\n" in head else 1
    expected = chars + count * end + (3 if head.startswith(codecs.BOM_UTF8) else 0)
    return size - expected in (0, -end)


def open_source(ws: Workspace, sf: SourceFile, delim: str, encoding: str | None = None) -> None:
    """Read a file's lines into a temp table and find its header (first non-blank line).

    DuckDB reads a plain text file (fast, one physical line a row); anything else (UTF-16, NUL bytes, invalid
    UTF-8, a stray carriage return, a glob character in the name ...) is decoded in Python instead.
    Sets sf.problem when the file is missing, empty or not text.
    """
    path = sf.path
    if sf.staged is not None:
        _read_staged(ws, sf, delim)
        return
    if sf.problem is not None:  # refused before reading (a symlink out of the landing folder ...): never opened
        return
    try:
        if not path.is_file():
            sf.problem = "file not found" if not path.exists() else "not a regular file"
            return
        size = path.stat().st_size
        if size == 0:
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
            run_sql(ws.con, f"CREATE TEMP TABLE {table} AS {_READ_LINES}",
                    {"src_path": str(path), "max_line": max_line_bytes()})
            if not _all_bytes_read(ws.con, sf, table, size, head):
                raise duckdb.InvalidInputException("lines missing from DuckDB's read")
            ws.adopt(table)
            sf.lines = f"(SELECT rowid + 1 AS source_line, line FROM {table})"
        except duckdb.Error:  # a line over the limit, a stray CR ...: read in Python, line by line
            run_sql(ws.con, f"DROP TABLE IF EXISTS {table}")
    if sf.lines is None:
        _read_in_python(ws, sf, encoding)
        if sf.lines is None:
            return
    _find_header(ws, sf, delim)


def _read_staged(ws: Workspace, sf: SourceFile, delim: str) -> None:
    """A staged day of a file: its lines with their original numbers (already decoded text)."""
    table = ws.name(f"lines_{sf.idx}")
    run_sql(ws.con, f"""CREATE TEMP TABLE {table} AS
        SELECT source_line, line FROM read_parquet($p, hive_partitioning = false) ORDER BY 1""",
            {"p": str(sf.staged / "*.parquet")})
    ws.adopt(table)
    sf.lines = table
    if sf.problem is None:  # a landing file that was not text keeps its problem: its lines are quarantined
        _find_header(ws, sf, delim)


def _find_header(ws: Workspace, sf: SourceFile, delim: str) -> None:
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
    """SQL: TRY_CAST of a text field, NULL for an empty one (cheaper than casting '') and for one with an
    underscore: DuckDB (like Python) reads `1_000` as 1000, which no historian writes; it is a bad number."""
    return f"CASE WHEN {text} <> '' AND NOT contains({text}, '_') THEN TRY_CAST({text} AS {sql_type}) END"


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
