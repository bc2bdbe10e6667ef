"""What ingest hands to the other stages (docs/contracts.md): stream names, reason codes, qualities, the
Arrow schemas of the parsed frames, ParsedExport and the configuration error.

Everything here is part of the contract between ingest and the stages after it (the lake writers, the
gates, dbt sources): import these names from here, not from the parsing modules.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import weakref
from pathlib import Path
from typing import Literal, get_args

import pyarrow as pa
import pyarrow.parquet as pq

# The landing streams of a plant-day, in the order they are ingested.
Stream = Literal["historian", "production_runs", "downtime_events", "lab_results"]
STREAMS: tuple[str, ...] = get_args(Stream)


# Reason codes and qualities

BAD_TIMESTAMP = "bad_timestamp"
BAD_VALUE = "bad_value"
UNKNOWN_TAG = "unknown_tag"
OUTSIDE_PARTITION_DAY = "outside_partition_day"
DUPLICATE = "duplicate"
MALFORMED_ROW = "malformed_row"
UNREADABLE_FILE = "unreadable_file"
# A repeated (fall-back) local time with no offset or zone mark in an export whose rows are not in time
# order: which pass it belongs to cannot be known, so it is not guessed.
AMBIGUOUS_LOCAL_TIME = "ambiguous_local_time"
# A cell of a wide export's column the plant lists in ignore_columns (not a reading, counted, not lost).
IGNORED_COLUMN = "ignored_column"
REASON_CODES = (
    BAD_TIMESTAMP,
    BAD_VALUE,
    UNKNOWN_TAG,
    OUTSIDE_PARTITION_DAY,
    DUPLICATE,
    MALFORMED_ROW,
    UNREADABLE_FILE,
    AMBIGUOUS_LOCAL_TIME,
    IGNORED_COLUMN,
)
QUALITIES = ("good", "uncertain", "bad")


# Frames

ACCEPTED_SCHEMA = pa.schema(
    [
        ("tag", pa.string()),
        ("ts_utc", pa.timestamp("us")),
        ("value", pa.float64()),
        ("quality", pa.string()),
        ("status_text", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)
RUNS_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("line_id", pa.string()),
        ("product_code", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("good_qty", pa.float64()),
        ("scrap_qty", pa.float64()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)
DOWNTIME_SCHEMA = pa.schema(
    [
        ("line_id", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        ("reason", pa.string()),
        ("category", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("raw_record", pa.string()),
        ("reason_code", pa.string()),
        ("reason_detail", pa.string()),
    ]
)
RECONCILIATION_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("raw_records", pa.int64()),
        ("accepted_records", pa.int64()),
        ("quarantined_records", pa.int64()),
    ]
)


class ParsedExport:
    """One stream of one plant-day, parsed.

    accepted: readings (ACCEPTED_SCHEMA) or events (RUNS_SCHEMA / DOWNTIME_SCHEMA), sorted.
    quarantine: QUARANTINE_SCHEMA, sorted by file, line (and column for wide files).
    reconciliation: RECONCILIATION_SCHEMA, one row per input file, raw = accepted + quarantined.

    accepted and quarantine are spooled to Parquet by DuckDB (`COPY`), never held in Python memory, so a
    multi-GB export parses in bounded memory; `.accepted` / `.quarantine` read them back on demand, and
    `move_accepted` / `move_quarantine` hand the files to the lake without reading them. The spool files
    are removed with this object.
    """

    def __init__(
        self,
        reconciliation: pa.Table,
        accepted_file: Path,
        quarantine_file: Path,
        accepted_schema: pa.Schema,
        accepted_rows: int,
        quarantined_by_reason: dict[str, int],
    ):
        self.reconciliation = reconciliation
        self.accepted_file = accepted_file
        self.quarantine_file = quarantine_file
        self.accepted_schema = accepted_schema
        self.accepted_rows = accepted_rows
        self.quarantined_by_reason = dict(sorted(quarantined_by_reason.items()))
        self._spool = [accepted_file, quarantine_file]
        weakref.finalize(self, _remove_files, list(self._spool))

    @classmethod
    def from_tables(cls, accepted: pa.Table, quarantine: pa.Table, reconciliation: pa.Table) -> "ParsedExport":
        """A ParsedExport of tables built in Python (an empty partition)."""
        files = []
        for table in (accepted, quarantine):
            path = spool_path()
            pq.write_table(table, path, compression="zstd")
            files.append(path)
        reasons: dict[str, int] = {}
        for code in quarantine.column("reason_code").to_pylist():
            reasons[code] = reasons.get(code, 0) + 1
        return cls(reconciliation, files[0], files[1], accepted.schema, accepted.num_rows, reasons)

    @property
    def accepted(self) -> pa.Table:
        return pq.read_table(self.accepted_file).cast(self.accepted_schema)

    @property
    def quarantine(self) -> pa.Table:
        return pq.read_table(self.quarantine_file).cast(QUARANTINE_SCHEMA)

    @property
    def quarantined_rows(self) -> int:
        return sum(self.quarantined_by_reason.values())

    def reason_counts(self) -> dict[str, int]:
        return dict(self.quarantined_by_reason)

    def unbalanced_files(self) -> list[str]:
        """Files whose raw_records differ from accepted + quarantined (always empty for our parsers)."""
        rec = self.reconciliation.to_pylist()
        return [r["source_file"] for r in rec if r["raw_records"] != r["accepted_records"] + r["quarantined_records"]]


_SPOOL_DIR: Path | None = None


def spool_path() -> Path:
    """A fresh file name in this process's spool folder (PLANT_ASSETS_SPOOL, else the system temp dir)."""
    global _SPOOL_DIR
    if _SPOOL_DIR is None or not _SPOOL_DIR.is_dir():
        root = os.environ.get("PLANT_ASSETS_SPOOL") or None
        if root:
            Path(root).mkdir(parents=True, exist_ok=True)
        _SPOOL_DIR = Path(tempfile.mkdtemp(prefix="plant-assets-spool-", dir=root))
    return _SPOOL_DIR / f"{uuid.uuid4().hex}.parquet"


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink()
        except OSError:
            pass


class DialectConfigError(ValueError):
    """The plant's dialect options cannot be used (a configuration error, raised before any data is read)."""
