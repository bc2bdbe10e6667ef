"""What a plant's configuration lets it compute: per KPI of the catalog, the inputs it lacks.

The one reading of the KPI catalog's requires_* columns (dbt_project/seeds/kpi_catalog.csv), shared by
`plant readiness` (which adds whether the export files arrived) and the marts gate (which judges only the
KPIs a plant can compute: a plant is never failed for a KPI it cannot have).

Requirement words:
- requires_signals: canonical signals. A tag counts as its own signal and as the signal it is a form of
  (catalog form_of: energy_interval and active_power are energy_total, machine_state is machine_running);
  a continuous tag with running_above in the tag map is a machine_running source too. A line-level signal
  is needed on every line (a gap on some lines is `partial`), a motor-level one on some motor.
- requires_exports: optional exports (production_runs, downtime_events, lab_results). `a|b` means any one
  alternative; an alternative that is a canonical signal is met by a tag of it (the time model comes from
  MES or, without it, from the machine state).
- requires_config: plant.yaml settings, checked by CONFIG_CHECKS.
"""

from __future__ import annotations

from typing import Any

from plant_assets.core.catalog import CanonicalSignal, Kpi, load_kpi_catalog, load_signal_catalog

LAB = "lab_results"
STATE = "machine_running"  # the signal a running_above tag provides
# The signals the shared KPIs, motor health and the ML templates are built on: readiness lists an asset's gaps
# in them and the rollout scorecard's tag-map coverage is the share mapped (in any form). The catalog's other
# signals (process values, utilities, weather, mass, machine state) are optional measurements.
CORE_SIGNALS = ("energy_total", "production_count_total", "motor_current", "motor_vibration_velocity",
                "motor_bearing_temperature")


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
    "production_runs": "no production_runs export configured in plant.yaml (no MES orders)",
    "downtime_events": "no downtime_events export configured in plant.yaml (no MES downtime)",
}


def provided_signals(plant: Any, catalog: dict[str, CanonicalSignal] | None = None) -> dict[str, dict[str, list[str]]]:
    """asset -> signal a KPI requirement may name -> the plant's tags that provide it (a running_above tag
    provides machine_running on its line, whatever asset it measures)."""
    catalog = catalog or load_signal_catalog()
    out: dict[str, dict[str, list[str]]] = {}
    for m in plant.tag_map:
        for name in sorted({m.signal, catalog[m.signal].provides}):
            out.setdefault(m.asset_id, {}).setdefault(name, []).append(m.source_tag)
        if m.running_above is not None:  # a motor's current above its threshold: its line runs
            out.setdefault(m.line_id, {}).setdefault(STATE, []).append(m.source_tag)
    return out


def export_gap(stream: str, plant: Any, signals: dict[str, dict[str, list[str]]],
               found: dict[str, list[str]] | None, catalog: dict[str, CanonicalSignal]) -> str | None:
    """Why one requirement alternative is not met (None: met). `found`: export files per stream, or None to
    judge the configuration alone."""
    if stream in catalog:
        return None if any(stream in sig for sig in signals.values()) else f"no {stream} tag (flag, state code or running_above)"
    if getattr(plant, stream) is None:
        return UNCONFIGURED_EXPORT.get(stream, f"no {stream} export configured in plant.yaml")
    if found is not None and not found.get(stream):
        return f"no {stream} export found"
    return None


def kpi_gaps(kpi: Kpi, plant: Any, signals: dict[str, dict[str, list[str]]], found: dict[str, list[str]] | None = None,
             catalog: dict[str, CanonicalSignal] | None = None) -> list[str]:
    """The inputs `kpi` lacks in `plant`, in plain words; a gap starting 'lines without' is partial."""
    catalog = catalog or load_signal_catalog()
    gaps: list[str] = []
    line_ids = [line.id for line in plant.lines]
    line_needs = [s for s in kpi.requires_signals if catalog[s].asset_level == "line"]
    lines_ok = [lid for lid in line_ids if all(s in signals.get(lid, {}) for s in line_needs)]
    if line_needs and not lines_ok:
        gaps.append(f"no line has {', '.join(line_needs)}")
    elif line_needs and len(lines_ok) < len(line_ids):
        gaps.append(f"lines without {', '.join(line_needs)}: {sorted(set(line_ids) - set(lines_ok))}")
    for s in kpi.requires_signals:
        if catalog[s].asset_level == "motor" and not any(s in sig for sig in signals.values()):
            gaps.append(f"no {s} tag")
    for need in kpi.requires_exports:
        options = [export_gap(stream, plant, signals, found, catalog) for stream in need.split("|")]
        if all(options):
            gaps.append(options[0] if len(options) == 1 else "none of: " + "; ".join(options))
    for need in kpi.requires_config:
        if need not in CONFIG_CHECKS:
            raise ValueError(f"kpi_catalog.csv: {kpi.kpi} requires_config {need!r}; known: {sorted(CONFIG_CHECKS)}")
        gap = CONFIG_CHECKS[need](plant)
        if gap:
            gaps.append(gap)
    return gaps


def status_of(gaps: list[str]) -> str:
    """ready, partial (only some lines lack a line signal) or missing."""
    fatal = [g for g in gaps if not g.startswith("lines without")]
    return "missing" if fatal else "partial" if gaps else "ready"


def computable_kpis(plant: Any) -> frozenset[str]:
    """The catalog KPIs the plant's configuration can compute (ready or partial), files not judged."""
    signals = provided_signals(plant)
    return frozenset(k.kpi for k in load_kpi_catalog().values() if status_of(kpi_gaps(k, plant, signals)) != "missing")
