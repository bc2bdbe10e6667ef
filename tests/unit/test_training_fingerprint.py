"""The training-data fingerprint ignores what a clean re-run changes without the data changing (issue 23):
row order and float noise in the last binary digits of DuckDB's parallel sums."""

from __future__ import annotations

import pandas as pd

from ml.training import data_fingerprint


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "plant_id": ["plant_a", "plant_a", "plant_b", "plant_b"],
        "production_date": pd.to_datetime(["2026-09-07", "2026-09-08", "2026-09-07", "2026-09-08"]),
        "energy_kwh": [428.265, 1512.75, 0.0, 97.125],
        "units": [1200, 3400, 0, 310],
        "kwh_per_unit": [0.3568875, 0.444926470588, float("nan"), 0.313306451613],
    })


def test_float_noise_and_row_order_keep_the_fingerprint():
    frame = _frame()
    noisy = frame.copy()
    noisy["energy_kwh"] = [428.26499999999993, 1512.75 * (1 + 1e-12), 0.0, 97.125 * (1 - 1e-12)]
    noisy["kwh_per_unit"] = noisy["kwh_per_unit"] * (1 + 1e-12)
    noisy.loc[2, "energy_kwh"] = 1.3877787807814457e-17  # 0.1 - 0.1 summed in another order
    shuffled = noisy.iloc[[2, 0, 3, 1]].reset_index(drop=True)
    assert data_fingerprint(shuffled, "v1") == data_fingerprint(frame, "v1")


def test_a_real_change_makes_a_new_fingerprint():
    frame = _frame()
    changed = frame.copy()
    changed.loc[1, "energy_kwh"] = 1512.76  # a change in the 6th significant digit
    assert data_fingerprint(changed, "v1") != data_fingerprint(frame, "v1")
    assert data_fingerprint(frame.iloc[:3], "v1") != data_fingerprint(frame, "v1")  # a row less
    assert data_fingerprint(pd.concat([frame, frame.iloc[:1]]), "v1") != data_fingerprint(frame, "v1")  # a row twice
    assert data_fingerprint(frame.rename(columns={"units": "pieces"}), "v1") != data_fingerprint(frame, "v1")
    assert data_fingerprint(frame, "v2") != data_fingerprint(frame, "v1")
