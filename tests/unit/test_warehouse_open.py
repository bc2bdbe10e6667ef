"""Opening the warehouse while another process holds its lock: wait a bounded time, then a clear error."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from plant_assets.core.warehouse_open import WarehouseBusyError, open_warehouse


def _hold(path, seconds: float) -> subprocess.Popen:
    """Another process writing the warehouse for `seconds` (as another run's step would)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); "
                               f"time.sleep({seconds}); c.close()"],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_waits_for_a_lock_that_is_released(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = _hold(path, 1.0)
    try:
        con = open_warehouse(path, wait_seconds=10, poll_seconds=0.1)
        con.execute("create table t (x int)")
        con.close()
    finally:
        holder.wait()


def test_gives_up_after_the_bound_with_a_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = _hold(path, 4.0)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusyError, match=r"stayed locked by another process for 0\.5 s .*Could not set lock"):
            open_warehouse(path, wait_seconds=0.5, poll_seconds=0.1)
        assert time.monotonic() - started < 1.5
        with pytest.raises(duckdb.IOException):  # without a wait: the lock error at once, as before
            open_warehouse(path)
    finally:
        holder.kill()
        holder.wait()
