"""Jobs: the nightly graph split where its partitioning changes (plant x day, day, plant)."""

from __future__ import annotations

import dagster as dg

from plant_assets.defs.partitions import (
    day_partitions,
    plant_day_partitions,
    plant_partitions,
)

FRESHNESS_CHECK = dg.AssetCheckKey(dg.AssetKey("raw_historian"), "exports_are_fresh")

ingest_job = dg.define_asset_job(
    "ingest_plant_day",
    selection=dg.AssetSelection.groups("ingest")
    - dg.AssetSelection.assets("plant_registry")
    - dg.AssetSelection.checks(FRESHNESS_CHECK),
    partitions_def=plant_day_partitions,
    description="Ingest one plant-day's exports (historian, production runs, downtime, lab results) and gate "
    "them.",
)

standardize_job = dg.define_asset_job(
    "standardize_and_act",
    selection=dg.AssetSelection.groups("standardize", "operations"),
    partitions_def=day_partitions,
    description="dbt (staging -> marts) for every plant for the day, then champion scoring and alerts.",
)

training_job = dg.define_asset_job(
    "train_models",
    selection=dg.AssetSelection.groups("ml"),
    partitions_def=plant_partitions,
    description="Train every ML use case for one plant (ml/templates/): fit each common template, calibrate, evaluate "
    "and register the plant's instance, then check its energy baseline champion for drift.",
)

registry_job = dg.define_asset_job(
    "refresh_plant_registry",
    selection=dg.AssetSelection.assets("plant_registry"),
    description="Re-read plants/<id>/ configs and tag maps into the registry tables dbt joins.",
)

freshness_job = dg.define_asset_job(
    "check_export_freshness",
    selection=dg.AssetSelection.checks(FRESHNESS_CHECK),
    description="Flag plants whose historian exports stopped arriving.",
)
