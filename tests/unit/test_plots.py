import pandas as pd

from ml.plots import markdown_image, motor_vibration_zones


def test_motor_vibration_against_zones_is_a_png_per_plant():
    days = pd.date_range("2026-09-07", periods=5)
    daily = pd.concat([
        pd.DataFrame({"motor_id": "L1-M1", "production_date": days, "machine_class": "iso20816_group2_rigid",
                      "vibration_mean_mms": [1.2, 1.3, 2.9, 4.0, 5.1]}),
        pd.DataFrame({"motor_id": "L1-M2", "production_date": days, "machine_class": "unknown_class",
                      "vibration_mean_mms": [1.0] * 5}),
    ])
    png = motor_vibration_zones(daily, {"iso20816_group2_rigid": (1.4, 2.8, 4.5)}, "plant_x")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    assert markdown_image(png, "alt").startswith("![alt](data:image/png;base64,")


def test_energy_trend_plots_kwh_per_day_for_a_plant_without_units():
    from ml.plots import energy_intensity_trend, intensity_series

    days = pd.date_range("2026-01-05", periods=3).date
    with_units = pd.DataFrame({"plant_id": "plant_x", "production_date": days, "actual_kwh": [100.0, 110.0, 130.0],
                               "expected_kwh": [100.0, 100.0, 100.0], "actual_kwh_per_unit": [0.5, 0.55, 0.65],
                               "expected_kwh_per_unit": [0.5, 0.5, 0.5], "deviation": [0.0, 0.1, 0.3],
                               "tolerance": 0.1})
    energy_only = with_units.assign(plant_id="site_meter", actual_kwh_per_unit=float("nan"),
                                    expected_kwh_per_unit=float("nan"))
    actual, expected, unit = intensity_series(with_units)
    assert (list(actual), list(expected), unit) == ([0.5, 0.55, 0.65], [0.5, 0.5, 0.5], "kWh/unit")
    actual, expected, unit = intensity_series(energy_only)
    assert (list(actual), list(expected), unit) == ([100.0, 110.0, 130.0], [100.0, 100.0, 100.0], "kWh/day")
    png = energy_intensity_trend(pd.concat([with_units, energy_only]))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
