"""Plant onboarding kit: draft a tag map from a sample export, and report a plant's readiness.

    draft_tag_map(tags, stats) -> list[Suggestion]          drafting.py (tokens + unit hints + value statistics)
    read_sample(dialect, options, timezone, path, day)      sample.py   (any dialect, without a tag map)
    scaffold_plant(plants_dir, plant_id, sample, ...)       scaffold.py (writes plants/<id>/)
    readiness(plant, landing_dir, days) -> Readiness         readiness.py
    plant_problems(plant, landing_dir) -> list[str]          plant_checks.py (what `plant validate` adds)
"""

from plant_assets.onboarding.drafting import Suggestion, draft_tag_map, tokens
from plant_assets.onboarding.plant_checks import plant_problems
from plant_assets.onboarding.readiness import KPI_REQUIREMENTS, Readiness, readiness
from plant_assets.onboarding.sample import SampleRead, TagStats, read_sample
from plant_assets.onboarding.scaffold import scaffold_plant

__all__ = [
    "KPI_REQUIREMENTS",
    "Readiness",
    "SampleRead",
    "Suggestion",
    "TagStats",
    "draft_tag_map",
    "plant_problems",
    "read_sample",
    "readiness",
    "scaffold_plant",
    "tokens",
]
