"""Publish the built warehouse to the analysts' read-only file by atomic swap.

DuckDB allows one writer per file and a writer blocks readers in other processes, so analysts never
open the warehouse dbt writes. After the nightly dbt build succeeded (its data tests included), the
asset `analyst_warehouse` checkpoints the warehouse, copies it next to the analysts' file, checks the
copy and renames it over the analysts' file (`os.replace`, atomic on one file system). A reader that
already has the old file open keeps reading the old, complete state; the next connection sees the new
one. There is never a moment without a complete file.

Pure logic only (no Dagster): the asset is in publish.py; tests in tests/unit/test_warehouse_copy.py.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from ml.crash_points import crash_point

# Tables a published warehouse must contain (and with rows): the analysts' core marts.
REQUIRED_TABLES = ("marts.kpi_daily", "marts.dim_kpi", "marts.dim_asset", "marts.fct_production_run")
# Tables that must have rows: without KPIs there is nothing to publish. A plant set without MES
# exports legitimately has no production runs, so fct_production_run only has to exist.
NON_EMPTY_TABLES = ("marts.kpi_daily", "marts.dim_kpi", "marts.dim_asset")
# Tables that say why a day is missing and what was received: kept for a withheld day.
KEPT_WHEN_WITHHELD = ("data_quality_incidents", "fct_counter_flags", "fct_ingest_reconciliation")
WITHHELD_SCHEMA = pa.schema([("plant_id", pa.string()), ("production_date", pa.date32())])


class PublishError(RuntimeError):
    """The built warehouse is not fit to publish; the analysts' file was left as it was."""


@dataclass(frozen=True)
class PublishResult:
    source: Path
    target: Path
    bytes: int
    seconds: float
    row_counts: dict[str, int]
    withheld_rows: dict[str, int] = field(default_factory=dict)


def withhold_plant_days(path: Path, plant_days: Iterable[tuple[str, date]]) -> dict[str, int]:
    """Delete the rows of `plant_days` (those that failed the marts gate) from every marts table of the copy
    at `path` that is keyed by plant_id and production_date: a day whose numbers cannot be true is not shown
    to analysts. Views over these tables follow. Returns the rows removed per table."""
    plant_days = sorted({(p, d) for p, d in plant_days})
    if not plant_days:
        return {}
    con = duckdb.connect(str(path))
    try:
        tables = [
            row[0] for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_type = 'BASE TABLE' and table_name in (select table_name from information_schema.columns "
                "where table_schema = 'marts' and column_name = 'plant_id' intersect select table_name from "
                "information_schema.columns where table_schema = 'marts' and column_name = 'production_date')"
            ).fetchall()
        ]
        keys = [{"plant_id": p, "production_date": d} for p, d in plant_days]
        con.register("withheld_days", pa.Table.from_pylist(keys, schema=WITHHELD_SCHEMA))
        removed = {}
        for table in sorted(tables):
            if table in KEPT_WHEN_WITHHELD:
                continue
            removed[f"marts.{table}"] = con.execute(
                f"delete from marts.{table} as t using withheld_days as w "
                "where t.plant_id = w.plant_id and t.production_date = w.production_date"
            ).fetchone()[0]
        con.execute("checkpoint")
        return {t: n for t, n in removed.items() if n}
    finally:
        con.close()


def checkpoint(source: Path) -> None:
    """Fold the write-ahead log into the database file, so the file alone is the complete state."""
    con = duckdb.connect(str(source))
    try:
        con.execute("checkpoint")
    finally:
        con.close()


def _row_counts(path: Path, required: tuple[str, ...]) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        existing = {
            f"{s}.{t}"
            for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }
        missing = [t for t in required if t not in existing]
        if missing:
            raise PublishError(f"warehouse {path} lacks {', '.join(missing)}")
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in required}
    finally:
        con.close()


def publish_temp_path(target: Path, pid: int) -> Path:
    """Where process `pid` copies the warehouse before the rename (the pid says who owns a temp file)."""
    return target.with_name(f".{target.name}.{pid}.tmp")


def stale_publish_temps(target: Path, pid_alive: Callable[[int], bool]) -> list[Path]:
    """Temp copies (and a DuckDB WAL of one) left next to `target` by a publish whose process is gone: a crash
    between the copy and the rename skips the cleanup of step 4."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.tmp(\.wal)?$")
    stale = []
    for path in sorted(Path(target).parent.glob(f".{target.name}.*.tmp*")):
        match = pattern.match(path.name)
        if match and not pid_alive(int(match.group(1))):
            stale.append(path)
    return stale


def publish_warehouse(
    source: Path, target: Path, required: tuple[str, ...] = REQUIRED_TABLES, require_rows: bool = True,
    withhold: Iterable[tuple[str, date]] = (),
) -> PublishResult:
    """Copy `source` (a DuckDB file no one else writes now) to `target` by atomic rename.

    1. checkpoint the source (its WAL, if any, goes into the file);
    2. copy it to a temp file in the target's folder (same file system, so the rename is atomic);
    3. remove the plant-days in `withhold` (failed marts gates) from the copy, then open it read-only and
       check the required tables exist (and have rows);
    4. os.replace(temp, target). On any failure the temp file is removed and the target is untouched.
    """
    source, target = Path(source), Path(target)
    if not source.exists():
        raise PublishError(f"no warehouse at {source}")
    if source.resolve() == target.resolve():
        raise PublishError("the analysts' file must not be the warehouse itself")
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    checkpoint(source)
    temp = publish_temp_path(target, os.getpid())
    try:
        shutil.copyfile(source, temp)
        crash_point("publish.copied")
        withheld = withhold_plant_days(temp, withhold)
        counts = _row_counts(temp, required)
        empty = [t for t, n in counts.items() if n == 0 and t in NON_EMPTY_TABLES]
        if require_rows and empty:
            raise PublishError(f"empty tables in the built warehouse: {', '.join(empty)}")
        with open(temp, "rb") as handle:  # the copy is on disk before it becomes visible
            os.fsync(handle.fileno())
        stale_wal = target.with_name(target.name + ".wal")
        if stale_wal.exists():  # a WAL left by someone who opened the analysts' file read-write
            stale_wal.unlink()
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()
    return PublishResult(source, target, target.stat().st_size, time.perf_counter() - started, counts, withheld)
