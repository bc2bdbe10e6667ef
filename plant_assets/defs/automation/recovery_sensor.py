"""The daemon's side of crash recovery: every two minutes, fail the runs whose process is gone, free their
pool slots and clear their debris (plant_assets/defs/recovery.py). The CLI does the same at each start."""

import dagster as dg

from plant_assets.defs.recovery import recover_after_crash


@dg.sensor(
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,  # a power cut must not need anyone to switch it on
    description="Crash recovery: runs whose process died (kill -9, power cut) are marked failed and their "
    "`warehouse` pool slots freed; stale publish temp copies, MLflow runs left RUNNING and half-registered "
    "model versions are cleaned. Launches nothing.",
)
def crash_recovery(context: dg.SensorEvaluationContext):
    recovery = recover_after_crash(context.instance, context.log.warning)
    if not recovery.anything:
        return dg.SkipReason("no dead run and no debris")
    return dg.SkipReason(
        f"recovered {len(recovery.failed_runs)} dead run(s), freed {len(recovery.freed_runs)} finished run(s)' "
        f"slots, removed {len(recovery.removed_files)} temp file(s), failed {len(recovery.failed_mlflow_runs)} "
        f"MLflow run(s), deleted {len(recovery.deleted_model_versions)} half-registered version(s)"
    )
