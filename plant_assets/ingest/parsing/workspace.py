"""Temp objects on the caller's connection: uniquely named tables, views and ENUM types, dropped on exit."""

from __future__ import annotations

import re
import uuid
from typing import Any, Sequence

import duckdb
import pyarrow as pa

from plant_assets.ingest.parsing.sql import run_sql


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
