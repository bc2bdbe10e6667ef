"""The plant registry: every plant's config flattened into dimension tables that dbt reads.

This is where local tags meet shared meaning: each tag gets its canonical signal, asset and the
pint-derived scale/offset to the canonical unit. Nothing here is specific to a plant.
"""

from __future__ import annotations

import pyarrow as pa

from plant_assets.core.catalog import load_signal_catalog
from plant_assets.core.machine_states import state_rows
from plant_assets.core.plant_config import PlantConfig
from plant_assets.core.rated_limits import line_max_units_per_hour, line_rated_kw
from plant_assets.core.units import conversion_to

REGISTRY_SCHEMAS = {
    "plants": pa.schema(
        [
            ("plant_id", pa.string()), ("name", pa.string()), ("timezone", pa.string()),
            ("isa95_path", pa.string()), ("baseline_start", pa.date32()), ("baseline_end", pa.date32()),
            ("energy_tolerance", pa.float64()),
            # which optional exports the plant configures: a KPI from an export the plant lacks is absent, not 0
            ("has_production_runs", pa.bool_()), ("has_downtime_events", pa.bool_()), ("has_lab_results", pa.bool_()),
            # plant.yaml machine_states: a machine_state code or text -> running / idle / down (core.machine_states)
            ("machine_states", pa.list_(pa.struct([("code", pa.float64()), ("text", pa.string()), ("state", pa.string())]))),
        ]
    ),
    # rated_kw / max_units_per_hour: what the line can physically draw and make (core.rated_limits), NULL unknown
    "lines": pa.schema(
        [
            ("plant_id", pa.string()), ("line_id", pa.string()), ("name", pa.string()), ("isa95_path", pa.string()),
            ("rated_kw", pa.float64()), ("max_units_per_hour", pa.float64()),
        ]
    ),
    "motors": pa.schema(
        [
            ("plant_id", pa.string()), ("line_id", pa.string()), ("motor_id", pa.string()), ("name", pa.string()),
            ("machine_class", pa.string()), ("isa95_path", pa.string()),
        ]
    ),
    "products": pa.schema(
        [
            ("plant_id", pa.string()), ("product_code", pa.string()), ("family", pa.string()),
            ("mass_kg", pa.float64()), ("ideal_rate_per_min", pa.float64()),
        ]
    ),
    # Spec limits per product and characteristic (plant.yaml quality_specs), in the spec's unit.
    "quality_specs": pa.schema(
        [
            ("plant_id", pa.string()), ("product_code", pa.string()), ("characteristic", pa.string()),
            ("unit", pa.string()), ("lsl", pa.float64()), ("target", pa.float64()), ("usl", pa.float64()),
        ]
    ),
    "tag_map": pa.schema(
        [
            ("plant_id", pa.string()), ("source_tag", pa.string()), ("signal", pa.string()),
            ("line_id", pa.string()), ("asset_id", pa.string()), ("source_unit", pa.string()),
            ("canonical_unit", pa.string()), ("scale", pa.float64()), ("offset", pa.float64()),
            ("rollover", pa.float64()), ("interval_min", pa.float64()), ("running_above", pa.float64()),
        ]
    ),
}


def registry_rows(plants: dict[str, PlantConfig]) -> dict[str, list[dict]]:
    catalog = load_signal_catalog()
    rows: dict[str, list[dict]] = {name: [] for name in REGISTRY_SCHEMAS}
    for plant in plants.values():
        pid = plant.plant_id
        rows["plants"].append(
            {
                "plant_id": pid, "name": plant.name, "timezone": plant.timezone, "isa95_path": plant.isa95_path(),
                "baseline_start": plant.energy_baseline.start, "baseline_end": plant.energy_baseline.end,
                "energy_tolerance": plant.alerting.energy_tolerance,
                **{f"has_{s}": getattr(plant, s) is not None for s in ("production_runs", "downtime_events", "lab_results")},
                "machine_states": state_rows(plant.machine_states),
            }
        )
        for line in plant.lines:
            rows["lines"].append(
                {
                    "plant_id": pid, "line_id": line.id, "name": line.name, "isa95_path": plant.isa95_path(line.id),
                    "rated_kw": line_rated_kw(line), "max_units_per_hour": line_max_units_per_hour(plant, line),
                }
            )
            for motor in line.motors:
                rows["motors"].append(
                    {
                        "plant_id": pid, "line_id": line.id, "motor_id": motor.id, "name": motor.name,
                        "machine_class": motor.machine_class, "isa95_path": plant.isa95_path(line.id, motor.id),
                    }
                )
        for product in plant.products:
            rows["products"].append(
                {
                    "plant_id": pid, "product_code": product.code, "family": product.family,
                    "mass_kg": product.mass_kg, "ideal_rate_per_min": product.ideal_rate_per_min,
                }
            )
        for spec in plant.quality_specs:
            rows["quality_specs"].append(
                {
                    "plant_id": pid, "product_code": spec.product, "characteristic": spec.characteristic,
                    "unit": spec.unit, "lsl": spec.lsl, "target": spec.target, "usl": spec.usl,
                }
            )
        for tag in plant.tag_map:
            canonical_unit = catalog[tag.signal].canonical_unit
            scale, offset = conversion_to(tag.source_unit, canonical_unit)
            rows["tag_map"].append(
                {
                    "plant_id": pid, "source_tag": tag.source_tag, "signal": tag.signal, "line_id": tag.line_id,
                    "asset_id": tag.asset_id, "source_unit": tag.source_unit, "canonical_unit": canonical_unit,
                    "scale": scale, "offset": offset, "rollover": tag.rollover,
                    "interval_min": tag.interval_min, "running_above": tag.running_above,
                }
            )
    return rows


def registry_tables(plants: dict[str, PlantConfig]) -> dict[str, pa.Table]:
    rows = registry_rows(plants)
    return {name: pa.Table.from_pylist(rows[name], schema=schema) for name, schema in REGISTRY_SCHEMAS.items()}
