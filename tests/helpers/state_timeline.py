"""Truth for machine-state tests, computed from a raw MTConnect SHDR log by plain Python (no plant_assets code):
the minutes an event-driven item (e.g. `execution`) spends in each state within a window.

An event's value holds until the item's next event (hold last value); the state at the window's start is the
item's last event before it (the file's opening dump says when each value was set), or NO_DATA when there is
none. Time after the last event up to the window's end keeps the last state. Events at the same instant: the
one written first counts (the lake keeps the first of a repeated key), the later ones last zero time anyway.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

NO_DATA = "NO_DATA"


def shdr_events(path: Path, item: str) -> list[tuple[datetime, str]]:
    """(naive UTC instant, value) of every `timestamp|item|value` line of `item`, in file order."""
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("|")
        if len(fields) >= 3 and fields[1] == item:
            instant = datetime.fromisoformat(fields[0].replace("Z", "+00:00"))
            events.append((instant.astimezone(timezone.utc).replace(tzinfo=None), fields[2]))
    return events


def state_minutes(events: list[tuple[datetime, str]], start: datetime, end: datetime) -> dict[str, float]:
    """Minutes per state in [start, end) of hold-last-value events (naive UTC), rounded to 1e-6 min."""
    first_at: dict[datetime, str] = {}
    for instant, state in events:  # first written wins at a repeated instant
        first_at.setdefault(instant, state)
    ordered = sorted(first_at.items())
    before = [state for instant, state in ordered if instant < start]
    current, since = (before[-1] if before else NO_DATA), start
    minutes: dict[str, float] = {}
    for instant, state in ordered:
        if instant < start:
            continue
        if instant >= end:
            break
        minutes[current] = minutes.get(current, 0.0) + (instant - since).total_seconds() / 60
        current, since = state, instant
    minutes[current] = minutes.get(current, 0.0) + (end - since).total_seconds() / 60
    return {state: round(value, 6) for state, value in sorted(minutes.items()) if value > 0}
