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


def test_lag1_autocorrelation_of_correlated_and_alternating_residuals():
    from ml.metrics import lag1_autocorrelation

    assert lag1_autocorrelation([1, 1, 1, -1, -1, -1]) == pytest.approx(0.5)  # neighbour products 4 x (+1), 1 x (-1); sum of squares 6
    assert lag1_autocorrelation([1, -1, 1, -1, 1, -1]) == 0.0  # negative autocorrelation is clipped


def test_savings_uncertainty_worked_example():
    """ASHRAE G14 Annex B by hand: CV 2 %, 1,000 kWh per hour, n = 200 baseline hours, m = 48 reporting hours.
    Independent hours (ρ = 0): 1.96 x 1.26 x 0.02 x 1000 x sqrt(48 x 1 x 1.01) = 49.392 x 6.9627 = 343.9 kWh.
    ρ = 0.5 triples n / n' (1.5 / 0.5), so the band grows by sqrt(3): 595.6 kWh."""
    from ml.metrics import savings_uncertainty

    assert savings_uncertainty(0.02, 1000.0, 200, 48, 0.0) == pytest.approx(343.9, abs=0.1)
    assert savings_uncertainty(0.02, 1000.0, 200, 48, 0.5) == pytest.approx(343.9 * 3**0.5, abs=0.2)
    assert savings_uncertainty(0.02, 1000.0, 200, 0, 0.5) == 0.0
