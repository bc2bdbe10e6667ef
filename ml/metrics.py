"""Model acceptance metrics for energy baselines (ASHRAE Guideline 14)."""

from __future__ import annotations

import numpy as np


def cv_rmse(actual, predicted, n_params: int = 1) -> float:
    """Coefficient of variation of the RMSE: sqrt(sum((y - yhat)^2) / (n - p)) / mean(y)."""
    y, yhat = np.asarray(actual, float), np.asarray(predicted, float)
    dof = max(len(y) - n_params, 1)
    return float(np.sqrt(np.sum((y - yhat) ** 2) / dof) / np.mean(y))


def nmbe(actual, predicted, n_params: int = 1) -> float:
    """Normalized mean bias error: sum(y - yhat) / ((n - p) * mean(y)). Positive = model under-predicts."""
    y, yhat = np.asarray(actual, float), np.asarray(predicted, float)
    dof = max(len(y) - n_params, 1)
    return float(np.sum(y - yhat) / (dof * np.mean(y)))


def meets_ashrae_hourly(cv: float, bias: float) -> bool:
    return cv <= 0.30 and abs(bias) <= 0.10


def lag1_autocorrelation(residuals) -> float:
    """Lag-1 autocorrelation of time-ordered residuals, clipped to [0, 0.95] (G14 only corrects for positive ρ)."""
    r = np.asarray(residuals, float)
    r = r - r.mean()
    denominator = float(np.sum(r * r))
    if len(r) < 3 or denominator == 0.0:
        return 0.0
    return float(np.clip(np.sum(r[1:] * r[:-1]) / denominator, 0.0, 0.95))


def savings_uncertainty(
    cv: float, mean_kwh_per_point: float, baseline_points: int, reporting_points: int, rho: float, t: float = 1.96
) -> float:
    """ASHRAE Guideline 14 (Annex B) absolute uncertainty of savings summed over `reporting_points` periods:
    t x 1.26 x CV x E_mean x sqrt(m x (n / n') x (1 + 2 / n)), with n' = n (1 - ρ) / (1 + ρ) the baseline's
    effective number of independent points under lag-1 autocorrelation ρ."""
    n, m = max(int(baseline_points), 1), max(int(reporting_points), 0)
    n_over_n_effective = (1.0 + rho) / (1.0 - rho)
    return float(t * 1.26 * cv * mean_kwh_per_point * np.sqrt(m * n_over_n_effective * (1.0 + 2.0 / n)))
