"""`plant-assets plant init`: scaffold plants/<id>/ from a sample export, with a drafted tag map.

Writes plant.yaml (historian section filled from the sample, the rest with TODO placeholders that validate),
tag_map.csv (the drafted mappings) and tag_map.review.csv (every suggestion with its confidence, runner-up
and reasons). Nothing is overwritten unless asked.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from plant_assets.core.plant_config import plant_folder
from plant_assets.core.products import DEFAULT_FAMILY
from plant_assets.onboarding.drafting import Suggestion, draft_tag_map
from plant_assets.onboarding.sample import DATE_IN_NAME, SampleRead, read_sample


def file_pattern_from(name: str) -> str:
    """'PI_RecordedValues_20260907.csv' -> 'PI_RecordedValues_{date:%Y%m%d}.csv' (braces in the name escaped)."""
    m = DATE_IN_NAME.search(name)
    escaped = lambda s: s.replace("{", "{{").replace("}", "}}")  # noqa: E731
    if not m:
        return escaped(name)
    text = m.group(0)
    seps = re.findall(r"\D", text)
    fmt = "%Y{0}%m{1}%d".format(*(seps + ["", ""])[:2]) if len(seps) in (0, 2) else "%Y%m%d"
    return escaped(name[: m.start()]) + "{date:" + fmt + "}" + escaped(name[m.end():])


def _plant_yaml(plant_id: str, name: str, timezone: str, dialect: str, pattern: str, options: dict[str, Any],
                suggestions: list[Suggestion], day: date) -> dict[str, Any]:
    lines: dict[str, set[str]] = {}
    for s in suggestions:
        if s.line_id:
            lines.setdefault(s.line_id, set())
            if s.asset_id and s.asset_id != s.line_id:
                lines[s.line_id].add(s.asset_id)
    if not lines:
        lines = {"L1": set()}
    return {
        "plant_id": plant_id,
        "name": name,
        "isa95": {"enterprise": "TODO enterprise", "site": name, "area": "TODO area"},
        "timezone": timezone,
        "owners": {"operations": "TODO-operations@example.com"},
        "historian": {"dialect": dialect, "file_pattern": pattern, "options": options},
        "production_runs": {
            "file_pattern": "TODO_runs_{date:%Y%m%d}.csv",
            "columns": {"order_id": "order_id", "line_id": "line_id", "product_code": "product_code",
                        "start": "start", "end": "end", "good_qty": "good_qty", "scrap_qty": "scrap_qty"},
        },
        "downtime_events": {
            "file_pattern": "TODO_downtime_{date:%Y%m%d}.csv",
            "columns": {"line_id": "line_id", "start": "start", "end": "end", "reason": "reason",
                        "category": "category"},
            "category_map": {"planned": "planned", "unplanned": "unplanned"},
        },
        "lines": [
            {"id": lid, "name": f"Line {lid}",
             "motors": [{"id": mid, "name": f"Motor {mid}"} for mid in sorted(motors)]}
            for lid, motors in sorted(lines.items())
        ],
        "products": [{"code": "TODO-PRODUCT", "family": DEFAULT_FAMILY, "ideal_rate_per_min": 100}],  # family: a free name
        "energy_baseline": {"start": day, "end": day + timedelta(days=13)},
    }


def scaffold_plant(plants_dir: Path, plant_id: str, sample: Path, dialect: str, timezone: str,
                   options: dict[str, Any] | None = None, name: str | None = None, day: date | None = None,
                   min_confidence: float = 0.0, force: bool = False) -> tuple[Path, list[Suggestion], SampleRead]:
    """Write plants/<plant_id>/ from a sample export; returns (folder, suggestions, what the sample held)."""
    folder = plant_folder(Path(plants_dir), plant_id)  # a ValueError for a bad id, before any path is used
    if folder.exists() and not force:
        raise FileExistsError(f"{folder} exists; pass force to overwrite its plant.yaml and tag_map.csv")
    sample = Path(sample)
    if not sample.is_file():
        raise FileNotFoundError(f"sample export {sample} not found")
    options = dict(options or {})
    read = read_sample(dialect, options, timezone, sample, day, plant_id=plant_id)
    suggestions = draft_tag_map(read.tags, read.stats)
    folder.mkdir(parents=True, exist_ok=True)
    config = _plant_yaml(plant_id, name or plant_id, timezone, dialect, file_pattern_from(sample.name), options,
                         suggestions, read.day)
    header = (f"# Drafted by `plant-assets plant init {plant_id} --sample {sample.name}`.\n"
              "# Replace the TODO values, check the lines and motors, then run `plant-assets plant validate "
              f"{plant_id}` and `plant-assets plant readiness {plant_id}`.\n")
    (folder / "plant.yaml").write_text(header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    fields = ["source_tag", "signal", "source_unit", "line_id", "asset_id", "rollover"]
    with (folder / "tag_map.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        for s in suggestions:
            if s.signal and s.asset_id and s.confidence >= min_confidence:
                writer.writerow(s.row())
    with (folder / "tag_map.review.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [*fields, "confidence", "runner_up", "reasons", "in_tag_map"])
        writer.writeheader()
        for s in suggestions:
            included = bool(s.signal and s.asset_id and s.confidence >= min_confidence)
            writer.writerow({**s.row(), "confidence": f"{s.confidence:.2f}", "runner_up": s.runner_up or "",
                             "reasons": "; ".join(s.reasons), "in_tag_map": "yes" if included else "no"})
    return folder, suggestions, read
