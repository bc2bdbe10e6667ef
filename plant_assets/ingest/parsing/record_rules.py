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


def timestamp_sql(day: LocalDay, mode: str, parsed: str) -> dict[str, str]:
    """SQL expressions for a parsed naive timestamp column in `mode` ('local' or 'utc')."""
    if mode == "local":
        return {
            "ts_local": parsed,
            "ts_utc": day.utc_sql(parsed),
            "in_gap": day.gap_sql(parsed),
            "outside": day.outside_local_sql(parsed),
            "off2": day.fold_offset2_sql(parsed),
        }
    return {
        "ts_local": "NULL::TIMESTAMP",
        "ts_utc": parsed,
        "in_gap": "false",
        "outside": day.outside_utc_sql(parsed),
        "off2": "NULL::INTEGER",
    }


def timestamp_rules(day: LocalDay, mode: str, parsed: str, text: str) -> list[Rule]:
    """bad_timestamp (unparseable / DST gap) and outside_partition_day rules for one timestamp column."""
    zone = "local time" if mode == "local" else "UTC"
    return [
        Rule(f"{parsed} IS NULL", BAD_TIMESTAMP,
             f"format('timestamp ''{{}}'' does not match the format {{}}', {text}, $fmt_text)"),
        Rule("in_gap", BAD_TIMESTAMP,
             f"format('local time {{}} does not exist in {{}} (skipped by the DST change)', {parsed}, $tz_name)"),
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
