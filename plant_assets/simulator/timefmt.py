"""Locale-independent, vectorized timestamp formatting for export files.

Formats are the strptime formats of plant.yaml (read back with Python or DuckDB), so besides the
usual %Y %y %m %d %H %I %M %S %p %j %b %B %f it knows DuckDB's %g (milliseconds). Month names are
always English, whatever the machine's locale.
"""

from __future__ import annotations

import re

import numpy as np

STR = np.dtypes.StringDType()
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]  # fmt: skip
_TOKEN = re.compile(r"%.")


def _pad(values: np.ndarray, width: int) -> np.ndarray:
    return np.strings.zfill(values.astype(np.int64).astype(STR), width)


def format_datetimes(values: np.ndarray, fmt: str) -> np.ndarray:
    """Format naive datetime64 values (already in the wanted time zone) with a strftime format."""
    ts = np.asarray(values).astype("datetime64[ms]")
    days = ts.astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    ms_of_day = (ts - days).astype(np.int64)
    parts = {
        "Y": lambda: _pad(months.astype("datetime64[Y]").astype(np.int64) + 1970, 4),
        "y": lambda: _pad((months.astype("datetime64[Y]").astype(np.int64) + 1970) % 100, 2),
        "m": lambda: _pad(months.astype(np.int64) % 12 + 1, 2),
        "d": lambda: _pad((days - months).astype(np.int64) + 1, 2),
        "j": lambda: _pad((days - days.astype("datetime64[Y]")).astype(np.int64) + 1, 3),
        "H": lambda: _pad(ms_of_day // 3_600_000, 2),
        "I": lambda: _pad((ms_of_day // 3_600_000 + 11) % 12 + 1, 2),
        "p": lambda: np.where(ms_of_day < 43_200_000, "AM", "PM").astype(STR),
        "M": lambda: _pad(ms_of_day // 60_000 % 60, 2),
        "S": lambda: _pad(ms_of_day // 1000 % 60, 2),
        "g": lambda: _pad(ms_of_day % 1000, 3),
        "f": lambda: _pad(ms_of_day % 1000 * 1000, 6),
        "b": lambda: np.array([m[:3] for m in _MONTHS], dtype=STR)[months.astype(np.int64) % 12],
        "B": lambda: np.array(_MONTHS, dtype=STR)[months.astype(np.int64) % 12],
        "%": lambda: np.full(len(ts), "%", dtype=STR),
    }
    out = np.full(len(ts), "", dtype=STR)
    pos = 0
    for match in _TOKEN.finditer(fmt):
        if match.start() > pos:
            out = out + fmt[pos : match.start()]
        code = match.group()[1]
        if code not in parts:
            raise ValueError(f"timestamp format {fmt!r}: unsupported directive %{code}")
        out = out + parts[code]()
        pos = match.end()
    if pos < len(fmt):
        out = out + fmt[pos:]
    return out
