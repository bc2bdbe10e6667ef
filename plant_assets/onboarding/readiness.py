"""What a plant can compute: canonical signals per line and motor, KPIs computable, missing inputs, and
how its latest export days parse (sample rows that failed, with reasons)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from plant_assets.core.catalog import Kpi, load_kpi_catalog, load_signal_catalog

LAB = "lab_results"


def _product_mass(plant: Any) -> str | None:
    return None if any(p.mass_kg for p in plant.products) else "no product has mass_kg"


def _quality_specs(plant: Any) -> str | None:
    if plant.lab_results is None:
        return None  # the missing lab_results export says it, in plain words
    return None if plant.quality_specs else "no quality_specs (spec limits) in plant.yaml"


# kpi_catalog.csv requires_config -> the gap it leaves in a plant (None: nothing missing). The energy baseline
# period is a required part of plant.yaml; whether its days have data is not judged here.
CONFIG_CHECKS = {
    "products.mass_kg": _product_mass,
    "energy_baseline": lambda plant: None,
    "quality_specs": _quality_specs,
}
# an optional export the plant does not configure at all (plant.yaml has no such section)
UNCONFIGURED_EXPORT = {
    LAB: "no lab_results export configured in plant.yaml (a plant without lab data has no quality-deviation KPIs)",
}


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
    signals: dict[str, dict[str, list[str]]] = {}
    for m in plant.tag_map:
        signals.setdefault(m.asset_id, {}).setdefault(m.signal, []).append(m.source_tag)
    missing: dict[str, list[str]] = {}
    for line in plant.lines:
        line_needs = [s for s, c in catalog.items() if c.asset_level == "line"]
        gap = [s for s in line_needs if s not in signals.get(line.id, {})]
        if gap:
            missing[line.id] = gap
        for motor in line.motors:
            motor_needs = [s for s, c in catalog.items() if c.asset_level == "motor"]
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
    line_ids = [line.id for line in plant.lines]
    for kpi in load_kpi_catalog().values():
        kpis.append(_kpi_status(kpi, plant, catalog, signals, line_ids, exports, days))

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


def _kpi_status(kpi: Kpi, plant: Any, catalog: dict, signals: dict[str, dict[str, list[str]]],
                line_ids: list[str], exports: dict[str, list[str]], days: list[date]) -> KpiStatus:
    """ready, partial (some lines lack a line signal) or missing, with the gaps in plain words."""
    gaps: list[str] = []
    line_needs = [s for s in kpi.requires_signals if catalog[s].asset_level == "line"]
    lines_ok = [lid for lid in line_ids if all(s in signals.get(lid, {}) for s in line_needs)]
    if line_needs and not lines_ok:
        gaps.append(f"no line has {', '.join(line_needs)}")
    elif line_needs and len(lines_ok) < len(line_ids):
        gaps.append(f"lines without {', '.join(line_needs)}: {sorted(set(line_ids) - set(lines_ok))}")
    for s in kpi.requires_signals:
        if catalog[s].asset_level == "motor" and not any(s in sig for sig in signals.values()):
            gaps.append(f"no {s} tag")
    for stream in kpi.requires_exports:
        if getattr(plant, stream) is None:
            gaps.append(UNCONFIGURED_EXPORT.get(stream, f"no {stream} export configured in plant.yaml"))
        elif days and not exports[stream]:
            gaps.append(f"no {stream} export found")
    for need in kpi.requires_config:
        if need not in CONFIG_CHECKS:
            raise ValueError(f"kpi_catalog.csv: {kpi.kpi} requires_config {need!r}; known: {sorted(CONFIG_CHECKS)}")
        gap = CONFIG_CHECKS[need](plant)
        if gap:
            gaps.append(gap)
    fatal = [g for g in gaps if not g.startswith("lines without")]
    return KpiStatus(kpi.kpi, "missing" if fatal else "partial" if gaps else "ready", gaps)


def _recent_days(plant: Any, landing_dir: Path, look_back: int = 400, want: int = 3) -> list[date]:
    """The last `want` days (up to today) that have a historian export."""
    from plant_assets.ingest.exports import files_for_day

    out: list[date] = []
    day = date.today()
    for _ in range(look_back):
        if files_for_day(plant, landing_dir, day, "historian"):
            out.append(day)
            if len(out) == want:
                break
        day -= timedelta(days=1)
    return sorted(out)
