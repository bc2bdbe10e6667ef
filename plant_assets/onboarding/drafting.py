"""Draft a tag map: match each export tag to a canonical signal, unit, line and asset, with a confidence.

Evidence, combined into one score per candidate signal:
  1. name tokens: the tag name split on separators, case changes and letter/digit boundaries, each token
     fuzzy-matched (rapidfuzz) against the signal's vocabulary (e.g. "VIB_RMS" -> vib, rms; "PowerMeter" ->
     power, meter);
  2. unit hints: a token that is a unit (kWh, MWh, Wh, in/s "ips", mm/s "mms", degF "_F", "_A" ...) names the
     quantity, and so the signal, and is the source unit;
  3. value statistics of the sample: a totalizer or counter never decreases except at a rollover, a counter
     is whole-numbered, temperatures and vibrations sit in their typical ranges.
Line and asset come from tokens like L1 / Line_2 / line3 and M1 / Motor2 / mot3 (asset "L1-M1").
Values also give an energy totalizer's unit when its name does not (the size of its increments: the unit that
makes the line's mean power most ordinary) and a counter's rollover (the smallest register size, 10^k or 2^k,
above the observed maximum whose wrap implies an increase like the ordinary ones; a drop no register size
explains is a reset or a bad reading, and no rollover is drafted).
The confidence is the winning score (0..1); the runner-up is reported so a reviewer sees close calls.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from plant_assets.core.catalog import load_signal_catalog
from plant_assets.onboarding.sample import TagStats

# Words that name each signal (lower case). Short abbreviations match exactly, longer ones fuzzily.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "energy_total": ("energy", "kwh", "mwh", "wh", "power", "meter", "powermeter", "em", "emeter", "tot", "total",
                     "totalizer", "active", "consumption", "verbrauch", "energie", "zaehlerstand"),
    "production_count_total": ("count", "counter", "cnt", "pcs", "pieces", "piece", "qty", "quantity", "units",
                               "output", "produced", "stueck", "zaehler", "bottles", "cans"),
    "motor_current": ("current", "amps", "amp", "cur", "curr", "strom", "irms", "phase"),
    "motor_vibration_velocity": ("vibration", "vib", "vibr", "velocity", "vel", "rms", "ips", "mms", "schwingung",
                                 "veloc"),
    "motor_bearing_temperature": ("temperature", "temp", "tmp", "bearing", "brg", "tbrg", "lager", "de", "degc",
                                  "degf", "celsius", "fahrenheit"),
}
# Unit tokens -> (signal, pint unit).
UNIT_TOKENS: dict[str, tuple[str, str]] = {
    "kwh": ("energy_total", "kWh"), "mwh": ("energy_total", "MWh"), "wh": ("energy_total", "Wh"),
    "gwh": ("energy_total", "GWh"),
    "pcs": ("production_count_total", "count"), "pieces": ("production_count_total", "count"),
    "a": ("motor_current", "A"), "amps": ("motor_current", "A"), "amp": ("motor_current", "A"),
    "ma": ("motor_current", "mA"),
    "ips": ("motor_vibration_velocity", "in/s"), "ins": ("motor_vibration_velocity", "in/s"),
    "mms": ("motor_vibration_velocity", "mm/s"),
    "f": ("motor_bearing_temperature", "degF"), "degf": ("motor_bearing_temperature", "degF"),
    "c": ("motor_bearing_temperature", "degC"), "degc": ("motor_bearing_temperature", "degC"),
}
_LINE = re.compile(r"^(?:l|line|ln|linie)0*(\d{1,3})$")
_MOTOR = re.compile(r"^(?:m|motor|mot|mtr|drive|antrieb)0*(\d{1,3})$")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass
class Suggestion:
    source_tag: str
    signal: str | None
    source_unit: str | None
    line_id: str | None
    asset_id: str | None
    rollover: float | None
    confidence: float
    runner_up: str | None = None
    reasons: list[str] = field(default_factory=list)

    def row(self) -> dict[str, object]:
        return {"source_tag": self.source_tag, "signal": self.signal or "", "source_unit": self.source_unit or "",
                "line_id": self.line_id or "", "asset_id": self.asset_id or "",
                "rollover": "" if self.rollover is None else f"{self.rollover:g}"}


def tokens(tag: str) -> list[str]:
    """Lower-case tokens of a tag name: separators, camelCase, then a unit-ish tail like "Vib_ips" or "in/s"."""
    text = tag.replace("in/s", "_ips_").replace("mm/s", "_mms_").replace("°F", "_degf_").replace("°C", "_degc_")
    out: list[str] = []
    for part in _SPLIT.split(text):
        if part.lower() in UNIT_TOKENS:  # "MWh" is one unit, not "M" + "Wh"
            out.append(part.lower())
            continue
        for piece in _CAMEL.split(part):
            if piece:
                out.append(piece.lower())
    return out


def _name_score(toks: list[str], signal: str) -> tuple[float, str | None]:
    best, why = 0.0, None
    for tok in toks:
        if tok.isdigit() or _LINE.match(tok) or _MOTOR.match(tok):
            continue
        alpha = re.sub(r"\d+$", "", tok)  # EM01 -> em, CNT01 -> cnt
        for word in VOCABULARY[signal]:
            if alpha == word:
                score = 1.0
            elif len(alpha) >= 4 and len(word) >= 4:
                score = fuzz.ratio(alpha, word) / 100
                score = score if score >= 0.75 else 0.0
            elif len(alpha) >= 3 and len(word) >= 5 and word.startswith(alpha):
                score = 0.8  # "temp" in "temperature", "vib" in "vibration"
            else:
                score = 0.0
            if score > best:
                best, why = score, f"token {tok!r} ~ {word!r}"
    return best, why


def _stats_score(signal: str, st: TagStats | None) -> tuple[float, str | None]:
    """-1..1: how well the sample's values fit the signal (0 when there is too little data)."""
    if st is None or st.n_good < 5 or st.mean is None:
        return 0.0, None
    kind = load_signal_catalog()[signal].kind
    monotonic = st.increasing_share >= 0.97
    if kind in ("totalizer", "counter"):
        if not monotonic:
            return -0.6, f"values go down in {1 - st.increasing_share:.0%} of steps: not a {kind}"
        if kind == "counter" and st.integer_share < 0.99:
            return -0.2, "fractional values: more likely a totalizer than a counter"
        if kind == "totalizer" and st.integer_share >= 0.99 and (st.max or 0) > 1000:
            return 0.1, "never decreases, whole numbers"
        return 0.5, f"never decreases ({st.drops} rollover/reset drop(s))"
    if monotonic and st.integer_share >= 0.99 and st.n_good > 20 and (st.max or 0) > 1000:
        return -0.5, "never decreases: looks like a counter, not a continuous signal"
    lo, hi, mean = st.min or 0.0, st.max or 0.0, st.mean
    if lo < 0 and signal != "motor_bearing_temperature":
        return -0.3, "negative values"
    return 0.1, None


def _unit_hint(toks: list[str]) -> tuple[str, str] | None:
    for tok in reversed(toks):
        if tok in UNIT_TOKENS:
            return UNIT_TOKENS[tok]
    return None


def _unit_for(signal: str, toks: list[str], st: TagStats | None) -> tuple[str, str]:
    hint = _unit_hint(toks)
    if hint and hint[0] == signal:
        return hint[1], f"unit token -> {hint[1]}"
    mean = st.mean if st and st.mean is not None else None
    if signal == "energy_total" and (inferred := energy_unit_from_values(st)):
        return inferred
    if signal == "motor_vibration_velocity" and mean is not None and mean < 0.4:
        return "in/s", f"mean {mean:.3g} is in/s-sized, not mm/s"
    if signal == "motor_bearing_temperature" and mean is not None and mean > 95:
        return "degF", f"mean {mean:.3g} is degF-sized"
    return load_signal_catalog()[signal].canonical_unit, "canonical unit (no hint)"


# An ordinary line draws about this much (kW): among Wh / kWh / MWh, the unit whose implied mean power is
# nearest to it on a log scale is drafted.
TYPICAL_LINE_KW = 200.0
ENERGY_UNITS_KWH = {"Wh": 0.001, "kWh": 1.0, "MWh": 1000.0}
# Register sizes a counter wraps at: decimal displays and binary registers (signed / unsigned 16 and 32 bit).
REGISTER_SIZES = sorted({10.0 ** k for k in range(2, 13)} | {2.0 ** k for k in (15, 16, 31, 32)})
# A wrap is plausible when the increase it implies is at most this many ordinary increments.
WRAP_INCREMENTS = 50


def energy_unit_from_values(st: TagStats | None) -> tuple[str, str] | None:
    """(unit, why) from a totalizer's mean rate (its rises over the time they took; a display's resolution
    makes single increments lumpy): increase per hour in each candidate unit -> mean kW."""
    if not st or not st.increase_per_s or st.increase_per_s <= 0:
        return None
    per_hour = st.increase_per_s * 3600
    unit = min(ENERGY_UNITS_KWH, key=lambda u: abs(math.log10(per_hour * ENERGY_UNITS_KWH[u] / TYPICAL_LINE_KW)))
    kw = per_hour * ENERGY_UNITS_KWH[unit]
    return unit, f"it rises {per_hour:.4g} an hour: {kw:.3g} kW in {unit}"


def rollover_from_values(st: TagStats | None) -> tuple[float | None, str | None]:
    """The register size the drops wrap at, from the observed maximum and the values around each drop."""
    if not st or not st.drops or not st.drop_pairs or st.max is None:
        return None, None
    ordinary = st.median_increase or 1.0
    for size in (r for r in REGISTER_SIZES if r > st.max):
        implied = [size - before + after for before, after in st.drop_pairs]
        if all(0 <= inc <= WRAP_INCREMENTS * ordinary for inc in implied):
            return size, (f"{st.drops} drop(s) from near {st.max:g} to near 0 wrap at {size:g} "
                          f"(implied increase {max(implied):.3g}, ordinary {ordinary:.3g})")
    return None, (f"{st.drops} drop(s) (e.g. {st.drop_pairs[0][0]:g} -> {st.drop_pairs[0][1]:g}) that no register "
                  "size explains: resets or bad readings, no rollover drafted")


def _line_motor(toks: list[str]) -> tuple[str | None, str | None]:
    line = motor = None
    for tok in toks:
        if line is None and (m := _LINE.match(tok)):
            line = f"L{int(m.group(1))}"
        elif motor is None and (m := _MOTOR.match(tok)):
            motor = f"M{int(m.group(1))}"
    return line, motor


def suggest(tag: str, st: TagStats | None = None) -> Suggestion:
    toks = tokens(tag)
    hint = _unit_hint(toks)
    scored: list[tuple[float, str, list[str]]] = []
    for signal in VOCABULARY:
        name, why_name = _name_score(toks, signal)
        unit = 1.0 if hint and hint[0] == signal else 0.0
        stats, why_stats = _stats_score(signal, st)
        score = 0.55 * name + 0.3 * unit + 0.25 * stats
        reasons = [w for w in (why_name, f"unit token {hint[1]}" if unit else None, why_stats) if w]
        scored.append((score, signal, reasons))
    scored.sort(key=lambda s: s[0], reverse=True)
    best, signal, reasons = scored[0]
    runner = scored[1]
    line, motor = _line_motor(toks)
    if best < 0.3:
        return Suggestion(tag, None, None, line, None, None, round(max(best, 0.0), 2), signal,
                          ["no convincing match: map by hand or leave out"])
    unit, why_unit = _unit_for(signal, toks, st)
    reasons.append(why_unit)
    level = load_signal_catalog()[signal].asset_level
    asset = line if level == "line" else (f"{line}-{motor}" if line and motor else None)
    rollover = None
    if signal in ("production_count_total", "energy_total"):
        rollover, why_rollover = rollover_from_values(st)
        if why_rollover:
            reasons.append(why_rollover)
    margin = best - max(runner[0], 0.0)
    confidence = max(0.0, min(1.0, 0.5 * min(best, 1.0) + 0.5 * min(margin / 0.5, 1.0)))
    if line is None or asset is None:
        confidence *= 0.7
        reasons.append("line or motor not found in the name")
    return Suggestion(tag, signal, unit, line, asset, rollover, round(confidence, 2), runner[1], reasons)


def draft_tag_map(tags: list[str], stats: dict[str, TagStats] | None = None) -> list[Suggestion]:
    """One suggestion per tag, in tag order."""
    stats = stats or {}
    return [suggest(tag, stats.get(tag)) for tag in sorted(tags)]
