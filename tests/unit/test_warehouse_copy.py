"""The analysts' copy: checkpoint + copy + check + atomic rename (plant_assets.standardize.analyst_copy)."""

from __future__ import annotations

import duckdb
import pytest

from plant_assets.standardize.analyst_copy import PublishError, publish_warehouse, stale_publish_temps

TABLES = ("marts.kpi_daily",)


def _warehouse(path, rows: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create or replace table marts.kpi_daily as select range as i from range(?)", [rows])
    con.close()


def _count(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select count(*) from marts.kpi_daily").fetchone()[0]
    finally:
        con.close()


def test_publish_copies_the_complete_state_and_replaces_the_previous_one(tmp_path):
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "published" / "analyst.duckdb"
    _warehouse(source, 3)
    result = publish_warehouse(source, target, TABLES)
    assert _count(target) == 3 and result.row_counts == {"marts.kpi_daily": 3} and result.bytes > 0
    _warehouse(source, 5)
    publish_warehouse(source, target, TABLES)
    assert _count(target) == 5
    assert sorted(p.name for p in target.parent.iterdir()) == ["analyst.duckdb"]  # no temp file left


def test_uncheckpointed_writes_are_in_the_copy(tmp_path):
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "analyst.duckdb"
    _warehouse(source, 2)
    con = duckdb.connect(str(source))
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("insert into marts.kpi_daily values (10), (11)")
    con.close()
    publish_warehouse(source, target, TABLES)
    assert _count(target) == 4


def test_an_unfit_warehouse_leaves_the_analysts_file_alone(tmp_path):
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "analyst.duckdb"
    _warehouse(source, 3)
    publish_warehouse(source, target, TABLES)
    _warehouse(source, 0)
    with pytest.raises(PublishError, match="empty"):
        publish_warehouse(source, target, TABLES)
    with pytest.raises(PublishError, match="lacks"):
        publish_warehouse(source, target, ("marts.kpi_daily", "marts.dim_kpi"))
    with pytest.raises(PublishError, match="must not be the warehouse"):
        publish_warehouse(source, source, TABLES)
    with pytest.raises(PublishError, match="no warehouse"):
        publish_warehouse(tmp_path / "missing.duckdb", target, TABLES)
    assert _count(target) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analyst.duckdb", "warehouse.duckdb"]


def test_a_reader_holding_the_old_file_keeps_its_state(tmp_path):
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "analyst.duckdb"
    _warehouse(source, 3)
    publish_warehouse(source, target, TABLES)
    reader = duckdb.connect(str(target), read_only=True)
    try:
        _warehouse(source, 7)
        publish_warehouse(source, target, TABLES)
        assert reader.execute("select count(*) from marts.kpi_daily").fetchone()[0] == 3
    finally:
        reader.close()
    assert _count(target) == 7


def test_stale_publish_temps_are_those_of_dead_processes(tmp_path):
    """A publish killed between the copy and the rename leaves `.analyst.duckdb.<pid>.tmp` (and its WAL)."""
    target = tmp_path / "analyst.duckdb"
    for name in (".analyst.duckdb.111.tmp", ".analyst.duckdb.111.tmp.wal", ".analyst.duckdb.222.tmp",
                 ".analyst.duckdb.x.tmp", ".other.duckdb.111.tmp", "analyst.duckdb"):
        (tmp_path / name).write_text("")
    stale = stale_publish_temps(target, pid_alive=lambda pid: pid == 222)
    assert [p.name for p in stale] == [".analyst.duckdb.111.tmp", ".analyst.duckdb.111.tmp.wal"]
