"""Pictures reviewers look at: residuals and calibration vs template, as PNG bytes."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def residual_plot(actual, template_pred, calibrated_pred, title: str) -> bytes:
    actual = np.asarray(actual, float)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, pred, color in (("template only", template_pred, "tab:gray"), ("calibrated", calibrated_pred, "tab:blue")):
        pred = np.asarray(pred, float)
        axes[0].scatter(pred, actual - pred, s=8, alpha=0.6, label=label, color=color)
        axes[1].scatter(actual, pred, s=8, alpha=0.6, label=label, color=color)
    axes[0].axhline(0, color="black", lw=0.8)
    axes[0].set(xlabel="predicted kWh per hour", ylabel="actual - predicted (kWh)", title="residuals (holdout)")
    lim = [0, float(max(actual.max(), 1.0)) * 1.05]
    axes[1].plot(lim, lim, color="black", lw=0.8)
    axes[1].set(xlabel="actual kWh per hour", ylabel="predicted kWh per hour", title="calibration vs template")
    axes[0].legend()
    fig.suptitle(title)
    return _png(fig)


def intensity_series(rows) -> tuple[object, object, str]:
    """What a plant's trend plots: kWh per unit against the baseline's, or, for a plant without a production
    counter (no units, an energy-only plant), kWh per day against the baseline's expected kWh. The deviation
    (actual / expected - 1) and its tolerance are the same either way."""
    if rows["actual_kwh_per_unit"].notna().any():
        return rows["actual_kwh_per_unit"], rows["expected_kwh_per_unit"].to_numpy(float), "kWh/unit"
    return rows["actual_kwh"], rows["expected_kwh"].to_numpy(float), "kWh/day"


def energy_intensity_trend(performance) -> bytes:
    """kWh/unit (kWh/day without units) per plant-day against the champion baseline, its tolerance band and the
    alert days."""
    plants = sorted(performance["plant_id"].unique())
    fig, axes = plt.subplots(len(plants), 1, figsize=(9, 2.4 * len(plants)), sharex=True, squeeze=False)
    for ax, plant_id in zip(axes[:, 0], plants):
        rows = performance[performance["plant_id"] == plant_id].sort_values("production_date")
        days = rows["production_date"]
        actual, expected, unit = intensity_series(rows)
        tolerance = float(rows["tolerance"].iloc[0])
        ax.fill_between(days, expected, expected * (1 + tolerance), alpha=0.15, label=f"+{tolerance:.0%} tolerance")
        ax.plot(days, expected, color="tab:gray", label="baseline expectation")
        ax.plot(days, actual, marker="o", ms=3, color="tab:blue", label="actual")
        flagged = rows["deviation"] > rows["tolerance"]
        if flagged.any():
            ax.scatter(days[flagged], actual[flagged], color="red", zorder=5, label="alert")
        ax.set_ylabel(f"{plant_id}\n{unit}")
        ax.legend(loc="upper left", fontsize=7)
    fig.suptitle("Energy against the champion energy baseline (ISO 50006 EnPI)")
    fig.autofmt_xdate()
    return _png(fig)


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"


def feature_importance_plot(features, importance, title: str) -> bytes:
    importance = np.asarray(importance, float)
    order = np.argsort(importance)
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(features) + 1.2))
    ax.barh([features[i] for i in order], importance[order], color="tab:blue")
    ax.set(xlabel="total gain", title=title)
    return _png(fig)


def motor_vibration_zones(daily, boundaries: dict[str, tuple[float, float, float]], title: str) -> bytes:
    """Each motor's daily vibration (mean while running, mm/s) against its machine class's ISO 20816-3 zones:
    A/B green, C yellow, D red. `daily`: motor_id, production_date, machine_class, vibration_mean_mms."""
    motors = sorted(daily["motor_id"].unique())
    cols = min(3, max(len(motors), 1))
    rows = max(1, -(-len(motors) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False, sharex=True)
    for ax, motor in zip(axes.flat, motors):
        frame = daily[daily["motor_id"] == motor].sort_values("production_date")
        ab, bc, cd = boundaries.get(frame["machine_class"].iloc[0], (np.nan, np.nan, np.nan))
        top = float(np.nanmax([frame["vibration_mean_mms"].max(), cd * 1.25 if cd == cd else 0.0, 1.0]))
        if cd == cd:  # known class: shade the zones
            ax.axhspan(0, bc, color="tab:green", alpha=0.10)
            ax.axhspan(bc, cd, color="gold", alpha=0.18)
            ax.axhspan(cd, top, color="tab:red", alpha=0.12)
            for level, name in ((ab, "A/B"), (bc, "B/C"), (cd, "C/D")):
                ax.axhline(level, color="gray", lw=0.7, ls="--")
                ax.text(frame["production_date"].iloc[0], level, f" {name}", va="bottom", fontsize=7, color="dimgray")
        ax.plot(frame["production_date"], frame["vibration_mean_mms"], marker="o", ms=3, color="black", lw=1)
        ax.set(title=f"{motor} ({frame['machine_class'].iloc[0]})", ylim=(0, top), ylabel="mm/s")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    for ax in list(axes.flat)[len(motors):]:
        ax.axis("off")
    fig.suptitle(title)
    return _png(fig)


def residuals_by_period(period, actual, predicted, period_label: str, title: str) -> bytes:
    """Mean and spread of the holdout residual (actual - predicted) per hour of week (or day of week): a shape
    the model misses shows as a pattern, a good fit as noise around zero."""
    period, residual = np.asarray(period, float), np.asarray(actual, float) - np.asarray(predicted, float)
    keys = np.unique(period[np.isfinite(period)])
    means = np.array([residual[period == k].mean() for k in keys])
    spread = np.array([residual[period == k].std() for k in keys])
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.fill_between(keys, means - spread, means + spread, alpha=0.2, color="tab:blue", label="mean +/- 1 sd")
    ax.plot(keys, means, color="tab:blue", marker=".", ms=3)
    ax.axhline(0, color="black", lw=0.8)
    ax.set(xlabel=period_label, ylabel="actual - predicted (kWh)", title=title)
    ax.legend(fontsize=8)
    return _png(fig)
