"""A benchmark fleet: N plant folders at realistic size, made the way a plant is onboarded (configuration only).

Plant k is a copy of demo plant k mod 3 (so the fleet cycles through the PI, AVEVA wide and Ignition
dialects, their time zones and units) with its own id, seed and enough motors per line that the plant has
`tags` historian tags (3 per motor, 2 meters per line). Faults are dropped: a nightly of clean plants.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import yaml

from plant_assets.core.settings import REPO_ROOT

SEEDS = ("plant_a", "plant_b", "plant_c")
# The motor number inside a seed tag name: RHF.L1.M1.CUR, CF_L1_M1_Amps, pune/line1/motor1/current_a.
_MOTOR_NUMBER = re.compile(r"(?<=M|r)1(?=\D|$)")


def _motor_tag(seed_tag: str, motor_no: int) -> str:
    return _MOTOR_NUMBER.sub(str(motor_no), seed_tag, count=1)


def make_plant(plants_dir: Path, plant_id: str, seed_id: str, tags: int, seed: int, baseline: tuple[str, str],
               sample_prefix: str = "") -> Path:
    source = REPO_ROOT / "plants" / seed_id
    config = yaml.safe_load((source / "plant.yaml").read_text())
    with (source / "tag_map.csv").open() as f:
        seed_rows = list(csv.DictReader(f))
    lines = config["lines"]
    motors_per_line = max(1, (tags - 2 * len(lines)) // (3 * len(lines)))
    rows = []
    for line in lines:
        first = line["motors"][0]
        line["motors"] = [
            {**line["motors"][i % len(line["motors"])], "id": f"{line['id']}-M{i + 1}", "name": f"Drive {i + 1}"}
            for i in range(motors_per_line)
        ]
        line_rows = [r for r in seed_rows if r["line_id"] == line["id"]]
        rows += [r for r in line_rows if r["asset_id"] == line["id"]]
        template = [r for r in line_rows if r["asset_id"] == first["id"]]
        for i in range(motors_per_line):
            rows += [{**r, "source_tag": _motor_tag(r["source_tag"], i + 1), "asset_id": f"{line['id']}-M{i + 1}"}
                     for r in template]
    config.update(plant_id=plant_id, name=f"Benchmark plant {plant_id} ({seed_id} dialect)")
    config["energy_baseline"] = {"start": baseline[0], "end": baseline[1]}
    config["simulation"]["seed"] = seed
    config["simulation"].pop("faults", None)
    # Every minute's change is written (1-minute data, as issue 8's plant size), slow signals still by exception.
    config["simulation"].setdefault("export", {})["deadband"] = {
        "motor_current": 0.0, "motor_vibration_velocity": 0.0, "motor_bearing_temperature": 0.0
    }
    lab = config["simulation"].get("lab")
    if lab and sample_prefix:  # separately simulated windows must not reuse lab sample ids
        lab["sample_id_format"] = sample_prefix + lab["sample_id_format"]
    for product in config["simulation"]["products"].values():
        product.pop("introduced_day", None)
    folder = plants_dir / plant_id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "plant.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    with (folder / "tag_map.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(seed_rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def make_fleet(plants_dir: Path, count: int, tags: int = 500, baseline: tuple[str, str] = ("2026-09-07", "2026-09-09"),
               sample_prefix: str = "") -> list[str]:
    plants_dir.mkdir(parents=True, exist_ok=True)
    ids = [f"p{k:03d}" for k in range(1, count + 1)]
    for k, plant_id in enumerate(ids):
        make_plant(plants_dir, plant_id, SEEDS[k % len(SEEDS)], tags, seed=5000 + k, baseline=baseline,
                   sample_prefix=sample_prefix)
    return ids
