"""The effort it took to map a plant's data: its drafted tag map against the one it runs with.

`plant-assets plant init` keeps every drafted row in plants/<id>/tag_map.review.csv (in_tag_map = yes for the
rows it put into tag_map.csv). Compared with the current tag map, by source tag:
  kept     drafted rows still mapped exactly as drafted (signal, unit, line, asset, rollover);
  changed  drafted rows whose tag is still mapped, but differently;
  added    mapped tags the draft did not put into the tag map (written or completed by hand);
  dropped  drafted rows no longer mapped.
A plant without a draft (its tag map written by hand before the assistant existed) has no figures.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from plant_assets.core.plant_config import PlantConfig

DRAFT_FILE = "tag_map.review.csv"  # written by onboarding.scaffold (plant init) next to tag_map.csv
FIELDS = ("signal", "source_unit", "line_id", "asset_id", "rollover")


@dataclass(frozen=True)
class MappingEffort:
    kept: int
    changed: int
    added: int
    dropped: int


def _rollover(cell) -> float | None:
    return float(cell) if cell not in (None, "") else None


def mapping_effort(plant: PlantConfig) -> MappingEffort | None:
    draft_path = plant.folder / DRAFT_FILE if plant.folder else None
    if draft_path is None or not draft_path.is_file():
        return None
    with draft_path.open(newline="", encoding="utf-8") as handle:
        drafted = {
            row["source_tag"]: (row["signal"], row["source_unit"], row["line_id"], row["asset_id"],
                                _rollover(row.get("rollover")))
            for row in csv.DictReader(handle) if (row.get("in_tag_map") or "").strip().lower() == "yes"
        }
    current = {t.source_tag: (t.signal, t.source_unit, t.line_id, t.asset_id, t.rollover) for t in plant.tag_map}
    kept = sum(1 for tag, row in drafted.items() if current.get(tag) == row)
    changed = sum(1 for tag, row in drafted.items() if tag in current and current[tag] != row)
    return MappingEffort(kept=kept, changed=changed, added=len(set(current) - set(drafted)),
                         dropped=len(set(drafted) - set(current)))
