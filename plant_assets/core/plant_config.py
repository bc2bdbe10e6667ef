"""Plant configuration: `plants/<id>/plant.yaml` plus `plants/<id>/tag_map.csv`, validated with pydantic.

A plant is configuration only. Everything plant-specific (time zone, historian dialect, file naming,
tag names, units, products, owners) lives in its folder; no Python is specific to a plant.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from plant_assets.core.catalog import CanonicalSignal, load_signal_catalog
from plant_assets.core.machine_states import MachineStates
from plant_assets.core.plant_policies import Alerting, BaselinePeriod, ModelPolicy, OperatingCalendar
from plant_assets.core.products import Product
from plant_assets.core.units import conversion_to

# libyaml's parser when PyYAML has it: a 500-tag plant.yaml loads in ~5 ms instead of ~35 ms, and every
# Dagster step that touches a plant loads its config
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Safe in Dagster partition keys (no "| , [ ]"), in paths and in SQL identifiers.
ID_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
ID_RULE = "a lower case letter, then 1 to 31 lower case letters, digits or underscores"
ASSET_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
OWNER_ROLES = ("operations", "maintenance", "energy", "central_data_team")


class PlantConfigError(ValueError):
    """A plant folder that cannot be used, with every problem named."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_file_pattern(pattern: str | None) -> str | None:
    """A bare file name, optionally with `{date:...}` fields; a name without any date (`export.csv`) is valid."""
    if pattern is None:
        return None
    if "/" in pattern or "\\" in pattern or ".." in pattern:
        raise ValueError(f"file pattern {pattern!r} must be a bare file name (no folders, no '..')")
    try:
        pattern.format(date=date(2026, 1, 2))
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"file pattern {pattern!r} is not a valid '{{date:%Y%m%d}}' template: {exc}")
    return pattern


def _dialects() -> dict[str, Any]:
    """The historian dialect registry: name -> module (plant_assets.ingest.dialects, one module per dialect).

    The one place core reaches up into ingest, and only when a config is validated: importing core does not
    import ingest (its parsers import core's units and catalog).
    """
    from plant_assets.ingest.dialects import DIALECTS

    return DIALECTS


class HistorianExport(_Strict):
    dialect: str
    # The plant's export files: one per plant-local production day, e.g. "PI_RecordedValues_{date:%Y%m%d}.csv",
    # or files of any span when the name does not pin a day ("site_meter_{date:%Y}.csv", "export.csv", "*.csv"):
    # those are read once and split into plant-days (plant_assets/ingest/staging.py).
    file_pattern: str
    # More files of any span next to daily ones, e.g. the first history export before the nightly files.
    history_pattern: str | None = None
    # Dialect-specific knobs (delimiter, timestamp format, quality map, tag table ...).
    options: dict[str, Any] = Field(default_factory=dict)
    # Files still being written are not read: a file modified less than this many seconds ago is skipped ...
    stable_after_seconds: float = Field(default=0, ge=0, le=86400)
    # ... and, when set, a file is read only once its completion marker exists, e.g. "{name}.done"
    # ({name} = the export file's name; a bare file name next to it).
    completion_marker: str | None = None

    _pattern = field_validator("file_pattern", "history_pattern")(_check_file_pattern)

    @field_validator("completion_marker")
    @classmethod
    def _bare_marker(cls, marker: str | None) -> str | None:
        if marker is None:
            return None
        if "{name}" not in marker or "/" in marker or "\\" in marker or ".." in marker:
            raise ValueError(f"completion_marker {marker!r} must be a bare file name containing '{{name}}', "
                             "e.g. '{name}.done'")
        return marker

    # The dialect and its option names are checked against the dialect registry (_dialects()); option values
    # are checked by the dialect before any file is read.
    @model_validator(mode="after")
    def _dialect_options(self) -> "HistorianExport":
        dialect = _dialects().get(self.dialect)
        if dialect is None:  # an unknown dialect, reported by _known_dialect
            return self
        unknown = sorted(set(self.options) - set(dialect.OPTIONS))
        if unknown:
            raise ValueError(f"unknown {self.dialect} option(s) {unknown}; known: {sorted(dialect.OPTIONS)}")
        return self

    @field_validator("dialect")
    @classmethod
    def _known_dialect(cls, dialect: str) -> str:
        dialects = _dialects()
        if dialect not in dialects:
            raise ValueError(f"unknown historian dialect {dialect!r}; known: {list(dialects)}")
        return dialect


class EventExport(_Strict):
    """A CSV of plant events (production runs or downtime) with plant-local column names."""

    file_pattern: str
    delimiter: str = ","
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    timestamps_in: Literal["local", "utc"] = "local"
    columns: dict[str, str]
    # Local category label -> canonical "planned" / "unplanned" (downtime only).
    category_map: dict[str, Literal["planned", "unplanned"]] = Field(default_factory=dict)

    _pattern = field_validator("file_pattern")(_check_file_pattern)


RUN_COLUMNS = ("order_id", "line_id", "product_code", "start", "end", "good_qty", "scrap_qty")
DOWNTIME_COLUMNS = ("line_id", "start", "end", "reason", "category")
# Lab results: these columns are required; order_id and unit are optional (no unit column: the value is in
# the spec's unit).
LAB_COLUMNS = ("sample_id", "line_id", "product_code", "characteristic", "value", "sampled_at")
LAB_OPTIONAL_COLUMNS = ("order_id", "unit")
CHARACTERISTIC_PATTERN = r"^[a-z][a-z0-9_]{1,47}$"


class LabExport(_Strict):
    """A CSV of lab / quality-inspection results, one row per (sample, characteristic), plant-local columns."""

    file_pattern: str
    delimiter: str = ","
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    timestamps_in: Literal["local", "utc"] = "local"
    # Decimal separator of the value column (',' in many European lab systems).
    decimal: Literal[".", ","] = "."
    columns: dict[str, str]
    # The lab's own characteristic label -> the characteristic named in quality_specs (a label not in the
    # map is taken as it is).
    characteristic_map: dict[str, str] = Field(default_factory=dict)

    _pattern = field_validator("file_pattern")(_check_file_pattern)

    @field_validator("columns")
    @classmethod
    def _lab_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        missing = [c for c in LAB_COLUMNS if c not in columns]
        unknown = sorted(set(columns) - set(LAB_COLUMNS) - set(LAB_OPTIONAL_COLUMNS))
        if missing:
            raise ValueError(f"columns lacks {missing} (optional: {list(LAB_OPTIONAL_COLUMNS)})")
        if unknown:
            raise ValueError(f"unknown column key(s) {unknown}; known: {[*LAB_COLUMNS, *LAB_OPTIONAL_COLUMNS]}")
        return columns

    @model_validator(mode="after")
    def _decimal_not_delimiter(self) -> "LabExport":
        if self.decimal == self.delimiter:
            raise ValueError(f"decimal separator {self.decimal!r} cannot also be the delimiter")
        return self


class QualitySpec(_Strict):
    """Spec limits of one product's characteristic: LSL <= target <= USL in `unit` (any pint unit)."""

    product: str
    characteristic: str = Field(pattern=CHARACTERISTIC_PATTERN)
    unit: str
    lsl: float
    target: float
    usl: float

    @model_validator(mode="after")
    def _ordered(self) -> "QualitySpec":
        if not self.lsl <= self.target <= self.usl or self.lsl == self.usl:
            raise ValueError(f"spec limits must satisfy lsl <= target <= usl with lsl < usl, got "
                             f"{self.lsl} / {self.target} / {self.usl}")
        try:
            conversion_to(self.unit, self.unit)
        except ValueError:
            raise ValueError(f"unit {self.unit!r} is not a unit pint knows (e.g. 'ml', 'mm', 'mg')")
        return self


class Motor(_Strict):
    id: str = Field(pattern=ASSET_ID_PATTERN)
    name: str
    machine_class: str = "iso20816_group2_rigid"
    rated_kw: float | None = None


class Line(_Strict):
    id: str = Field(pattern=ASSET_ID_PATTERN)
    name: str
    motors: list[Motor] = Field(default_factory=list)
    # The most the line can physically draw and make; gates and counter checks treat more as impossible.
    rated_kw: float | None = Field(default=None, gt=0)
    max_units_per_hour: float | None = Field(default=None, gt=0)


class Isa95(_Strict):
    enterprise: str
    site: str
    area: str


class TagMapping(_Strict):
    source_tag: str = Field(min_length=1, max_length=200)
    signal: str
    source_unit: str
    line_id: str
    asset_id: str
    rollover: float | None = Field(default=None, gt=0)
    # Signal forms (docs/contracts.md): an interval signal's reading covers [ts, ts + interval_min); a power
    # signal is integrated over gaps up to interval_min (default 15); running_above makes a continuous tag
    # (current, power, load) its line's state: running above it (canonical unit), idle at or below.
    interval_min: float | None = Field(default=None, gt=0, le=1440)
    running_above: float | None = None


class PlantConfig(_Strict):
    plant_id: str = Field(pattern=ID_PATTERN)
    name: str
    isa95: Isa95
    timezone: str
    owners: dict[str, str]
    historian: HistorianExport
    # MES exports are optional: a historian-only plant has neither (its KPIs that need them are absent, and
    # its running / idle / down minutes come from a machine state tag, readiness says which KPIs it has).
    production_runs: EventExport | None = None
    downtime_events: EventExport | None = None
    # Optional: a plant without a lab export has no quality-deviation KPIs (readiness says so).
    lab_results: LabExport | None = None
    # Per product and characteristic spec limits the lab results are judged against.
    quality_specs: list[QualitySpec] = Field(default_factory=list)
    lines: list[Line] = Field(min_length=1)
    products: list[Product] = Field(default_factory=list)
    # Enumerated machine state (signal machine_state): each code or text state -> running, idle or down.
    machine_states: MachineStates = Field(default_factory=dict)
    energy_baseline: BaselinePeriod
    # Holidays and shutdown days: a calendar variable of the energy baseline (non-working days) when given.
    calendar: OperatingCalendar = OperatingCalendar()
    # The first production day of the plant's exports: day partitions start at the earliest plant's
    # (plant_assets/defs/partitions.py), so its history can be backfilled. None: the platform's default start.
    history_start: date | None = None
    alerting: Alerting = Alerting()
    models: ModelPolicy = ModelPolicy()
    landing_dir: str | None = None
    # Where new and escalated alerts are posted as JSON (plant_assets/operations/alerts/store.py); none: they stay queued.
    webhook_url: str | None = None
    # Local tuning of the last mile: {suite: {threshold: value}} over the defaults in expectations/.
    quality_gates: dict[str, dict[str, float]] = Field(default_factory=dict)
    # Only demo plants carry this: the simulator's physics and injected faults.
    simulation: dict[str, Any] | None = None

    tag_map: tuple[TagMapping, ...] = ()
    folder: Path | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, tz: str) -> str:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {tz!r} (e.g. 'Europe/Berlin')")
        return tz

    @field_validator("owners")
    @classmethod
    def _known_roles(cls, owners: dict[str, str]) -> dict[str, str]:
        unknown = set(owners) - set(OWNER_ROLES)
        if unknown:
            raise ValueError(f"unknown owner roles {sorted(unknown)}; use {list(OWNER_ROLES)}")
        return owners

    @model_validator(mode="after")
    def _event_columns(self) -> "PlantConfig":
        for name, export, needed in (
            ("production_runs", self.production_runs, RUN_COLUMNS),
            ("downtime_events", self.downtime_events, DOWNTIME_COLUMNS),
        ):
            if export is None:
                continue
            missing = [c for c in needed if c not in export.columns]
            if missing:
                raise ValueError(f"{name}.columns lacks {missing}")
        for name in ("production_runs", "lab_results"):
            if getattr(self, name) is not None and not self.products:
                raise ValueError(f"{name} name products: declare them under products")
        return self

    @model_validator(mode="after")
    def _quality_specs(self) -> "PlantConfig":
        codes = {p.code for p in self.products}
        seen: set[tuple[str, str]] = set()
        for i, spec in enumerate(self.quality_specs):
            if spec.product not in codes:
                raise ValueError(f"quality_specs[{i}]: product {spec.product!r} is not in products {sorted(codes)}")
            if (spec.product, spec.characteristic) in seen:
                raise ValueError(f"quality_specs[{i}]: {spec.product} / {spec.characteristic} is specified twice")
            seen.add((spec.product, spec.characteristic))
        known = {s.characteristic for s in self.quality_specs}
        if self.lab_results is not None:
            unknown = sorted(set(self.lab_results.characteristic_map.values()) - known)
            if unknown:
                raise ValueError(f"lab_results.characteristic_map maps onto {unknown}, which quality_specs "
                                 f"does not specify (specified: {sorted(known)})")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def motors(self) -> list[tuple[Line, Motor]]:
        return [(line, motor) for line in self.lines for motor in line.motors]

    def day_window_utc(self, day: date) -> tuple[datetime, datetime]:
        """The plant-local production day [00:00, next 00:00) as naive UTC instants (DST-aware)."""
        start = datetime.combine(day, time(0), tzinfo=self.tz)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        return (
            start.astimezone(timezone.utc).replace(tzinfo=None),
            end.astimezone(timezone.utc).replace(tzinfo=None),
        )

    def isa95_path(self, *levels: str) -> str:
        parts = [self.isa95.enterprise, self.isa95.site, self.isa95.area, *levels]
        return "/".join(parts)

    def landing_path(self, landing_root: Path) -> Path:
        if self.landing_dir:
            path = Path(self.landing_dir)
            return path if path.is_absolute() else (landing_root / path)
        return landing_root / self.plant_id

    def owner_for(self, role: str) -> str:
        return self.owners.get(role, self.owners.get("operations", "unassigned"))


def _read_tag_map(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = []
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            row = {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
            for optional in ("rollover", "interval_min", "running_above"):
                row[optional] = row.get(optional) or None
            row["_line"] = line_no
            rows.append(row)
        return rows


def _validate_tag_map(
    plant: PlantConfig, rows: list[dict[str, Any]], catalog: dict[str, CanonicalSignal], path: Path
) -> tuple[list[TagMapping], list[str]]:
    errors: list[str] = []
    mappings: list[TagMapping] = []
    assets = {line.id: {line.id} | {m.id for m in line.motors} for line in plant.lines}
    seen: set[str] = set()
    for row in rows:
        where = f"{path}:{row.pop('_line')}"
        try:
            mapping = TagMapping(**row)
        except ValidationError as exc:
            errors.extend(f"{where}: {e['loc'][0] if e['loc'] else ''} {e['msg']}" for e in exc.errors())
            continue
        if mapping.source_tag in seen:
            errors.append(f"{where}: tag {mapping.source_tag!r} is mapped twice")
        seen.add(mapping.source_tag)
        signal = catalog.get(mapping.signal)
        if signal is None:
            errors.append(f"{where}: unknown canonical signal {mapping.signal!r}; known: {sorted(catalog)}")
            continue
        if mapping.line_id not in assets:
            errors.append(f"{where}: line {mapping.line_id!r} is not declared in plant.yaml lines")
        elif mapping.asset_id not in assets[mapping.line_id]:
            errors.append(f"{where}: asset {mapping.asset_id!r} is not line {mapping.line_id!r} or one of its motors")
        try:
            conversion_to(mapping.source_unit, signal.canonical_unit)
        except ValueError as exc:
            errors.append(f"{where}: {exc}")
        errors.extend(f"{where}: {e}" for e in _form_errors(plant, mapping, signal))
        mappings.append(mapping)
    return mappings, errors


def _form_errors(plant: PlantConfig, mapping: TagMapping, signal: CanonicalSignal) -> list[str]:
    """The signal-form columns that do not fit the signal (interval_min, running_above, machine_states)."""
    errors = []
    integrated = signal.kind == "interval" or (signal.form_of and signal.kind == "continuous")
    if mapping.interval_min is not None and not integrated:
        errors.append(f"interval_min applies to interval and power signals, not {mapping.signal!r}")
    if mapping.running_above is not None and signal.kind != "continuous":
        errors.append(f"running_above needs a continuous signal (current, power, load), not {signal.kind} {mapping.signal!r}")
    if mapping.signal == "machine_state" and not plant.machine_states:
        errors.append("a machine_state tag needs plant.yaml machine_states (code or text -> running / idle / down)")
    return errors


def load_plant(folder: Path) -> PlantConfig:
    """Load and validate one plant folder; raise PlantConfigError naming file, line and reason."""
    plant_yaml, tag_csv = folder / "plant.yaml", folder / "tag_map.csv"
    for required in (plant_yaml, tag_csv):
        if not required.is_file():
            raise PlantConfigError(f"{required}: missing (a plant folder needs plant.yaml and tag_map.csv)")
    try:
        raw = yaml.load(plant_yaml.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise PlantConfigError(f"{plant_yaml}: not valid YAML: {exc}") from exc
    try:
        plant = PlantConfig(**raw, folder=folder)
    except ValidationError as exc:
        problems = "\n".join(
            f"  - {plant_yaml}: {'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()
        )
        raise PlantConfigError(f"{plant_yaml} is not a valid plant config:\n{problems}") from exc
    if plant.plant_id != folder.name:
        raise PlantConfigError(f"{plant_yaml}: plant_id {plant.plant_id!r} must equal its folder name {folder.name!r}")
    mappings, errors = _validate_tag_map(plant, _read_tag_map(tag_csv), load_signal_catalog(), tag_csv)
    if errors:
        raise PlantConfigError(f"{tag_csv} has {len(errors)} problem(s):\n" + "\n".join(f"  - {e}" for e in errors))
    return plant.model_copy(update={"tag_map": tuple(mappings)})


def plant_id_problem(plant_id: str) -> str | None:
    """Why `plant_id` cannot name a plant (nor its folder under plants/), or None. Checked before any path is
    built from it, so `../elsewhere` never reaches the file system."""
    if re.fullmatch(ID_PATTERN, plant_id):
        return None
    return f"{plant_id!r} is not a plant id: ids match {ID_PATTERN} ({ID_RULE})"


def plant_folder(plants_dir: Path, plant_id: str) -> Path:
    """plants_dir / plant_id for a valid id; a PlantConfigError otherwise."""
    problem = plant_id_problem(plant_id)
    if problem:
        raise PlantConfigError(problem)
    return Path(plants_dir) / plant_id


def plant_folders(plants_dir: Path) -> list[Path]:
    """The folders of plants_dir named by a valid plant id."""
    if not plants_dir.is_dir():
        return []
    return sorted(p for p in plants_dir.iterdir() if p.is_dir() and plant_id_problem(p.name) is None)


def misnamed_plant_folders(plants_dir: Path) -> dict[str, str]:
    """Folders of plants_dir whose name is no plant id (e.g. `Plant-A`, `plänt_ü`) -> why: reported, not
    silently skipped. Hidden folders (`.git`) are not plants."""
    if not plants_dir.is_dir():
        return {}
    return {
        p.name: f"{p}: folder not read as a plant: {plant_id_problem(p.name)}; rename it (and its plant_id)"
        for p in sorted(plants_dir.iterdir())
        if p.is_dir() and not p.name.startswith(".") and plant_id_problem(p.name)
    }


def load_plants(plants_dir: Path) -> dict[str, PlantConfig]:
    """All valid plants. Raises on the first invalid one; use `validate_plants` to collect problems."""
    return {folder.name: load_plant(folder) for folder in plant_folders(plants_dir)}


def validate_plants(plants_dir: Path) -> tuple[dict[str, PlantConfig], dict[str, str]]:
    """Valid plants and, separately, the error text for each invalid one (a misnamed folder included): one bad
    plant never hides others."""
    good: dict[str, PlantConfig] = {}
    bad: dict[str, str] = misnamed_plant_folders(plants_dir)
    for folder in plant_folders(plants_dir):
        try:
            good[folder.name] = load_plant(folder)
        except PlantConfigError as exc:
            bad[folder.name] = str(exc)
    return good, bad
