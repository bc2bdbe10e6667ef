"""Blocking data-quality gates on each ingested plant-day.

A failed gate stops downstream steps in the same run, and its result is written to the lake so dbt
and the Python assets downstream of dbt (which blocking does not reach across runs) skip that
plant-day: dbt staging only reads plant-days whose gates all passed.
"""

import json
from datetime import datetime, timedelta, timezone

import dagster as dg
import pandas as pd
import pyarrow as pa

from plant_assets.core import lake as lake_paths
from plant_assets.core.plant_config import PlantConfig
from plant_assets.defs.partitions import (
    day_partitions,
    partition_day_range,
    plant_day_partitions,
    split_plant_day,
)
from plant_assets.defs.resources import LakeResource, PlantsResource, WarehouseResource
from plant_assets.quality import (
    GateOutcome,
    outside_limits,
    suite_parameters,
    validate_frame,
)
from plant_assets.quality.day_levels import DayLevelFiles
from plant_assets.quality.historian import historian_day_metrics
from plant_assets.quality.marts_metrics import ingest_gate_status, kpi_day_frames, not_computable
from plant_assets.quality.raw_metrics import offending_samples

# The ingest asset these gates guard (by key: each stage folder stands on its own).
RAW_HISTORIAN = dg.AssetKey("raw_historian")

GATE_SCHEMA = pa.schema(
    [
        ("layer", pa.string()),
        ("passed", pa.bool_()),
        ("checked_at", pa.timestamp("us")),
        ("evaluated_expectations", pa.int32()),
        ("failed_expectations", pa.string()),
        ("thresholds", pa.string()),
        ("plant_overrides", pa.string()),
    ]
)


def write_gate_result(
    lake: LakeResource, layer: str, plant_id: str, day, outcomes: list[GateOutcome], thresholds: dict, overrides: dict
) -> bool:
    passed = all(o.passed for o in outcomes)
    row = {
        "layer": layer,
        "passed": passed,
        "checked_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "evaluated_expectations": sum(o.evaluated for o in outcomes),
        "failed_expectations": json.dumps([f for o in outcomes for f in o.failed], default=str),
        "thresholds": json.dumps(thresholds, default=str),
        "plant_overrides": json.dumps(overrides, default=str),
    }
    lake_paths.write_table_atomic(
        pa.Table.from_pylist([row], schema=GATE_SCHEMA), lake_paths.gate_path(lake.lake, layer, plant_id, day)
    )
    return passed


def _gate_result(
    check_name: str, plant_id: str, day, outcomes: list[GateOutcome], thresholds: dict, overrides: dict,
    rows: int, extra: dict,
) -> dg.AssetCheckResult:
    failed = [f for o in outcomes for f in o.failed]
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=RAW_HISTORIAN,
        passed=all(o.passed for o in outcomes),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "plant_id": plant_id,
            "production_date": day.isoformat(),
            "rows": dg.MetadataValue.int(rows),
            "failed_expectations": dg.MetadataValue.json(failed),
            "summary": dg.MetadataValue.md("\n\n".join(o.markdown() for o in outcomes)),
            "thresholds": dg.MetadataValue.json(thresholds),
            "plant_overrides": dg.MetadataValue.json(overrides or {"none": "central defaults apply"}),
            **({"data_docs": dg.MetadataValue.url(docs[0])} if (docs := [o.docs_url for o in outcomes if o.docs_url]) else {}),
            **extra,
        },
    )


def _thresholds(plant: PlantConfig, suite: str) -> tuple[dict, dict]:
    return suite_parameters(suite, plant.quality_gates.get(suite))


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "raw_historian_gate", asset=RAW_HISTORIAN, blocking=True, partitions_def=plant_day_partitions,
            description="Great Expectations suite `raw_historian` (expectations/): canonical columns, readings "
            "present and inside the plant's local day, quality mostly good, no duplicate (tag, ts), and nothing "
            "lost (per export file raw = accepted + quarantined).",
        ),
        dg.AssetCheckSpec(
            "canonical_signals_gate", asset=RAW_HISTORIAN, blocking=True, partitions_def=plant_day_partitions,
            description="Great Expectations suite `canonical_signals`: each mapped tag converted to its canonical "
            "unit stays in its physical range, reports through the day, has no long gap, is not stuck, and shows "
            "no level shift against yesterday that suggests a unit change.",
        ),
    ],
    description="The raw and canonical gates of a historian plant-day, measured in one step (the canonical pass "
    "proves what the raw duplicate check would otherwise group).",
)
def historian_gates(context: dg.AssetCheckExecutionContext, lake: LakeResource, plants: PlantsResource):
    plant_id, day = split_plant_day(context.partition_key)
    plant = plants.plant(plant_id)
    readings = lake_paths.accepted_path(lake.lake, "historian", plant_id, day)
    window = plant.day_window_utc(day)
    metrics = historian_day_metrics(
        plant,
        readings,
        lake_paths.reconciliation_path(lake.lake, "historian", plant_id, day),
        lake_paths.accepted_path(lake.lake, "historian", plant_id, day - timedelta(days=1)),
        window,
        DayLevelFiles.in_lake(lake.lake, plant_id, day),
    )
    yield _raw_gate(lake, plant, day, readings, window, metrics.raw)
    yield _canonical_gate(lake, plant, day, metrics.canonical)


def _raw_gate(lake: LakeResource, plant: PlantConfig, day, readings, window, metrics: pd.DataFrame) -> dg.AssetCheckResult:
    thresholds, overrides = _thresholds(plant, "raw_historian")
    outcome = validate_frame("raw_historian", metrics, thresholds, f"{plant.plant_id}|{day}")
    write_gate_result(lake, "raw", plant.plant_id, day, [outcome], thresholds, overrides)
    samples = offending_samples(readings, window, {f["column"] for f in outcome.failed}) if not outcome.passed else {}
    row = metrics.iloc[0]
    return _gate_result(
        "raw_historian_gate", plant.plant_id, day, [outcome], thresholds, overrides, int(row["rows"]),
        {
            "good_quality_share": dg.MetadataValue.float(float(row["good_share"])),
            "unreconciled_records": dg.MetadataValue.int(int(row["unreconciled_records"])),
            "sample_offending_rows": dg.MetadataValue.json(samples or {"none": "gate passed"}),
        },
    )


def _canonical_gate(lake: LakeResource, plant: PlantConfig, day, metrics: pd.DataFrame) -> dg.AssetCheckResult:
    thresholds, overrides = _thresholds(plant, "canonical_signals")
    outcome = validate_frame("canonical_signals", metrics, thresholds, f"{plant.plant_id}|{day}", key_column="tag")
    write_gate_result(lake, "canonical", plant.plant_id, day, [outcome], thresholds, overrides)
    return _gate_result(
        "canonical_signals_gate", plant.plant_id, day, [outcome], thresholds, overrides, int(metrics["readings"].sum()),
        {"offending_tags": dg.MetadataValue.md(_worst_tags(metrics, outcome))},
    )


def _worst_tags(metrics: pd.DataFrame, outcome: GateOutcome) -> str:
    """Sample offending rows: the tags outside the limits of a failed expectation."""
    if outcome.passed:
        return "none"
    columns = sorted({f["column"] for f in outcome.failed if isinstance(f.get("column"), str)})
    offending = pd.Series(False, index=metrics.index)
    for f in outcome.failed:
        outside = outside_limits(metrics, f.get("column"), f.get("threshold") or {})
        offending |= outside if outside is not None else False
    shown = metrics.loc[offending, ["tag", "signal", *columns]]
    return shown.head(10).to_markdown(index=False) if len(shown) else "no tags"


KPI_DAILY = dg.AssetKey(["marts", "kpi_daily"])
MIN_HISTORY_DAYS = 7  # below this a plant has no band yet


@dg.asset_check(
    asset=KPI_DAILY,
    blocking=True,
    partitions_def=day_partitions,
    pool="warehouse",
    description="Great Expectations suite `marts_kpi_daily` per plant-day: non-negative energy and output, "
    "0 <= OEE <= 1, every plant-day that passed its ingest gates present, and kWh/unit inside the plant's own "
    "historical band. A failing plant-day is skipped by scoring and alerts; the check blocks the day only "
    "when no plant passes.",
)
def marts_kpi_gate(
    context: dg.AssetCheckExecutionContext, lake: LakeResource, plants: PlantsResource, warehouse: WarehouseResource
):
    first_day, last_day = partition_day_range(context)
    configs, _ = plants.all()
    status = ingest_gate_status(lake.lake, first_day, last_day)
    ingest_ok = status.groupby(["plant_id", "production_date"])["passed"].all() if len(status) else pd.Series(dtype=bool)
    expected = [
        (plant_id, pd.Timestamp(day).date())
        for (plant_id, day), ok in ingest_ok.items()
        if ok and plant_id in configs
    ]
    with warehouse.connect(read_only=True) as con:
        frames = kpi_day_frames(con, sorted(expected), int(suite_parameters("marts_kpi_daily")[0]["band_history_days"]))
    results, failures = [], []
    for row in frames.to_dict("records") if len(frames) else []:
        plant = configs[row["plant_id"]]
        thresholds, overrides = _thresholds(plant, "marts_kpi_daily")
        median = row["history_median_kwh_per_unit"]
        has_band = row["history_days"] >= MIN_HISTORY_DAYS and median == median
        band = (median / thresholds["band_factor"], median * thresholds["band_factor"]) if has_band else (0.0, 1e18)
        frame = pd.DataFrame([row])
        outcome = validate_frame(
            "marts_kpi_daily", frame, thresholds | {"band_low": band[0], "band_high": band[1]},
            f"{row['plant_id']}|{row['production_date']}",
            not_applicable=not_computable(plant),  # issue 19: never fail a plant for a KPI it cannot compute
        )
        write_gate_result(
            lake, "marts", row["plant_id"], row["production_date"], [outcome],
            thresholds | {"band_low": band[0], "band_high": band[1]}, overrides,
        )
        results.append(outcome.passed)
        if not outcome.passed:
            failures.append({"plant_id": row["plant_id"], "day": str(row["production_date"]), "failed": outcome.failed})
    passed = all(results)
    severity = dg.AssetCheckSeverity.ERROR if results and not any(results) else dg.AssetCheckSeverity.WARN
    summary = (
        f"{sum(results)} of {len(results)} plant-days passed."
        + ("" if passed else "\n\n" + "\n".join(f"- {f['plant_id']} {f['day']}: {[x['column'] for x in f['failed']]}" for f in failures))
    )
    return dg.AssetCheckResult(
        passed=passed,
        severity=severity,
        metadata={
            "plant_days_checked": dg.MetadataValue.int(len(results)),
            "plant_days_failed": dg.MetadataValue.int(len(failures)),
            "failures": dg.MetadataValue.json(failures),
            "summary": dg.MetadataValue.md(summary),
        },
    )


def export_lag_days(plant: PlantConfig, landing_root, now_utc: datetime) -> tuple[int, str | None]:
    """Days between the plant's last complete local day and the newest historian export it delivered."""
    from plant_assets.core.production_day import completed_local_day
    from plant_assets.ingest.patterns import match_day

    folder = plant.landing_path(landing_root)
    days = [match_day(plant.historian.file_pattern, p.name) for p in folder.iterdir()] if folder.is_dir() else []
    days = [d for d in days if d is not None]
    expected = completed_local_day(plant, now_utc)
    if not days:
        return 10**6, None
    newest = max(days)
    return max((expected - newest).days, 0), newest.isoformat()


@dg.asset_check(
    asset=RAW_HISTORIAN,
    description="Freshness: every plant delivered its historian export for its last complete local day "
    "(`freshness.max_lag_days`, default 1, overridable per plant). A stale plant is flagged and recorded as a "
    "`freshness` incident for the central team.",
)
def exports_are_fresh(context: dg.AssetCheckExecutionContext, lake: LakeResource, plants: PlantsResource):
    configs, _ = plants.all()
    now = datetime.now(timezone.utc)
    stale, lags = {}, {}
    for plant_id, plant in sorted(configs.items()):
        thresholds, overrides = _thresholds(plant, "freshness")
        lag, newest = export_lag_days(plant, lake.landing, now)
        lags[plant_id] = {"lag_days": lag, "newest_export_day": newest, "max_lag_days": thresholds["max_lag_days"]}
        if lag > thresholds["max_lag_days"]:
            stale[plant_id] = lags[plant_id]
            from plant_assets.core.production_day import completed_local_day

            day = completed_local_day(plant, now)
            failure = {
                "expectation": "exports_arrive_daily", "column": "newest_export_day", "observed": newest,
                "threshold": {"max_lag_days": thresholds["max_lag_days"]}, "sample": [f"lag {lag} days"],
            }
            outcome = GateOutcome(suite="freshness", passed=False, evaluated=1, failed=[failure])
            write_gate_result(lake, "freshness", plant_id, day, [outcome], thresholds, overrides)
    table = "\n".join(
        ["| plant | newest export day | lag (days) | allowed |", "|---|---|---:|---:|"]
        + [f"| {p} | {v['newest_export_day']} | {v['lag_days']} | {v['max_lag_days']} |" for p, v in lags.items()]
    )
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"stale_plants": dg.MetadataValue.json(stale), "exports": dg.MetadataValue.md(table)},
    )
