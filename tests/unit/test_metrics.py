import pytest

from ml.metrics import cv_rmse, meets_ashrae_hourly, nmbe


def test_worked_example():
    actual, predicted = [10.0, 12.0, 14.0], [11.0, 12.0, 13.0]
    # residuals 1, 0, -1 -> sum of squares 2; n - p = 2; rmse 1; mean 12
    assert cv_rmse(actual, predicted, n_params=1) == pytest.approx(1 / 12)
    assert nmbe(actual, predicted, n_params=1) == pytest.approx(0.0)


def test_bias_sign_means_under_prediction():
    assert nmbe([10, 10], [9, 9], n_params=0) == pytest.approx(0.1)


def test_ashrae_hourly_limits():
    assert meets_ashrae_hourly(0.30, -0.10)
    assert not meets_ashrae_hourly(0.31, 0.0)
    assert not meets_ashrae_hourly(0.2, 0.11)
