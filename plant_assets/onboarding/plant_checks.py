"""What `plant validate` checks beyond the schema: what `plant readiness` would trip on, as errors.

A config can be valid pydantic and still read nothing: option values a dialect rejects (checked only when
a file is parsed), an empty tag map, or landing exports that cannot be read or of which no record is
accepted (a header the dialect's column names do not match, every stamp outside the day ...), or a
webhook_url whose host the notifier may not contact (PLANT_ASSETS_WEBHOOK_ALLOWED_HOSTS). Each is a
sentence naming the plant, file and reason.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any


def webhook_problem(plant: Any) -> str | None:
    """Why the notifier would refuse this plant's webhook_url, or None (also when it has none)."""
    from plant_assets.core.webhook_hosts import webhook_refusal

    url = getattr(plant, "webhook_url", None)
    refusal = webhook_refusal(url) if url else None
    return f"plant.yaml webhook_url: {refusal}; until then its alerts stay in the outbox as refused" if refusal else None


def plant_problems(plant: Any, landing_dir: Path, days: list[date] | None = None) -> list[str]:
    """Problems of a loaded plant (PlantConfig) against its landing folder (the last export days by default)."""
    import duckdb

    from plant_assets.ingest.contract import UNREADABLE_FILE, DialectConfigError
    from plant_assets.ingest.exports import parse_historian
    from plant_assets.onboarding.readiness import readiness

    problems: list[str] = [p for p in [webhook_problem(plant)] if p]
    if not plant.tag_map:
        problems.append("tag_map.csv maps no tag: nothing of the exports would be read "
                        "(draft it with `plant-assets plant init <id> --sample <export>`)")
    con = duckdb.connect()
    try:  # the dialect checks its option values before reading any file
        parse_historian(plant, [], date(2000, 1, 1), con)
    except DialectConfigError as exc:
        return [*problems, str(exc)]
    finally:
        con.close()
    report = readiness(plant, landing_dir, days)
    parse = report.parse
    for row in parse["failed_rows"]:
        if row["reason_code"] == UNREADABLE_FILE:
            problems.append(f"{row['source_file']} cannot be read: {row['reason_detail']}")
    if parse["raw"] and not parse["accepted"]:
        problems.append(f"exports of {', '.join(parse['days'])}: {parse['raw']} records and none accepted "
                        f"(reasons {parse['reasons']}); `plant-assets plant readiness {plant.plant_id}` shows "
                        "sample rows with file, line and reason")
    return problems
