"""Export file patterns such as `PI_RecordedValues_{date:%Y%m%d}.csv`: day -> name and name -> day."""

from __future__ import annotations

import fnmatch
import re
from datetime import date, datetime

_DATE_FIELD = re.compile(r"\{date:([^}]*)\}")
_CODE_REGEX = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}", "%y": r"\d{2}", "%b": r"[A-Za-z]{3}", "%j": r"\d{3}"}


def file_name_for(pattern: str, day: date) -> str:
    return pattern.format(date=day)


def _field_regex(fmt: str) -> str:
    out, i = [], 0
    while i < len(fmt):
        code = fmt[i : i + 2]
        if code in _CODE_REGEX:
            out.append(_CODE_REGEX[code])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "".join(out)


def match_day(pattern: str, file_name: str) -> date | None:
    """The day encoded in a file name that matches the pattern, or None."""
    parts, regex, formats = _DATE_FIELD.split(pattern), [], []
    for index, part in enumerate(parts):
        if index % 2 == 0:  # literal text, glob characters allowed
            regex.append(fnmatch.translate(part).removeprefix("(?s:").removesuffix(r")\Z"))
        else:
            formats.append(part)
            regex.append(f"(?P<d{len(formats) - 1}>{_field_regex(part)})")
    found = re.fullmatch("".join(regex), file_name)
    if not found:
        return None
    days = set()
    for index, fmt in enumerate(formats):
        try:
            days.add(datetime.strptime(found.group(f"d{index}"), fmt).date())
        except ValueError:
            return None
    return days.pop() if len(days) == 1 else None


_ANY_DATE_FIELD = re.compile(r"\{date(?::[^}]*)?\}")


def names_one_day(pattern: str) -> bool:
    """True when each day has its own file name (a daily export); False when days share a name: a yearly or
    monthly pattern (`meter_{date:%Y}.csv`) or none at all (`export.csv`), whose files may hold any span."""
    pairs = ((date(2026, 1, 1), date(2026, 1, 2)), (date(2026, 6, 14), date(2026, 6, 15)))
    return all(pattern.format(date=a) != pattern.format(date=b) for a, b in pairs)


def span_glob(pattern: str) -> str:
    """The glob of every file a pattern can name: each date field becomes `*`."""
    return _ANY_DATE_FIELD.sub("*", pattern)
