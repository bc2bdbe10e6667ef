"""What a plant can compute: canonical signals per line and motor, KPIs computable, missing inputs, and
how its latest export days parse (sample rows that failed, with reasons)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from plant_assets.core.catalog import load_signal_catalog
from plant_assets.core.settings import REPO_ROOT

KPI_CATALOG_CSV = REPO_ROOT / "dbt_project" / "seeds" / "kpi_catalog.csv"
RUNS, DOWNTIME, LAB = "production_runs", "downtime_events", "lab_results"
LAB_NEEDS = "lab_results export and quality_specs"
E, C = "energy_total", "production_count_total"
# KPI -> (line signals every counted line needs, event exports needed, other needs). From kpi_catalog.csv.
KPI_REQUIREMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "energy_kwh": ((E,), (), ()),
    "units_produced": ((C,), (), ()),
    "kwh_per_unit": ((E, C), (), ()),
    "energy_per_ton": ((E, C), (RUNS,), ("product mass_kg",)),
    "good_qty": ((), (RUNS,), ()),
    "scrap_qty": ((), (RUNS,), ()),
    "scrap_ratio": ((C,), (RUNS,), ()),
    "unplanned_downtime_min": ((), (DOWNTIME,), ()),
    "planned_downtime_min": ((), (DOWNTIME,), ()),
    "unplanned_stop_count": ((), (DOWNTIME,), ()),
    "planned_stop_count": ((), (DOWNTIME,), ()),
    "mtbf_min": ((), (RUNS, DOWNTIME), ()),
    "mttr_min": ((), (DOWNTIME,), ()),
    "planned_busy_time_min": ((), (RUNS, DOWNTIME), ()),
    "actual_production_time_min": ((), (RUNS, DOWNTIME), ()),
    "availability": ((), (RUNS, DOWNTIME), ()),
    "performance": ((C,), (RUNS, DOWNTIME), ()),
    "quality_ratio": ((C,), (RUNS,), ()),
    "oee": ((C,), (RUNS, DOWNTIME), ()),
    "first_pass_yield": ((C,), (RUNS,), ()),
    "throughput_rate": ((C,), (RUNS,), ()),
    "technical_efficiency": ((), (RUNS, DOWNTIME), ()),
    "kwh_per_unit_run": ((E, C), (RUNS,), ()),
    "energy_per_ton_run": ((E, C), (RUNS,), ("product mass_kg",)),
    "enpi_expected_kwh": ((E, C), (), ("energy baseline days",)),
    "enpi_normalized": ((E, C), (), ("energy baseline days",)),
    "enpi_ratio_vs_baseline": ((E, C), (), ("energy baseline days",)),
    "motor_health": ((), (), ("motor_vibration_velocity on a motor",)),
    "lab_sample_count": ((), (LAB,), (LAB_NEEDS,)),
    "out_of_spec_share": ((), (LAB,), (LAB_NEEDS,)),
    "cpk_min": ((), (LAB,), (LAB_NEEDS,)),
}


def kpi_catalog() -> list[str]:
    with KPI_CATALOG_CSV.open(newline="", encoding="utf-8") as handle:
        return [row["kpi"] for row in csv.DictReader(handle)]


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
    for kpi in kpi_catalog():
        needs_sig, needs_stream, other = KPI_REQUIREMENTS.get(kpi, ((), (), ("unknown requirements",)))
        gaps: list[str] = []
        lines_ok = [lid for lid in line_ids if all(s in signals.get(lid, {}) for s in needs_sig)]
        if needs_sig and not lines_ok:
            gaps.append(f"no line has {', '.join(needs_sig)}")
        elif needs_sig and len(lines_ok) < len(line_ids):
            gaps.append(f"lines without {', '.join(needs_sig)}: {sorted(set(line_ids) - set(lines_ok))}")
        for stream in needs_stream:
            if stream == LAB and plant.lab_results is None:
                continue  # said once below, in plain words
            if days and not exports[stream]:
                gaps.append(f"no {stream} export found")
        if "product mass_kg" in other and not any(p.mass_kg for p in plant.products):
            gaps.append("no product has mass_kg")
        if "motor_vibration_velocity on a motor" in other and not any(
                "motor_vibration_velocity" in sig for sig in signals.values()):
            gaps.append("no motor_vibration_velocity tag")
        if LAB_NEEDS in other:
            if plant.lab_results is None:
                gaps.append("no lab_results export configured in plant.yaml (a plant without lab data has no "
                            "quality-deviation KPIs)")
            elif not plant.quality_specs:
                gaps.append("no quality_specs (spec limits) in plant.yaml")
        fatal = [g for g in gaps if not g.startswith("lines without")]
        kpis.append(KpiStatus(kpi, "missing" if fatal else "partial" if gaps else "ready", gaps))

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
