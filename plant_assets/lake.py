"""The Parquet lake: hive-partitioned folders per stream, plant and production day.

Writes are atomic (temp file + rename), so a reader never sees half a partition and a re-run simply
replaces it: ingest is idempotent per plant-day.
"""

from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

STREAM_FOLDERS = {
    "historian": ("raw", "readings"),
    "production_runs": ("events/production_runs", "runs"),
    "downtime_events": ("events/downtime_events", "events"),
}


def partition_dir(lake: Path, folder: str, plant_id: str, day: date) -> Path:
    return lake / folder / f"plant_id={plant_id}" / f"production_date={day.isoformat()}"


def write_table_atomic(table: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp, compression="zstd")
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


def registry_path(lake: Path, table: str) -> Path:
    return lake / "registry" / f"{table}.parquet"
