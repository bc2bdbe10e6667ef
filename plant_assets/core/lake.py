"""The Parquet lake: hive-partitioned folders per stream, plant and production day.

Writes are atomic (temp file + rename), so a reader never sees half a partition and a re-run simply
replaces it: ingest is idempotent per plant-day.

The root is a local folder (a pathlib.Path, the default and the fast path) or an fsspec URL
(s3://, gs://, az://, memory://) held as a universal_pathlib UPath, so object storage is a change
of PLANT_ASSETS_LAKE. On object storage one PUT replaces an object whole, which gives the same
all-or-nothing partition without the rename. See docs/scaling.md for which readers follow the URL.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Union

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from upath import UPath

LakePath = Union[Path, "UPath"]
LOCAL_PROTOCOLS = ("file", "local")
DUCKDB_NATIVE_PROTOCOLS = ("s3", "s3a", "gs", "gcs", "az", "abfss", "http", "https")


def lake_root(location: str | os.PathLike) -> LakePath:
    """A plain path or file:// URL -> pathlib.Path (exactly the local lake as before); any other
    fsspec URL -> UPath, whose `/`, parent, glob and open work like Path's."""
    text = str(location)
    if "://" not in text:
        return Path(text)
    from upath import (
        UPath,  # universal_pathlib, a dagster dependency: imported only for URLs
    )

    upath = UPath(text)
    return Path(upath.path) if upath.protocol in LOCAL_PROTOCOLS else upath


def is_local(path: LakePath) -> bool:
    return isinstance(path, Path)


def read_table(path: LakePath, **kwargs) -> pa.Table:
    if is_local(path):
        return pq.read_table(path, **kwargs)
    with path.open("rb") as handle:
        return pq.read_table(handle, **kwargs)


def register_lake(con, lake: LakePath) -> str:
    """Let a DuckDB connection read the lake; returns the root as DuckDB should see it. Local paths
    and the stores DuckDB's httpfs/azure extensions read need nothing; any other fsspec store
    (memory://, sftp://, ...) is handed to DuckDB as a registered filesystem."""
    if not is_local(lake) and lake.protocol not in DUCKDB_NATIVE_PROTOCOLS:
        if not con.filesystem_is_registered(lake.protocol):
            con.register_filesystem(lake.fs)
    return str(lake)


STREAM_FOLDERS = {
    "historian": ("raw", "readings"),
    "production_runs": ("events/production_runs", "runs"),
    "downtime_events": ("events/downtime_events", "events"),
    "lab_results": ("events/lab_results", "samples"),
}


def partition_dir(lake: Path, folder: str, plant_id: str, day: date) -> Path:
    return lake / folder / f"plant_id={plant_id}" / f"production_date={day.isoformat()}"


def write_table_atomic(table: pa.Table, path: LakePath) -> LakePath:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not is_local(path):  # object storage: the object appears whole when the upload completes
        with path.open("wb") as handle:
            pq.write_table(table, handle, compression="zstd")
        return path
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path


def stored_rows(path: LakePath) -> int:
    """Rows of a lake Parquet file as its footer says (0 when there is none yet)."""
    try:
        if is_local(path):
            return pq.read_metadata(path).num_rows
        with path.open("rb") as handle:
            return pq.read_metadata(handle).num_rows
    except FileNotFoundError:
        return 0


def move_file_atomic(source: Path, path: LakePath) -> LakePath:
    """Move a finished local file (a parser's spooled Parquet) into the lake: a rename when it is on the
    same file system, else a streamed copy into a temp name + rename (or one upload to object storage)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not is_local(path):
        with source.open("rb") as src, path.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        source.unlink()
        return path
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    shutil.move(source, tmp)
    os.replace(tmp, path)
    return path


def accepted_path(lake: Path, stream: str, plant_id: str, day: date) -> Path:
    folder, name = STREAM_FOLDERS[stream]
    return partition_dir(lake, folder, plant_id, day) / f"{name}.parquet"


def quarantine_path(lake: Path, stream: str, plant_id: str, day: date) -> Path:
    return partition_dir(lake, "quarantine", plant_id, day) / f"{stream}.parquet"


def reconciliation_path(lake: Path, stream: str, plant_id: str, day: date) -> Path:
    return partition_dir(lake, "reconciliation", plant_id, day) / f"{stream}.parquet"


def gate_path(lake: Path, layer: str, plant_id: str, day: date) -> Path:
    return partition_dir(lake, "gates", plant_id, day) / f"{layer}.parquet"


def tag_levels_path(lake: Path, plant_id: str, day: date) -> Path:
    """Each historian tag's level over the plant-day, kept by its canonical gate for the next day's."""
    return partition_dir(lake, "tag_levels", plant_id, day) / "historian.parquet"


def registry_path(lake: Path, table: str) -> Path:
    return lake / "registry" / f"{table}.parquet"


def staged_root(lake: LakePath, home: Path) -> Path:
    """Where files of any span are cut into plant-days (plant_assets/ingest/staging.py): local, because the
    cut is written by DuckDB and guarded by a file lock; beside the lake, or under home for a remote lake."""
    return lake / "staged" if is_local(lake) else home / "staged"
