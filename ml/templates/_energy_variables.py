"""Which grain and which relevant variables (ISO 50006) a plant's energy baseline uses, decided from its data.

Grain: hourly where a typical baseline day has metered energy in at least MIN_HOURS_PER_DAY of its hours,
else daily (a daily log, a daily meter reading), each with its acceptance limits (GRAINS).

Variables: the candidates are what the plant maps (candidate_groups: output, product mix, running time,
calendar, weather, each other continuous driver); forward selection by evidence keeps a group only when adding
it lowers the day-blocked out-of-fold CV(RMSE) of the plant's own baseline by at least MIN_GAIN_RELATIVE of the
current error and MIN_GAIN_POINTS points (SELECTION_RULE). The model that weighs the evidence is the template's
own (passed in as `fit_predict`), so a variable is judged by what the baseline can learn from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.metrics import cv_rmse
from ml.templates._energy_frame import DRIVER_PREFIX, family_column, line_column

MIN_HOURS_PER_DAY = 20
MIN_GAIN_RELATIVE, MIN_GAIN_POINTS = 0.03, 0.2
FOLDS, MIN_SELECTION_DAYS = 4, 8
OUTPUT_SIGNALS = frozenset({"production_count_total", "production_count_interval"})
SELECTION_RULE = (
    f"forward selection: a candidate group is added while it lowers the out-of-fold CV(RMSE) of the plant's baseline "
    f"({FOLDS} contiguous blocks of days, each predicted by a model fit on the others) by at least "
    f"{MIN_GAIN_RELATIVE:.0%} of the current error and {MIN_GAIN_POINTS} points; a group constant in the baseline "
    f"cannot show an effect and is dropped (a product family the plant declares is kept on the fleet's evidence)"
)


@dataclass(frozen=True)
class Grain:
    name: str
    exposure: str  # metered minutes: always an input, so a short row is not read as a low one
    calendar: tuple[str, ...]
    weather: tuple[str, ...]
    cv_rmse_max: float
    abs_nmbe_max: float
    limits: str


GRAINS = {
    "hourly": Grain("hourly", "interval_minutes", ("hour_of_week",), ("hdh", "cdh"), 0.30, 0.10,
                    "ASHRAE Guideline 14-2014, hourly data: CV(RMSE) <= 30 %, |NMBE| <= 10 %"),
    "daily": Grain("daily", "metered_minutes_of_day", ("day_of_week",), ("hdd", "cdd"), 0.25, 0.10,
                   "ASHRAE Guideline 14-2014 names hourly (30 % / 10 %) and monthly (15 % / 5 %) limits; a daily model "
                   "is held to CV(RMSE) <= 25 %, between the two, and |NMBE| <= 10 % (a bias does not shrink when "
                   "hours are summed to days)"),
}


def grain_of_features(features) -> str:
    """The grain a fitted model works at, from its exposure input (every model has exactly one)."""
    return next((g.name for g in GRAINS.values() if g.exposure in set(features)), "hourly")


def choose_grain(plant_hourly: pd.DataFrame) -> tuple[str, str]:
    """(grain, why) from the metered hours of the plant's baseline days."""
    metered = plant_hourly[plant_hourly["interval_minutes"] > 0]
    hours = metered.groupby("production_date")["hour_utc"].nunique()
    median = float(hours.median()) if len(hours) else 0.0
    if median >= MIN_HOURS_PER_DAY:
        return "hourly", f"a median baseline day has metered energy in {median:.0f} hours (>= {MIN_HOURS_PER_DAY})"
    return "daily", f"a median baseline day has metered energy in {median:.0f} hours (< {MIN_HOURS_PER_DAY}): one value a day"


def _has_data(rows: pd.DataFrame, column: str) -> bool:
    return column in rows.columns and rows[column].notna().any()


def candidate_groups(plant, rows: pd.DataFrame, grain: Grain) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The plant's candidate groups {group: columns} and the ones it cannot have {group: why}."""
    mapped = {m.signal for m in getattr(plant, "tag_map", ())}
    groups: dict[str, list[str]] = {}
    missing: dict[str, str] = {}
    counted = bool(mapped & OUTPUT_SIGNALS)
    if counted:
        groups["output"] = ["units_produced"]
        families = sorted({p.family for p in getattr(plant, "products", ())})
        if len(families) >= 2:
            groups["product_mix"] = [family_column(f) for f in families]
        else:
            missing["product_mix"] = f"{len(families)} product family in plant.yaml (a mix needs two)"
        groups["running_time"] = ["running_minutes"]
        lines = [line_column(line.id) for line in getattr(plant, "lines", ())]
        if len(lines) >= 2:
            groups["line_mix"] = lines
        else:
            missing["line_mix"] = "one line (a mix needs two)"
    else:
        missing["output"] = missing["product_mix"] = "no production counter in the tag map"
        if _has_data(rows, "running_minutes_by_state"):
            groups["running_time"] = ["running_minutes_by_state"]
        else:
            missing["running_time"] = "neither a production counter nor a machine state tag"
    calendar = getattr(plant, "calendar", None)
    groups["calendar"] = list(grain.calendar) + (["non_working_day"] if calendar is not None and calendar.configured else [])
    if _has_data(rows, DRIVER_PREFIX + "outdoor_temperature"):
        groups["weather"] = list(grain.weather)
    else:
        missing["weather"] = "outdoor_temperature not mapped"
    for column in sorted(c for c in rows.columns if c.startswith(DRIVER_PREFIX) and c != DRIVER_PREFIX + "outdoor_temperature"):
        if _has_data(rows, column):
            groups[f"driver:{column[len(DRIVER_PREFIX):]}"] = [column]
    return groups, missing


def is_constant(rows: pd.DataFrame, columns: list[str]) -> bool:
    return all(rows[c].dropna().nunique() <= 1 if c in rows.columns else True for c in columns)


def blocked_folds(days: list, folds: int = FOLDS) -> list[list]:
    """Contiguous blocks of days (so a fold is never predicted from its neighbouring hours)."""
    return [list(block) for block in np.array_split(np.array(sorted(days)), folds) if len(block)]


@dataclass
class Evidence:
    group: str
    columns: list[str]
    kept: bool
    gain_points: float | None  # out-of-fold CV(RMSE) points the group removed (kept) or would have (dropped)
    reason: str


def out_of_fold_cv(rows: pd.DataFrame, features: list[str], target: str, fit_predict: Callable, blocks: list[list]) -> float:
    predicted = pd.Series(np.nan, index=rows.index)
    for block in blocks:
        test = rows["production_date"].isin(block)
        predicted[test] = fit_predict(rows[~test], rows[test], features)
    return cv_rmse(rows[target], predicted, len(features))


def forward_select(
    rows: pd.DataFrame, groups: dict[str, list[str]], exposure: str, target: str, fit_predict: Callable,
) -> tuple[list[str], dict[str, Evidence], float]:
    """(kept columns in order, evidence per group, out-of-fold CV(RMSE) of the kept set)."""
    evidence: dict[str, Evidence] = {}
    open_groups = {}
    for group, columns in groups.items():
        if is_constant(rows, columns):
            evidence[group] = Evidence(group, columns, False, None, "constant in the baseline: no evidence of an effect")
        else:
            open_groups[group] = columns
    days = sorted(rows["production_date"].unique())
    if len(days) < MIN_SELECTION_DAYS:
        for group, columns in open_groups.items():
            evidence[group] = Evidence(group, columns, True, None, f"kept untested: {len(days)} baseline days < {MIN_SELECTION_DAYS}")
        return [exposure] + [c for cols in open_groups.values() for c in cols], evidence, float("nan")
    blocks = blocked_folds(days)
    kept = [exposure]
    current = out_of_fold_cv(rows, kept, target, fit_predict, blocks)
    while open_groups:
        scores = {g: out_of_fold_cv(rows, kept + cols, target, fit_predict, blocks) for g, cols in open_groups.items()}
        best = min(scores, key=scores.get)
        gain = current - scores[best]
        if gain < max(MIN_GAIN_RELATIVE * current, MIN_GAIN_POINTS / 100):
            for group, score in scores.items():
                evidence[group] = Evidence(group, open_groups[group], False, 100 * (current - score),
                                           f"lowered the out-of-fold CV(RMSE) by {100 * (current - score):.2f} points: below the rule")
            break
        evidence[best] = Evidence(best, open_groups[best], True, 100 * gain,
                                  f"lowered the out-of-fold CV(RMSE) from {100 * current:.1f} % to {100 * scores[best]:.1f} %")
        kept += open_groups.pop(best)
        current = scores[best]
    return kept, evidence, current
