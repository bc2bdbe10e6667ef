"""Drift: feature drift (population stability index against the training window) and performance decay,
checked against a template's retraining rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

PSI_LIMIT = 0.2  # the usual "significant shift" level


def psi(reference, current, bins: int = 10) -> float:
    """Population stability index with quantile bins of the reference (sum((c - r) * ln(c / r)))."""
    ref = np.asarray(reference, float)
    cur = np.asarray(current, float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if len(ref) == 0 or len(cur) == 0:
        return float("nan")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:  # constant reference: compare "same value" vs "different"
        same_r, same_c = 1.0, float(np.mean(np.isclose(cur, ref[0])))
        r, c = np.array([same_r, 1 - same_r]), np.array([same_c, 1 - same_c])
    else:
        edges[0], edges[-1] = -np.inf, np.inf
        r = np.histogram(ref, edges)[0] / len(ref)
        c = np.histogram(cur, edges)[0] / len(cur)
    r, c = np.clip(r, 1e-4, None), np.clip(c, 1e-4, None)
    return float(np.sum((c - r) * np.log(c / r)))


def feature_psi(reference: pd.DataFrame, current: pd.DataFrame, features: list[str]) -> dict[str, float]:
    return {f: psi(reference[f], current[f]) for f in features}


def check(
    feature_drift: dict[str, float], performance: dict[str, float], limits: dict[str, float], psi_limit: float = PSI_LIMIT
) -> list[str]:
    """Which retraining rules are crossed: features with PSI above the limit, metrics above their limit."""
    crossed = [f"feature drift: PSI({f}) = {v:.2f} > {psi_limit}" for f, v in feature_drift.items() if np.isfinite(v) and v > psi_limit]
    for metric, value in performance.items():
        limit = limits.get(metric)
        if limit is not None and np.isfinite(value) and abs(value) > limit:
            crossed.append(f"performance decay: {metric} = {value:.3f} > {limit}")
    return crossed
