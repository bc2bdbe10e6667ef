"""Open the DuckDB warehouse, waiting a bounded time for another process's lock.

DuckDB lets one process write a file at a time. Steps in pool `warehouse` never overlap, but a step in
another pool (the alert notifier's short reads and writes) can meet a lock held by another run: it waits
for it, up to a bound, then fails with an error that says who holds it and what to do."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb


class WarehouseBusyError(RuntimeError):
    """The warehouse stayed locked by another process for longer than the caller would wait."""


def _is_lock_conflict(exc: duckdb.IOException) -> bool:
    return "lock" in str(exc).lower()


def open_warehouse(path: str | Path, read_only: bool = False, wait_seconds: float = 0.0,
                   poll_seconds: float = 0.25) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file; retries a lock conflict for up to `wait_seconds`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    give_up = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if wait_seconds <= 0 or not _is_lock_conflict(exc):
                raise  # no wait asked: the caller handles DuckDB's own error, as before
            if time.monotonic() + poll_seconds > give_up:
                raise WarehouseBusyError(
                    f"the warehouse {path} stayed locked by another process for {wait_seconds:g} s "
                    f"({str(exc).splitlines()[0]}); a run holding it (dbt, training, a CLI) must finish first: "
                    "retry the step then"
                ) from exc
            time.sleep(poll_seconds)
