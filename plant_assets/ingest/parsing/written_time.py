"""Timestamps as exports write them: a trailing UTC offset or zone abbreviation, `24:00`, a midnight labelled
with the day it closes, a date and a time in separate columns.

A written stamp that the plain timestamp_format cannot read is split into its body (what the strptime formats read) and its mark (seconds east of
UTC, NULL when the stamp carries none):

  2026-11-01T01:30:00-05:00   body 2026-11-01T01:30:00, mark -18000 (also +0530, +05 and Z after a time)
  01-Nov-2026 01:30:00 CST    body 01-Nov-2026 01:30:00, mark -21600 (an abbreviation of `zone_abbreviations`)
  01-Nov-2026 01:30:00 PM     no mark: PM is not a zone abbreviation, so the text is read as written

A marked stamp is its own UTC instant, whatever the row order: the repeated hour of a fall-back day needs no
guess (record_rules.timestamp_sql). The abbreviations default to the ones the plant's zone has used since
1970 (zoneinfo), plus UTC and GMT; `zone_abbreviations` adds or overrides some ({"CDT": "-05:00"}).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plant_assets.ingest.contract import DialectConfigError

# One regex, evaluated once a row: groups 1-2 an offset after a time (":ss" or ":ss.fff" before it, so a
# date's "-2026" is never read as an offset), groups 3-4 a word of letters after a space.
MARK_RE = r"^(.*:\d\d(?:[.,]\d+)?)\s*(Z|[+-]\d\d(?::?\d\d)?)$|^(.*\S)\s+([A-Za-z]{2,6})$"
OFFSET_TEXT = re.compile(r"^([+-])(\d\d):?(\d\d)?$")
MIDNIGHT_LABELS = ("opening_day", "closing_day")


def zone_abbreviations(tz_name: str) -> dict[str, int]:
    """Abbreviation -> seconds east of UTC that the zone used since 1970 (the latest use wins), plus UTC/GMT."""
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return {"UTC": 0, "GMT": 0}
    found: dict[str, int] = {}
    t = datetime(1970, 1, 1, tzinfo=UTC)
    while t.year < 2040:  # every 2 weeks is finer than any DST season
        local = t.astimezone(tz)
        name = local.tzname() or ""
        if name.isalpha():
            found[name.upper()] = int(local.utcoffset().total_seconds())
        t += timedelta(days=14)
    return {"UTC": 0, "GMT": 0, **found}


def offset_seconds(value: Any, where: str) -> int:
    """'-05:00', '+0530', '+05' or a number of hours -> seconds east of UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and -14 <= value <= 14:
        return round(value * 3600)
    match = OFFSET_TEXT.match(value) if isinstance(value, str) else None
    if not match:
        raise DialectConfigError(f"{where}: {value!r} is not a UTC offset (write '-05:00', '+05:30' or hours: -5)")
    sign = -1 if match.group(1) == "-" else 1
    return sign * (int(match.group(2)) * 3600 + int(match.group(3) or 0) * 60)


def check_time_options(opts: dict[str, Any], tz_name: str, where: str) -> dict[str, Any]:
    """The knobs for written marks and midnight labels: zone_abbreviations, midnight_label."""
    extra = opts.get("zone_abbreviations") or {}
    if not isinstance(extra, dict):
        raise DialectConfigError(f"{where}: zone_abbreviations must map an abbreviation to a UTC offset, "
                                 f"e.g. {{CDT: '-05:00', CST: '-06:00'}}, got {extra!r}")
    abbreviations = zone_abbreviations(tz_name)
    for name, offset in extra.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z]{2,6}", name):
            raise DialectConfigError(f"{where}: zone abbreviation {name!r} must be 2 to 6 letters")
        abbreviations[name.upper()] = offset_seconds(offset, f"{where}.zone_abbreviations.{name}")
    label = opts.get("midnight_label", "opening_day")
    if label not in MIDNIGHT_LABELS:
        raise DialectConfigError(f"{where}: midnight_label must be one of {list(MIDNIGHT_LABELS)}, got {label!r}")
    return {"abbr_names": list(abbreviations), "abbr_offsets": list(abbreviations.values()),
            "closing_day": label == "closing_day"}


def time_params(knobs: dict[str, Any]) -> dict[str, Any]:
    return {"zone_abbr": knobs.get("abbr_names", ["UTC", "GMT"]), "zone_abbr_s": knobs.get("abbr_offsets", [0, 0])}


def written_sql(text: str) -> str:
    """SQL: STRUCT(body, mark) of a written stamp (a one-element list_transform names the regex's groups).
    stamp_sql evaluates it only for the rows a plain strptime cannot read, so unmarked exports pay nothing
    (measured: 2M-row PI file, 1.4-2.4 s before and after)."""
    groups = f"regexp_extract({text}, '{MARK_RE}', ['b1', 'o', 'b2', 'a'])"
    return f"""list_transform([{groups}], lambda m: CASE
            WHEN m.o <> '' THEN {{'body': m.b1, 'mark': {_offset_sql('m.o')}}}
            WHEN m.a <> '' AND list_position($zone_abbr::VARCHAR[], upper(m.a)) IS NOT NULL
                THEN {{'body': m.b2,
                      'mark': ($zone_abbr_s::INTEGER[])[list_position($zone_abbr::VARCHAR[], upper(m.a))]}}
            ELSE {{'body': {text}, 'mark': NULL::INTEGER}} END)[1]"""


def _offset_sql(m: str) -> str:
    return (f"CASE WHEN {m} = 'Z' THEN 0 ELSE (CASE WHEN {m}[1] = '-' THEN -1 ELSE 1 END) * "
            f"({m}[2:3]::INTEGER * 3600 + coalesce(TRY_CAST(nullif(replace({m}[4:], ':', ''), '') AS INTEGER), 0) * 60) "
            f"END::INTEGER")


def _closing(knobs: dict[str, Any], x: str) -> str:
    """midnight_label closing_day: a 00:00 stamp names the day it closes, so it is the next day's 00:00."""
    if not knobs.get("closing_day"):
        return x
    return f"({x} + CASE WHEN {x} = date_trunc('day', {x}) THEN INTERVAL 1 DAY ELSE INTERVAL 0 DAY END)"


def stamp_sql(knobs: dict[str, Any], text: str, plain: str) -> str:
    """Select-list SQL: `ts_parsed` and `ts_mark` of a stamp whose plain parse is the column `plain`.

    Only rows whose plain parse failed (NULL) look for a mark or a 24:00 (CASE evaluates lazily, coalesce
    does not): their body is parsed again, `24:00` read as the next day's 00:00.
    """
    if knobs.get("epoch_us"):
        return f"{plain} AS ts_parsed, NULL::INTEGER AS ts_mark"
    w = written_sql(text)
    body = f"({w}).body"
    h24 = (f"try_strptime(regexp_replace({body}, '([ T])24:00', '\\100:00'), $fmt) + INTERVAL 1 DAY")
    fallback = (f"CASE WHEN try_strptime({body}, $fmt) IS NOT NULL THEN {_closing(knobs, f'try_strptime({body}, $fmt)')} "
                f"WHEN contains({body}, '24:00') THEN {h24} END")
    return (f"CASE WHEN {plain} IS NOT NULL THEN {_closing(knobs, plain)} ELSE {fallback} END AS ts_parsed, "
            f"CASE WHEN {plain} IS NULL THEN ({w}).mark END AS ts_mark")


def joined_sql(fields: list[str]) -> str:
    """SQL: the text of a stamp written over several columns (date and time, or year, month, day), joined by
    one space (the timestamp_format then reads e.g. '%Y-%m-%d %H:%M' or '%Y %m %d')."""
    if len(fields) == 1:
        return fields[0]
    return "concat_ws(' ', " + ", ".join(fields) + ")"
