"""The scorecard's "effort required to map its data": `plant init` drafts a tag map from a hand-made sample,
an engineer then changes one row, adds one tag and drops one; the counts are those edits."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

from plant_assets.core.plant_config import load_plant
from plant_assets.onboarding.scaffold import scaffold_plant
from plant_assets.operations.mapping_effort import DRAFT_FILE, MappingEffort, mapping_effort

TAGS = {  # tag -> values every minute
    "L1_EM_KWH": [1000.0 + 2.5 * i for i in range(60)],
    "L1_CNT_PCS": [500.0 + 40 * i for i in range(60)],
    "L1_M1_CUR_A": [50.0 + (i % 5) for i in range(60)],
    "L1_M1_VIB_MMS": [2.0 + 0.1 * (i % 4) for i in range(60)],
    "L1_M1_TEMP_C": [45.0 + 0.5 * (i % 6) for i in range(60)],
}


def test_kept_changed_added_dropped(tmp_path):
    sample = tmp_path / "PI_20260907.csv"
    start = datetime(2026, 9, 7)
    lines = ["Tag,Timestamp,Value,Status"] + [
        f"{tag},{(start + timedelta(minutes=i)):%d-%b-%Y %H:%M:%S},{v:g},Good"
        for tag, values in TAGS.items() for i, v in enumerate(values)
    ]
    sample.write_text("\n".join(lines) + "\n")
    folder, suggestions, _ = scaffold_plant(tmp_path / "plants", "new_plant", sample, "pi_recorded", "UTC")
    assert (folder / DRAFT_FILE).is_file()
    tag_map = folder / "tag_map.csv"
    rows = list(csv.DictReader(tag_map.open()))
    assert len(rows) == 5  # every tag drafted
    assert mapping_effort(load_plant(folder)) == MappingEffort(kept=5, changed=0, added=0, dropped=0)

    # by hand: the current is in mA after all, the temperature tag is left out, a second energy meter is added
    for row in rows:
        if row["source_tag"] == "L1_M1_CUR_A":
            row["source_unit"] = "mA"
    rows = [r for r in rows if r["source_tag"] != "L1_M1_TEMP_C"]
    rows.append({"source_tag": "L1_EM2_KWH", "signal": "energy_total", "source_unit": "kWh", "line_id": "L1",
                 "asset_id": "L1", "rollover": ""})
    with tag_map.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert mapping_effort(load_plant(folder)) == MappingEffort(kept=3, changed=1, added=1, dropped=1)


def test_no_draft_no_figures(tmp_path):
    from plant_assets.core.settings import REPO_ROOT

    assert mapping_effort(load_plant(REPO_ROOT / "plants" / "plant_a")) is None
