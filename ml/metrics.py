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
