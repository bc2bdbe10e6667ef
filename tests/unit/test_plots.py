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
