"""Running SQL on the caller's DuckDB connection: named parameters (`bind`, `run_sql`) and writing a query's
rows to a spool Parquet file with an exact schema (`typed_select`, `copy_to_parquet`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from plant_assets.ingest.contract import spool_path

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
