"""What a plant can compute: canonical signals per line and motor, KPIs computable, missing inputs, and
how its latest export days parse (sample rows that failed, with reasons)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from plant_assets.core.catalog import load_kpi_catalog, load_signal_catalog
from plant_assets.core.kpi_inputs import (
    CONFIG_CHECKS,
    CORE_SIGNALS,
    UNCONFIGURED_EXPORT,
    kpi_gaps,
    provided_signals,
    status_of,
)

__all__ = ["CONFIG_CHECKS", "KPI_REQUIREMENTS", "UNCONFIGURED_EXPORT", "KpiStatus", "Readiness", "kpi_catalog",
           "readiness"]

# the KPI catalog's requirements read in one place (core.kpi_inputs), re-exported for callers and tests
# KPI -> (canonical signals, event exports, plant.yaml settings) it needs: the requires_* columns of
# dbt_project/seeds/kpi_catalog.csv, the one list of KPIs.
KPI_REQUIREMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    k.kpi: (k.requires_signals, k.requires_exports, k.requires_config) for k in load_kpi_catalog().values()
}


def kpi_catalog() -> list[str]:
    return list(load_kpi_catalog())


@dataclass
class KpiStatus:
    kpi: str
    status: str  # ready | partial | missing
    missing: list[str] = field(default_factory=list)


@dataclass
class Readiness:
    plant_id: str
    signals: dict[str, dict[str, list[str]]]  # asset -> signal -> tags
    missing_signals: dict[str, list[str]]  # asset -> canonical signals without a tag
    kpis: list[KpiStatus]
    exports: dict[str, list[str]]  # stream -> files found for the checked days
    parse: dict[str, Any]  # raw / accepted / quarantined, reasons, failed_rows (sample), unmapped tags

    @property
    def ready_kpis(self) -> list[str]:
        return [k.kpi for k in self.kpis if k.status == "ready"]


def readiness(plant: Any, landing_dir: Path, days: list[date] | None = None, sample_rows: int = 10) -> Readiness:
    """Readiness of a loaded plant (PlantConfig) against its landing folder for `days` (default: last 3 found)."""
    import duckdb

    from plant_assets.ingest.exports import STREAMS, files_for_day, parse_historian

    catalog = load_signal_catalog()
    signals = provided_signals(plant, catalog)
    # gaps in the core signals only (in any form): the catalog's optional signals (process values, weather,
    # mass, machine state) are not gaps; the KPIs that need them say so
    needed = set(CORE_SIGNALS)
    missing: dict[str, list[str]] = {}
    for line in plant.lines:
        line_needs = [s for s, c in catalog.items() if c.asset_level == "line" and s in needed]
        gap = [s for s in line_needs if s not in signals.get(line.id, {})]
        if gap:
            missing[line.id] = gap
        for motor in line.motors:
            motor_needs = [s for s, c in catalog.items() if c.asset_level == "motor" and s in needed]
            gap = [s for s in motor_needs if s not in signals.get(motor.id, {})]
            if gap:
                missing[motor.id] = gap

    if days is None:
        days = _recent_days(plant, landing_dir)
    exports = {s: [] for s in STREAMS}
    for day in days:
        for stream in STREAMS:
            exports[stream] += [p.name for p in files_for_day(plant, landing_dir, day, stream)]

    kpis: list[KpiStatus] = []
    for kpi in load_kpi_catalog().values():
        gaps = kpi_gaps(kpi, plant, signals, exports if days else None, catalog)
        kpis.append(KpiStatus(kpi.kpi, status_of(gaps), gaps))

    parse: dict[str, Any] = {"days": [d.isoformat() for d in days], "raw": 0, "accepted": 0, "quarantined": 0,
                             "reasons": {}, "failed_rows": [], "unmapped_tags": {}}
    con = duckdb.connect()
    try:
        for day in days:
            files = files_for_day(plant, landing_dir, day, "historian")
            if not files:
                continue
            result = parse_historian(plant, files, day, con)
            for r in result.reconciliation.to_pylist():
                parse["raw"] += r["raw_records"]
                parse["accepted"] += r["accepted_records"]
                parse["quarantined"] += r["quarantined_records"]
            for code, n in result.reason_counts().items():
                parse["reasons"][code] = parse["reasons"].get(code, 0) + n
            seen_codes: dict[str, int] = {}
            for row in result.quarantine.to_pylist():
                if row["reason_code"] == "unknown_tag":
                    detail = row["reason_detail"]
                    parse["unmapped_tags"][detail] = parse["unmapped_tags"].get(detail, 0) + 1
                    continue
                # a few rows of each reason, so one flood does not hide the others
                if seen_codes.get(row["reason_code"], 0) < 3 and len(parse["failed_rows"]) < sample_rows:
                    seen_codes[row["reason_code"]] = seen_codes.get(row["reason_code"], 0) + 1
                    parse["failed_rows"].append(row)
    finally:
        con.close()
    return Readiness(plant.plant_id, signals, missing, kpis, exports, parse)


def _recent_days(plant: Any, landing_dir: Path, look_back: int = 400, want: int = 3) -> list[date]:
    """The last `want` days (up to today) that have a daily historian export; without daily files, a history
    export (a file pattern naming no day matches it on every day) is checked on its first days from the
    plant's history_start."""
    from plant_assets.ingest.exports import files_for_day
    from plant_assets.ingest.staging import span_files

    out: list[date] = []
    day = date.today()
    spans = {p.name for p in span_files(plant, "historian", landing_dir)}
    for _ in range(look_back):
        if [p for p in files_for_day(plant, landing_dir, day, "historian") if p.name not in spans]:
            out.append(day)
            if len(out) == want:
                break
        day -= timedelta(days=1)
    if not out and spans and plant.history_start is not None:
        out = [plant.history_start + timedelta(days=i) for i in range(want)]
    return sorted(out)
