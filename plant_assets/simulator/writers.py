"""Export writers: one function per historian dialect, plus the production-run and downtime event files.

Every file holds one plant-local production day: historian files the readings stamped in the local day
[00:00, 24:00), event files the events that start in it. File names come from the plant's
`file_pattern`s formatted with the local date. A historian pattern that does not name one day
(`history_{date:%Y}.csv`) writes the days sharing a name into one file: a history export. The formats
follow docs/contracts.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from plant_assets.core.plant_config import EventExport, PlantConfig
from plant_assets.simulator.clock import Clock, local_to_utc_ms
from plant_assets.simulator.profile import ExportProfile
from plant_assets.simulator.tags import TagSeries
from plant_assets.simulator.timefmt import STR, format_datetimes

# PI digital states a bad reading is replaced by (weights: I/O Timeout and Bad Input are the common ones).
PI_DIGITAL_STATES = ("I/O Timeout", "Bad Input", "No Data", "Shutdown", "Over Range", "Under Range",
                     "Pt Created", "Intf Shut", "Arc Off-line")  # fmt: skip
PI_DIGITAL_WEIGHTS = (0.35, 0.25, 0.15, 0.05, 0.05, 0.05, 0.03, 0.04, 0.03)
PI_DEFAULT_FORMAT = "%d-%b-%Y %H:%M:%S"
AVEVA_DEFAULT_FORMAT = "%Y-%m-%d %H:%M:%S.%g"
IGNITION_GOOD, IGNITION_BAD = 192, (0, 24)
IGNITION_COLUMNS = "tagid,intvalue,floatvalue,stringvalue,datevalue,dataintegrity,t_stamp"
IGNITION_TAG_COLUMNS = ["id", "tagpath", "scid", "datatype", "querymode", "created", "retired"]

RngFor = Callable[..., np.random.Generator]


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int  # data rows (without header)
    records: int  # readings: rows, or (row, tag) cells for wide files
    data: bool = True  # False for metadata such as Ignition's tag table


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")


def _csv_quote(text: str, delimiter: str = ",") -> str:
    if any(c in text for c in (delimiter, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _numbers(values: np.ndarray, decimals: int, integer: bool) -> np.ndarray:
    if integer:
        return values.astype(np.int64).astype(STR)
    return np.round(values, decimals).astype(STR)


def _local_or_utc(clock: Clock, minute: np.ndarray, offset_ms: np.ndarray, timestamps_in: str) -> np.ndarray:
    if timestamps_in == "utc":
        base = (clock.utc_ms[minute] + offset_ms).astype("datetime64[ms]")
    else:
        base = clock.local[minute] + offset_ms.astype("timedelta64[ms]")
    return base


def _join_rows(header: str, columns: list[np.ndarray], delimiter: str = ",") -> str:
    """CSV text from equally long string columns (already quoted where needed)."""
    row = columns[0]
    for column in columns[1:]:
        row = row + delimiter + column
    if not len(row):
        return header + "\n"
    return header + "\n" + "\n".join(row.tolist()) + "\n"


def _day_files(clock: Clock, pattern: str, out_dir: Path) -> list[tuple[int, int, Path]]:
    """(first day, last day, path) of each export file: one per day for a daily pattern; days sharing a name
    (a monthly or yearly pattern, or none: `history.csv`) share one file, written once (a history export)."""
    files: list[tuple[int, int, Path]] = []
    for d in range(clock.days):
        path = out_dir / pattern.format(date=clock.date_of(d))
        if files and files[-1][2] == path:
            files[-1] = (files[-1][0], d, path)
        else:
            files.append((d, d, path))
    return files


def _day_bounds(days_sorted: np.ndarray, d: int) -> tuple[int, int]:
    return int(np.searchsorted(days_sorted, d, "left")), int(np.searchsorted(days_sorted, d, "right"))


def write_pi_recorded(
    plant: PlantConfig, clock: Clock, series: list[TagSeries], export: ExportProfile, rng_for: RngFor, out_dir: Path
) -> list[Written]:
    """PI DataLink recorded values: Tag,Timestamp,Value,Status; bad readings become digital states."""
    fmt = plant.historian.options.get("timestamp_format", PI_DEFAULT_FORMAT)
    timestamps_in = plant.historian.options.get("timestamps_in", "local")
    states = np.array(PI_DIGITAL_STATES, dtype=STR)
    weights = np.array(PI_DIGITAL_WEIGHTS) / sum(PI_DIGITAL_WEIGHTS)
    parts: dict[str, list[np.ndarray]] = {"day": [], "tag": [], "ts": [], "value": [], "status": []}
    for s in series:
        rng = rng_for("quality", s.tag)
        m = len(s.minute)
        u = rng.random(m)
        bad = u < export.bad_share
        questionable = (u >= export.bad_share) & (u < export.bad_share + export.uncertain_share)
        value = _numbers(s.values, s.decimals, s.integer)
        value[bad] = states[rng.choice(len(states), size=int(bad.sum()), p=weights)]
        status = np.full(m, "Good", dtype=STR)
        status[bad] = "Bad"
        status[questionable] = "Questionable"
        parts["day"].append(clock.day[s.minute])
        parts["tag"].append(np.full(m, _csv_quote(s.tag), dtype=STR))
        stamps = _local_or_utc(clock, s.minute, s.offset_ms, timestamps_in)
        text = format_datetimes(stamps, fmt)
        if export.zone_marks and timestamps_in == "local":
            text = _mark_repeated_hour(text, stamps, clock.utc_ms[s.minute] + s.offset_ms, clock)
        parts["ts"].append(text)
        parts["value"].append(value)
        parts["status"].append(status)
    day = np.concatenate(parts["day"])
    order = np.argsort(day, kind="stable")  # per day: tag by tag (tag_map order), each in time order
    day = day[order]
    cols = [np.concatenate(parts[k])[order] for k in ("tag", "ts", "value", "status")]
    written = []
    for d0, d1, path in _day_files(clock, plant.historian.file_pattern, out_dir):
        lo, hi = _day_bounds(day, d0)[0], _day_bounds(day, d1)[1]
        rows: slice | np.ndarray = slice(lo, hi)
        if export.unsorted_rows:
            rows = rng_for("row_order", str(d0)).permutation(np.arange(lo, hi))
        write_text(path, _join_rows("Tag,Timestamp,Value,Status", [c[rows] for c in cols]))
        written.append(Written(path, hi - lo, hi - lo))
    return written


def _mark_repeated_hour(text: np.ndarray, local: np.ndarray, utc_ms: np.ndarray, clock: Clock) -> np.ndarray:
    """Stamps whose local wall time occurs twice (a fall-back hour) get ' ' + the zone's abbreviation then."""
    wall = pd.DatetimeIndex(local.astype("datetime64[ns]"))
    repeated = np.asarray(wall.tz_localize(clock.tz, ambiguous="NaT", nonexistent="NaT").isna())
    if not repeated.any():
        return text
    zone = pd.to_datetime(utc_ms[repeated], unit="ms", utc=True).tz_convert(clock.tz).strftime(" %Z")
    out = text.copy()
    out[repeated] = out[repeated] + np.asarray(zone, dtype=STR)
    return out


def write_aveva_wide(
    plant: PlantConfig, clock: Clock, series: list[TagSeries], export: ExportProfile, rng_for: RngFor, out_dir: Path
) -> list[Written]:
    """AVEVA Historian WideHistory: DateTime plus one column per tag, one row per minute; empty = no value."""
    fmt = plant.historian.options.get("timestamp_format", AVEVA_DEFAULT_FORMAT)
    timestamps_in = plant.historian.options.get("timestamps_in", "local")
    minutes = np.arange(clock.n, dtype=np.int64)
    stamp = format_datetimes(_local_or_utc(clock, minutes, np.zeros(clock.n, dtype=np.int64), timestamps_in), fmt)
    columns = [stamp]
    for s in series:
        if len(s.minute) != clock.n:
            raise ValueError(f"aveva_wide needs every tag sampled every minute ({s.tag})")
        value = _numbers(s.values, s.decimals, s.integer)
        value[rng_for("quality", s.tag).random(clock.n) < export.bad_share] = ""
        columns.append(value)
    header = ",".join(["DateTime", *(_csv_quote(s.tag) for s in series)])
    written = []
    for d0, d1, path in _day_files(clock, plant.historian.file_pattern, out_dir):
        day = slice(clock.day_slice(d0).start, clock.day_slice(d1).stop)
        rows = day.stop - day.start
        write_text(path, _join_rows(header, [c[day] for c in columns]))
        written.append(Written(path, rows, rows * len(series)))
    return written


def write_ignition_sqlt(
    plant: PlantConfig, clock: Clock, series: list[TagSeries], export: ExportProfile, rng_for: RngFor, out_dir: Path
) -> list[Written]:
    """Ignition tag historian: the tag table sqlth_te plus daily sqlt_data partitions (epoch ms UTC)."""
    created = local_to_utc_ms(min(clock.start, plant.energy_baseline.start) - timedelta(days=90), clock.tz)
    tag_table = pd.DataFrame(
        {
            "id": range(1, len(series) + 1),
            "tagpath": [s.tag for s in series],
            "scid": 1,
            "datatype": [0 if s.integer else 1 for s in series],
            "querymode": 3,
            "created": created,
            "retired": "",
        },
        columns=IGNITION_TAG_COLUMNS,
    )
    table_path = out_dir / plant.historian.options.get("tag_table", "sqlth_te.csv")
    write_text(table_path, tag_table.to_csv(index=False, lineterminator="\n"))
    written = [Written(table_path, len(tag_table), 0, data=False)]

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("day", "t", "id", "int", "float", "quality")}
    for tag_id, s in enumerate(series, start=1):
        m = len(s.minute)
        rng = rng_for("quality", s.tag)
        quality = np.full(m, IGNITION_GOOD, dtype=np.int64)
        bad = rng.random(m) < export.bad_share
        quality[bad] = rng.choice(IGNITION_BAD, size=int(bad.sum()))
        value = _numbers(s.values, s.decimals, s.integer)
        empty = np.full(m, "", dtype=STR)
        parts["day"].append(clock.day[s.minute])
        parts["t"].append(clock.utc_ms[s.minute] + s.offset_ms)
        parts["id"].append(np.full(m, tag_id, dtype=np.int64))
        parts["int"].append(value if s.integer else empty)
        parts["float"].append(empty if s.integer else value)
        parts["quality"].append(quality)
    t = np.concatenate(parts["t"])
    ids = np.concatenate(parts["id"])
    order = np.lexsort((ids, t))
    day = np.concatenate(parts["day"])[order]
    t, ids = t[order], ids[order]
    int_col = np.concatenate(parts["int"])[order]
    float_col = np.concatenate(parts["float"])[order]
    quality_col = np.concatenate(parts["quality"])[order].astype(STR)
    empty = np.full(len(t), "", dtype=STR)
    cols = [ids.astype(STR), int_col, float_col, empty, empty, quality_col, t.astype(STR)]
    for d0, d1, path in _day_files(clock, plant.historian.file_pattern, out_dir):
        lo, hi = _day_bounds(day, d0)[0], _day_bounds(day, d1)[1]
        write_text(path, _join_rows(IGNITION_COLUMNS, [c[lo:hi] for c in cols]))
        written.append(Written(path, hi - lo, hi - lo))
    return written


HISTORIAN_WRITERS = {
    "pi_recorded": (write_pi_recorded, "exception"),
    "aveva_wide": (write_aveva_wide, "cyclic"),
    "ignition_sqlt": (write_ignition_sqlt, "exception"),
}


def category_labels(export: EventExport) -> dict[str, str]:
    """Canonical category -> the plant's own label (the first key of category_map mapping to it)."""
    labels = {"planned": "planned", "unplanned": "unplanned"}
    for label, canonical in reversed(list(export.category_map.items())):
        labels[canonical] = label
    return labels


def _event_times(clock: Clock, ms: np.ndarray, export: EventExport) -> np.ndarray:
    ms = np.asarray(ms, dtype=np.int64)
    if export.timestamps_in == "utc":
        naive = ms.astype("datetime64[ms]")
    else:
        index = pd.to_datetime(ms, unit="ms", utc=True).tz_convert(clock.tz).tz_localize(None)
        naive = index.to_numpy().astype("datetime64[ms]")
    return format_datetimes(naive, export.timestamp_format)


def write_events(
    clock: Clock, export: EventExport, events: pd.DataFrame, canonical_columns: tuple[str, ...], out_dir: Path
) -> list[Written]:
    """One file per local day (days sharing a file name share a file) with the events starting in it; `events`
    has canonical column names, `start_ms` / `end_ms` (epoch ms UTC) and `day` (local start day index)."""
    frame = pd.DataFrame(index=events.index)
    for canonical in export.columns:
        if canonical not in canonical_columns:
            continue
        local = export.columns[canonical]
        if canonical in ("start", "end"):
            frame[local] = _event_times(clock, events[f"{canonical}_ms"].to_numpy(), export).astype(object)
        else:
            frame[local] = events[canonical].to_numpy()
    if frame.columns.empty:
        raise ValueError("event export maps none of the simulator's columns")
    written = []
    day = events["day"].to_numpy()
    for d0, d1, path in _day_files(clock, export.file_pattern, out_dir):
        part = frame[(day >= d0) & (day <= d1)]
        write_text(path, part.to_csv(index=False, sep=export.delimiter, lineterminator="\n"))
        written.append(Written(path, len(part), len(part)))
    return written
