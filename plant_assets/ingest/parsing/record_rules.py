"""Record classification: first matching rule wins (`Rule`, `rule_sql`), and the timestamp rules and
parameters every stream shares (`timestamp_sql`, `timestamp_rules`, `day_params`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from plant_assets.ingest.contract import (
    BAD_TIMESTAMP,
    OUTSIDE_PARTITION_DAY,
    REASON_CODES,
)
from plant_assets.ingest.parsing.local_day import LocalDay


@dataclass(frozen=True)
class Rule:
    when: str  # SQL condition
    code: str  # one of REASON_CODES
    detail: str  # SQL expression for reason_detail


def rule_sql(rules: Sequence[Rule]) -> tuple[str, str, str]:
    """(rule number SQL, reason_code SQL given column `rule_no`, reason_detail SQL given `rule_no`)."""
    for r in rules:
        if r.code not in REASON_CODES:
            raise ValueError(f"unknown reason code {r.code!r}")
    number = "CASE " + " ".join(f"WHEN {r.when} THEN {i}" for i, r in enumerate(rules, 1)) + " END"
    code = "CASE rule_no " + " ".join(f"WHEN {i} THEN '{r.code}'" for i, r in enumerate(rules, 1)) + " END"
    detail = "CASE rule_no " + " ".join(f"WHEN {i} THEN {r.detail}" for i, r in enumerate(rules, 1)) + " END"
    return number, code, detail


def timestamp_sql(day: LocalDay, mode: str, parsed: str, mark: str = "NULL::INTEGER",
                  shift: bool = False, prefix: str = "tz") -> dict[str, str]:
    """SQL expressions for a parsed naive timestamp column in `mode` ('local' or 'utc').

    `mark` is the stamp's written UTC offset in seconds (written_time; NULL when unmarked): a marked stamp is
    its own instant, needs no fold resolution (off2 NULL), and in local mode must carry an offset the plant's
    zone has at that local time (else `in_gap`: a wrong plant time zone, or a time the DST change skipped).
    `shift`: interval-end stamps; the day window is checked on stamp - interval ($shift_us).
    `prefix`: the names of `day`'s SQL parameters (`day.params(prefix)`), so two windows can share a query.
    """
    x = f"({parsed} - to_microseconds($shift_us))" if shift else parsed
    marked_utc = f"({parsed} - to_seconds({mark}))"
    if mode == "local":
        first = day.utc_sql(parsed, prefix)
        off2 = day.fold_offset2_sql(parsed, prefix)
        mismatch = (f"(NOT {day.outside_local_sql(parsed, prefix)} AND {marked_utc} IS DISTINCT FROM {first} "
                    f"AND {mark} IS DISTINCT FROM {off2})")
        return {
            "ts_local": parsed,
            "ts_utc": f"CASE WHEN {mark} IS NULL THEN {first} ELSE {marked_utc} END",
            "in_gap": f"CASE WHEN {mark} IS NULL THEN {day.gap_sql(parsed, prefix)} ELSE {mismatch} END",
            "outside": day.outside_local_sql(x, prefix),
            "off2": f"CASE WHEN {mark} IS NULL THEN {off2} END",
            # on a fall-back day every unmarked local time is kept: resolve_fold reads the row order from it
            "fold_local": f"CASE WHEN {mark} IS NULL THEN {parsed} END" if day.has_fold else "NULL::TIMESTAMP",
        }
    return {
        "ts_local": "NULL::TIMESTAMP",
        "ts_utc": f"CASE WHEN {mark} IS NULL THEN {parsed} ELSE {marked_utc} END",
        "in_gap": "false",
        "outside": day.outside_utc_sql(f"CASE WHEN {mark} IS NULL THEN {x} ELSE {x} - to_seconds({mark}) END", prefix),
        "off2": "NULL::INTEGER",
        "fold_local": "NULL::TIMESTAMP",
    }


def timestamp_rules(day: LocalDay, mode: str, parsed: str, text: str, mark: str = "NULL::INTEGER") -> list[Rule]:
    """bad_timestamp (unparseable / DST gap / an offset the zone does not have) and outside_partition_day
    rules for one timestamp column."""
    zone = "local time" if mode == "local" else "UTC"
    return [
        Rule(f"{parsed} IS NULL", BAD_TIMESTAMP,
             f"format('timestamp ''{{}}'' does not match the format {{}}', {text}, $fmt_text)"),
        Rule("in_gap", BAD_TIMESTAMP,
             f"CASE WHEN {mark} IS NULL THEN format('local time {{}} does not exist in {{}} (skipped by the DST change)', "
             f"{parsed}, $tz_name) ELSE format('timestamp ''{{}}'' carries UTC offset {{}} s, which {{}} does not have "
             f"at local time {{}} (a time skipped by the DST change, or the wrong plant time zone)', {text}, {mark}, "
             f"$tz_name, {parsed}) END"),
        Rule("outside", OUTSIDE_PARTITION_DAY,
             f"format('{zone} {{}} is outside production day {{}} ({{}} local, [{{}}, {{}}) UTC)', "
             f"{parsed}, $day_text, $tz_name, $tz_u0, $tz_u1)"),
    ]


def day_params(day: LocalDay, formats: Sequence[str] | None = None) -> dict[str, Any]:
    params = day.params()
    params["day_text"] = day.day.isoformat()
    params["tz_name"] = day.tz_name
    if formats is not None:
        params["fmt"] = list(formats)
        params["fmt_text"] = " or ".join(repr(f) for f in formats)
    return params
