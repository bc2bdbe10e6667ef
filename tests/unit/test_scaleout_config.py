"""Configuration-only parts of the scale-out path: the lake as an fsspec URL and the executor chosen
by environment (the services themselves are exercised in tests/integration/test_scale_out.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from plant_assets.core import lake as lake_paths

DAY = date(2026, 9, 7)


def test_local_lake_stays_a_pathlib_path(tmp_path):
    assert type(lake_paths.lake_root(str(tmp_path))) is type(tmp_path)
    assert lake_paths.lake_root(f"file://{tmp_path}") == tmp_path  # file:// is the same local folder
    assert lake_paths.is_local(lake_paths.lake_root(tmp_path))


def test_memory_lake_round_trips_a_partition_and_duckdb_reads_it():
    root = lake_paths.lake_root("memory://scale-test-lake")
    assert not lake_paths.is_local(root)
    table = pa.table({"tag": ["a", "b"], "value": [1.0, 2.0]})
    path = lake_paths.write_table_atomic(table, lake_paths.accepted_path(root, "historian", "plant_a", DAY))

    assert str(path) == "memory://scale-test-lake/raw/plant_id=plant_a/production_date=2026-09-07/readings.parquet"
    assert lake_paths.read_table(path).equals(table)
    with duckdb.connect() as con:
        location = lake_paths.register_lake(con, root)
        rows = con.sql(f"select plant_id, sum(value) from read_parquet('{location}/raw/*/*/*.parquet', hive_partitioning=true) group by 1").fetchall()
    assert rows == [("plant_a", 3.0)]


def test_settings_keep_a_lake_url(monkeypatch):
    from plant_assets.core.settings import get_settings

    monkeypatch.setenv("PLANT_ASSETS_LAKE", "memory://settings-lake")
    assert str(get_settings().lake_dir) == "memory://settings-lake"
    monkeypatch.setenv("PLANT_ASSETS_LAKE", "relative/lake")
    assert get_settings().lake_dir == (Path.cwd() / "relative" / "lake")


def test_executor_is_chosen_by_environment(monkeypatch):
    from plant_assets.defs.executor import executor_from_env

    monkeypatch.delenv("PLANT_ASSETS_EXECUTOR", raising=False)
    assert executor_from_env().name == "in_process"
    monkeypatch.setenv("PLANT_ASSETS_EXECUTOR", "multiprocess")
    assert executor_from_env().name == "multiprocess"
    monkeypatch.setenv("PLANT_ASSETS_EXECUTOR", "kubernetes")
    with pytest.raises(ValueError, match="expected one of"):
        executor_from_env()
    pytest.importorskip("dagster_celery")
    monkeypatch.setenv("PLANT_ASSETS_EXECUTOR", "celery")
    assert executor_from_env().name == "celery"
