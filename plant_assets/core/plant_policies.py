"""The policies of a plant's config: its energy baseline period, operating calendar, alerting and model
governance (plant_config.PlantConfig holds one of each; kept apart so that module stays about the plant)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaselinePeriod(Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "BaselinePeriod":
        if self.end < self.start:
            raise ValueError(f"baseline end {self.end} is before its start {self.start}")
        return self


class Alerting(Strict):
    # Alert when a day's kWh/unit exceeds the champion's expectation by more than this share.
    energy_tolerance: float = Field(default=0.10, gt=0, lt=1)
    # Alert when a line's observed scrap share over the last scrap_window_days exceeds the quality champion's
    # prediction by more than this share (0.5 = 50 % above) and by at least scrap_min_excess_points.
    scrap_tolerance: float = Field(default=0.5, gt=0)
    scrap_min_excess_points: float = Field(default=0.5, ge=0, description="percentage points of scrap share")
    scrap_window_days: int = Field(default=2, ge=1, le=14)
    # An open or acknowledged alert resolves itself once its condition has been clear this many days in a row.
    auto_resolve_days: int = Field(default=2, ge=1, le=30)


class ModelPolicy(Strict):
    # A version that passes validation becomes @champion without an approval (else @challenger).
    auto_promote: bool = False
    # A crossed retraining rule (drift, performance decay) trains a new @challenger (never a champion).
    retrain_on_drift: bool = False
    # Days of recent data the nightly drift check compares with the training window.
    drift_window_days: int = Field(default=14, ge=3, le=90)


class Shutdown(Strict):
    start: date
    end: date
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> "Shutdown":
        if self.end < self.start:
            raise ValueError(f"shutdown end {self.end} is before its start {self.start}")
        return self


class OperatingCalendar(Strict):
    """The plant's own non-working days (ISO 50006 relevant variable: a holiday draws idle load, not production
    load). Weekends need no entry: the hour (or day) of week is a calendar variable of its own."""

    holidays: list[date] = Field(default_factory=list)
    shutdowns: list[Shutdown] = Field(default_factory=list)

    @property
    def configured(self) -> bool:
        return bool(self.holidays or self.shutdowns)

    def non_working_days(self) -> frozenset[date]:
        days = set(self.holidays)
        for shutdown in self.shutdowns:
            days.update(shutdown.start + timedelta(days=k) for k in range((shutdown.end - shutdown.start).days + 1))
        return frozenset(days)
