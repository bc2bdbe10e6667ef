"""The energy baseline's model card: what a reviewer reads in a minute, decision and evidence first."""

from __future__ import annotations

import math


def _pct(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f} %"


def _comparison(metrics: dict, grain: str, prefix: str = "") -> list[str]:
    rows = []
    for variant, label in (("naive", "naive: baseline mean of the same hour (day) of week"),
                           ("template", "template only (the fleet, before this plant)"),
                           ("local", "from scratch on this plant"), ("calibrated", "**calibrated (this version)**")):
        cv, bias = metrics.get(f"{variant}_{prefix}cv_rmse_{grain}"), metrics.get(f"{variant}_{prefix}nmbe_{grain}")
        if cv is None:
            continue
        verdict = "meets" if metrics.get(f"{variant}_{prefix}meets_ashrae_g14") else "fails"
        rows.append(f"| {label} | {_pct(cv)} | {_pct(bias)} | {verdict} |")
    return rows


def model_card(plant_id: str, spec, design, metrics: dict, window: tuple[str, str], grain, decision: str) -> str:
    """Markdown: decision, verdict at the grain, variables kept / dropped and why, calibration's gain, the
    training window and data gates, the plots, and what triggers retraining."""
    cv = metrics.get(f"calibrated_cv_rmse_{grain.name}")
    bias = metrics.get(f"calibrated_nmbe_{grain.name}")
    verdict = "meets" if metrics.get("calibrated_meets_ashrae_g14") else "does not meet"
    kept = [e for e in design.evidence.values() if e.kept]
    dropped = [e for e in design.evidence.values() if not e.kept]
    little = _comparison(metrics, grain.name, "14d_")
    lines = [
        f"# Energy baseline of {plant_id}",
        "",
        f"**Decision**: {decision}",
        "",
        f"**Verdict**: {verdict} its acceptance limits at **{grain.name}** grain: CV(RMSE) {_pct(cv)}, NMBE {_pct(bias)} on the "
        f"time-based holdout (last 25 % of the baseline days). Limits: {grain.limits}.",
        "",
        f"**Grain**: {grain.name}, because {design.grain_why}.",
        "",
        "## Relevant variables (ISO 50006), chosen by evidence",
        f"Rule: {spec.selection}.",
        "",
        "| kept | variables | evidence |",
        "|---|---|---|",
        *[f"| {e.group} | {', '.join(e.columns)} | {e.reason} |" for e in kept],
        *(["| (none) | | the baseline shows no variable that beats the metered minutes alone |"] if not kept else []),
        "",
        "| dropped | variables | why |",
        "|---|---|---|",
        *[f"| {e.group} | {', '.join(e.columns)} | {e.reason} |" for e in dropped],
        *[f"| {group} | | not available: {why} |" for group, why in sorted(design.unavailable.items())],
        "",
        "## Calibration's gain: template only vs calibrated vs from scratch",
        f"Holdout, {grain.name} CV(RMSE) and NMBE; acceptance at this grain: {grain.limits}.",
        "",
        "| model | CV(RMSE) | NMBE | limits |",
        "|---|---:|---:|---|",
        *_comparison(metrics, grain.name),
    ]
    if little:
        lines += ["", "With only the first 14 baseline days (a plant just onboarded), same holdout:", "",
                  "| model | CV(RMSE) | NMBE | limits |", "|---|---:|---:|---|", *little]
    lines += [
        "",
        f"Calibration moved CV(RMSE) by {metrics.get('adjustment_cv_rmse_points', float('nan')):+.1f} points against the "
        f"template alone, and beats the naive hour-of-week mean by {metrics.get('calibrated_gain_over_naive_points', float('nan')):+.1f} points.",
        "",
        "## Training data",
        f"- window: {window[0]} to {window[1]} ({metrics.get('baseline_days', float('nan')):.0f} days), the plant's "
        "configured baseline period (plant.yaml energy_baseline)",
        "- data gates: trained only on plant-days whose raw and canonical gates passed (a failed day is withheld)",
        f"- template: `{spec.name}` v{spec.version}, {spec.model_family}; calibration: {spec.calibration}",
        "",
        "## Plots (run artifacts, plots/)",
        "- actual_vs_predicted.png: holdout residuals and actual vs predicted, template only vs calibrated",
        f"- residuals_by_{grain.calendar[0]}.png: a shape the model misses shows as a pattern over the week",
        "- feature_importance.png: what the calibrated model uses",
        "",
        "## Retraining is triggered by",
        *[f"- {rule}" for rule in spec.retraining],
        "",
        "## Assumptions",
        *[f"- {a}" for a in spec.assumptions],
    ]
    return "\n".join(lines) + "\n"
