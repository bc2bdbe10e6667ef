"""Checks of a dialect's options (`historian.options`) shared by the parsers: delimiter, timestamp formats,
option names, quality maps and `timestamps_in`. Each raises DialectConfigError naming the plant and the
option, before any file is read."""

from __future__ import annotations

from typing import Any, Iterable

import duckdb

from plant_assets.ingest.contract import QUALITIES, DialectConfigError
from plant_assets.ingest.parsing.sql import run_sql


def check_delimiter(delim: Any, where: str) -> str:
    if not isinstance(delim, str) or len(delim) != 1 or delim in "\"\r\n" or delim.isalnum():
        raise DialectConfigError(f"{where}: delimiter must be one non-alphanumeric character other than a quote "
                                 f"or a line break, got {delim!r}")
    return delim


def check_formats(con: duckdb.DuckDBPyConnection, fmt: Any, where: str) -> list[str]:
    """A strptime format or list of formats (tried in order); validated by DuckDB once, up front."""
    formats = [fmt] if isinstance(fmt, str) else fmt
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and f for f in formats):
        raise DialectConfigError(f"{where}: timestamp_format must be a strptime format or a list of them, got {fmt!r}")
    if any("%z" in f or "%Z" in f for f in formats):
        raise DialectConfigError(
            f"{where}: timestamp_format {fmt!r} reads a UTC offset or zone name (%z/%Z), which is not supported; "
            "export naive timestamps and set timestamps_in to 'local' or 'utc'"
        )
    try:
        run_sql(con, "SELECT try_strptime('x', $f)", {"f": formats})
    except duckdb.Error as exc:
        raise DialectConfigError(f"{where}: timestamp_format {fmt!r} is not a valid strptime format: {exc}") from exc
    return formats


def check_options(options: dict[str, Any], known: Iterable[str], where: str) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DialectConfigError(f"{where}: unknown option(s) {unknown}; known options are {sorted(known)}")


def quality_map(raw: Any, default: dict[str, str], where: str, key_type: type = str) -> dict[Any, str]:
    if raw is None:
        return dict(default)
    if not isinstance(raw, dict):
        raise DialectConfigError(f"{where}: must be a mapping of source status to good/uncertain/bad, got {raw!r}")
    out: dict[Any, str] = {}
    for k, v in raw.items():
        if v not in QUALITIES:
            raise DialectConfigError(f"{where}: {k!r} maps to {v!r}; use one of {list(QUALITIES)}")
        try:
            out[key_type(k)] = v
        except (TypeError, ValueError) as exc:
            raise DialectConfigError(f"{where}: key {k!r} is not a {key_type.__name__}") from exc
    return out


def timestamps_in(options: dict[str, Any], where: str) -> str:
    value = options.get("timestamps_in", "local")
    if value not in ("local", "utc"):
        raise DialectConfigError(f"{where}: timestamps_in must be 'local' or 'utc', got {value!r}")
    return value
