"""What users see in the Dagster UI, frozen: every asset's key, group, owners, kinds, partitions and parents,
every check (and whether it blocks), every job, schedule and sensor. A refactor that changes any of it
fails here; a deliberate change is accepted with `UPDATE_SNAPSHOTS=1 pytest tests/integration/test_asset_graph_snapshot.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "asset_graph.json"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return "multi(" + ", ".join(f"{d.name}={_partitions(d.partitions_def)}" for d in partitions_def.partitions_defs) + ")"
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return f"time({partitions_def.cron_schedule}, {partitions_def.timezone}, end_offset={partitions_def.end_offset})"
    if isinstance(partitions_def, dg.DynamicPartitionsDefinition):
        return f"dynamic({partitions_def.name})"
    return type(partitions_def).__name__


def graph_snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        spec = node.to_asset_spec() if hasattr(node, "to_asset_spec") else None
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "materializable": node.is_materializable,
            "owners": sorted(node.owners),
            "kinds": sorted(spec.kinds) if spec is not None else [],
            "partitions": _partitions(node.partitions_def),
            "parents": sorted(p.to_user_string() for p in node.parent_keys),
            "pools": sorted(getattr(node, "pools", None) or ()),
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {"blocking": spec.blocking}
    repo = defs.get_repository_def()
    return {
        "assets": assets,
        "checks": checks,
        "jobs": sorted(job.name for job in repo.get_all_jobs() if not job.name.startswith("__")),
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }


def test_asset_graph_matches_snapshot():
    from plant_assets.definitions import defs

    current = graph_snapshot(defs)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    for section in ("assets", "checks"):
        added = sorted(set(current[section]) - set(expected[section]))
        removed = sorted(set(expected[section]) - set(current[section]))
        assert not added and not removed, f"{section}: added {added}, removed {removed}"
        changed = {k: (expected[section][k], current[section][k]) for k in expected[section] if expected[section][k] != current[section][k]}
        assert not changed, f"{section} changed (expected, now): {changed}"
    for section in ("jobs", "schedules", "sensors"):
        assert current[section] == expected[section], section
