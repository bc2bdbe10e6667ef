"""`python -m plant_assets.scaleout check` (what `make scale-demo` runs) and `... run` (one window, one mode,
in the current environment; the check starts it as a subprocess)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def _run(args) -> int:
    from plant_assets.core.plant_config import validate_plants
    from plant_assets.core.settings import get_settings

    settings = get_settings()
    settings.export_env()
    plants = sorted(validate_plants(settings.plants_dir)[0])
    first, last = date.fromisoformat(args.first_day), date.fromisoformat(args.last_day)
    started = time.monotonic()
    if args.mode == "single":
        import dagster as dg

        from plant_assets.definitions import defs
        from plant_assets.defs.run_window import run_window

        with dg.DagsterInstance.get() as instance:
            report = run_window(defs, instance, plants, first, last, train=not args.no_train)
    else:
        from plant_assets.scaleout.window import run_window_distributed

        report = run_window_distributed(plants, first, last, train=not args.no_train, parallel_runs=args.parallel_runs)
    outcome = {"mode": args.mode, "seconds": round(time.monotonic() - started, 1), "runs": report.runs,
               "ok": report.ok, "ingest_failures": report.ingest_failures, "training_failures": report.training_failures,
               "gate_failures": report.gate_failures}
    Path(args.out).write_text(json.dumps(outcome, indent=2))
    print(json.dumps(outcome, indent=2))
    return 0 if report.ok else 1


def _check(args) -> int:
    from plant_assets.scaleout.demo import scale_out_check

    plants = args.plants.split(",") if args.plants else None
    with tempfile.TemporaryDirectory(prefix="plant-assets-scale-") as tmp:
        result = scale_out_check(Path(tmp), plants, date.fromisoformat(args.first_day), args.days, args.workers)
    text = json.dumps(result.as_dict(), indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0 if result.ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plant_assets.scaleout")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one window in the current environment")
    run.add_argument("--mode", choices=("single", "distributed"), required=True)
    run.add_argument("--first-day", required=True)
    run.add_argument("--last-day", required=True)
    run.add_argument("--out", required=True)
    run.add_argument("--no-train", action="store_true", help="skip the training runs (e.g. a window too short to train)")
    run.add_argument("--parallel-runs", type=int, default=4, help="distributed: plant-day runs orchestrated at once")
    check = sub.add_parser("check", help="single machine vs scaled out on the same simulated window")
    check.add_argument("--plants", default="", help="comma-separated plant ids (default: all in plants/)")
    check.add_argument("--first-day", default="2026-09-07")
    check.add_argument("--days", type=int, default=3, help="3 is the least that trains: the last day is the holdout")
    check.add_argument("--workers", type=int, default=2)
    check.add_argument("--out", default="", help="also write the result JSON here")
    args = parser.parse_args(argv)
    return _run(args) if args.command == "run" else _check(args)


if __name__ == "__main__":
    sys.exit(main())
