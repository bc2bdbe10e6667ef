"""ML benchmark: per-plant evaluation of the common templates (template only vs calibrated vs local from
scratch) on the 28-day demo, the 14-day experiment, motor-health lead time, and AI4I 2020 precision/recall.

Data: the simulator and the pipeline up to the marts, in a temp home (bench/ml_data.py). Set
PLANT_ASSETS_BENCH_ML_HOME to reuse a built home.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
AI4I = ROOT.parent / "shared" / "datasets" / "ai4i2020" / "ai4i2020.csv"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _load(home: Path):
    import duckdb

    from ml.templates import energy_baseline as energy
    from ml.templates import motor_health as motor
    from ml.templates import quality

    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        hourly = energy.plant_hourly_features(con.execute("select * from marts.fct_line_energy_hourly").df())
        daily = motor.read_daily(con)
        runs = quality.read_runs(con)
    finally:
        con.close()
    hourly["production_date"] = pd.to_datetime(hourly["production_date"])
    faults = json.loads((home / "truth" / "faults.json").read_text())
    return hourly, daily, runs, faults


def _fault_days(faults: list[dict]) -> dict[str, set]:
    """Days with an injected energy fault (excluded from baseline evaluation: not routine operation)."""
    out: dict[str, set] = {}
    for f in faults:
        if f["type"] == "energy_waste":
            out.setdefault(f["plant_id"], set()).update(pd.date_range(f["start_date"], f["end_date"]))
    return out


def energy_tables(hourly: pd.DataFrame, faults: list[dict], plants: dict) -> tuple[str, dict]:
    from ml.templates import energy_baseline as energy
    from ml.training import evaluate_candidates

    waste = _fault_days(faults)
    clean = hourly[[d not in waste.get(p, set()) for p, d in zip(hourly["plant_id"], hourly["production_date"])]]
    # 1. Each plant's configured baseline period, time-based holdout (last 25% of its days).
    baseline = pd.concat([
        clean[(clean["plant_id"] == pid) & (clean["production_date"] >= pd.Timestamp(cfg.energy_baseline.start))
              & (clean["production_date"] <= pd.Timestamp(cfg.energy_baseline.end))]
        for pid, cfg in plants.items()
    ], ignore_index=True)
    rows, facts = [], {"plants": {}}
    for pid in sorted(plants):
        m, holdout, _ = evaluate_candidates(baseline, pid)
        facts["plants"][pid] = m
        for variant, label in (("template", "template only"), ("calibrated", "calibrated (init_model boosting)"),
                               ("local", "local from scratch"), ("residual_corrected", "template + residual correction"),
                               ("boosted_and_residual", "boosting + residual correction")):
            rows.append(f"| {pid} | {label} | {_pct(m[f'{variant}_cv_rmse_hourly'])} | {m[f'{variant}_nmbe_hourly'] * 100:+.1f}% | "
                        f"{'yes' if m[f'{variant}_meets_ashrae_g14'] else 'no'} |")
        rows.append(f"| {pid} | **adjustment before go-live** | {m['adjustment_cv_rmse_points']:+.1f} CV points | "
                    f"{m['adjustment_nmbe_points']:+.1f} NMBE points | holdout {holdout['production_date'].nunique()} days, {len(holdout)} hours |")
    table1 = "\n".join(["| plant | model | hourly CV(RMSE) | hourly NMBE | meets G14 |", "|---|---|---:|---:|---|", *rows])

    # 2. The 14-day experiment: a plant with only its first N days (14, and fewer for the learning curve); the
    #    template knows the other plants' full window. Test = the plant's days after its first 14.
    rows2 = []
    facts["fourteen_days"] = {}
    for pid in sorted(plants):
        mine = clean[clean["plant_id"] == pid]
        days = sorted(mine["production_date"].unique())
        later = mine[mine["production_date"].isin(days[14:])]
        others = clean[clean["plant_id"] != pid]
        tmpl = energy.fit_template(others)
        for n_days in (14, 7, 3):
            first = mine[mine["production_date"].isin(days[:n_days])]
            calibrated = energy.calibrate(tmpl, first)
            local = energy.fit_local(first)
            res = {name: energy.evaluate(model, later) for name, model in (("template", tmpl), ("calibrated", calibrated), ("local", local))}
            if n_days == 14:
                facts["fourteen_days"][pid] = res
            best = "calibrated" if res["calibrated"]["cv_rmse_hourly"] < res["local"]["cv_rmse_hourly"] else "from scratch"
            rows2.append(
                f"| {pid} | {n_days} | {len(later['production_date'].unique())} | "
                + " | ".join(f"{_pct(res[k]['cv_rmse_hourly'])} / {res[k]['nmbe_hourly'] * 100:+.1f}%" for k in ("template", "calibrated", "local"))
                + f" | {best} |"
            )
    table2 = "\n".join([
        "| plant | days of plant data | test days | template only (never saw the plant) CV / NMBE | calibrated on those days CV / NMBE | from scratch on those days CV / NMBE | better |",
        "|---|---:|---:|---:|---:|---:|---|", *rows2,
    ])
    return table1, table2, facts


def motor_section(daily: pd.DataFrame, faults: list[dict]) -> tuple[str, dict]:
    from ml.templates import motor_health as motor

    std = motor.standardize(daily)
    labels = motor.label_days(std, faults)
    tmpl = motor.fit_template(std)
    rows, facts = [], {}
    for variant in ("template", "calibrated", "local"):
        parts = []
        for pid, frame in std.groupby("plant_id"):
            model = {"template": tmpl, "calibrated": motor.calibrate(tmpl, frame), "local": motor.fit_local(frame)}[variant]
            parts.append(motor.alerts(motor.score(model, frame)))
        alerted = pd.concat(parts).sort_index()
        ev = motor.evaluate(alerted, labels, faults)
        facts[variant] = ev | {"first_alert": str(alerted.loc[alerted["alert"], "production_date"].min().date()) if alerted["alert"].any() else "none"}
        rows.append(f"| {variant} | {ev['pr_auc']:.3f} | {ev['precision_at_threshold']:.2f} | {ev['recall_at_threshold']:.2f} | "
                    f"{ev['lead_time_days']:.0f} | {facts[variant]['first_alert']} | {ev['false_alert_motors']:.0f} |")
    fault = next(f for f in faults if f["type"] == "motor_degradation")
    header = (f"Degrading motor: {fault['plant_id']} {fault['motor_id']}, onset {fault['onset_date']}, first ISO 20816 zone C "
              f"{fault['first_zone_c_date']}, zone D {fault['first_zone_d_date']}, failure {fault['failure_date']}. "
              f"{std[['plant_id', 'motor_id']].drop_duplicates().shape[0]} motors, {len(std)} motor-days; a motor-day is positive "
              "from onset to the day before failure (early degradation days are barely measurable, so recall counts them against the rule).")
    table = "\n".join([
        header, "",
        "| model | PR-AUC (daily score) | precision at alert rule | recall at alert rule | lead time before failure (days) | first alert | healthy motors alerted |",
        "|---|---:|---:|---:|---:|---|---:|", *rows,
    ])
    return table, facts


def ai4i_section(quick: bool) -> tuple[str, dict]:
    """AI4I 2020 (UCI): 10,000 process points, 3.4% machine failures. Benchmark only."""
    import lightgbm as lgb
    from sklearn.metrics import average_precision_score, precision_score, recall_score

    if not AI4I.exists():
        return f"AI4I 2020 not found at {AI4I}: skipped.", {}
    data = pd.read_csv(AI4I, sep="\t")
    data.columns = [c.strip() for c in data.columns]
    data = data.sort_values("UDI")
    cols = {"Air temperature [K]": "air_k", "Process temperature [K]": "process_k", "Rotational speed [rpm]": "rpm",
            "Torque [Nm]": "torque_nm", "Tool wear [min]": "tool_wear_min"}
    x = data[list(cols)].rename(columns=cols).astype(float)
    x["temperature_delta_k"] = x["process_k"] - x["air_k"]  # the heat-dissipation gap, like bearing temp above ambient
    x["power_w"] = x["torque_nm"] * x["rpm"] * 2 * np.pi / 60  # mechanical power, the analogue of motor current x voltage
    x["type_code"] = data["Type"].map({"L": 0, "M": 1, "H": 2}).astype(float)
    y = data["Machine failure"].astype(int).to_numpy()
    cut = int(len(x) * 0.7)  # time-ordered split (UDI order)
    facts = {}
    # (a) the template's unsupervised rule: robust z-score against a healthy reference (first 30%, no failures),
    #     upward and downward deviations of temperature gap, power and tool wear.
    ref = x.iloc[: int(len(x) * 0.3)][y[: int(len(x) * 0.3)] == 0]
    feats = ["temperature_delta_k", "power_w", "tool_wear_min", "rpm", "torque_nm"]
    med, mad = ref[feats].median(), (ref[feats] - ref[feats].median()).abs().median() * 1.4826
    z = ((x[feats] - med) / mad).abs()
    score = z.max(axis=1).to_numpy()
    test = slice(cut, None)
    for alert_z in (3.0, 4.0):
        pred = score[test] > alert_z
        facts[f"anomaly_z{alert_z:g}"] = {
            "precision": float(precision_score(y[test], pred, zero_division=0)),
            "recall": float(recall_score(y[test], pred, zero_division=0)),
        }
    facts["anomaly_pr_auc"] = float(average_precision_score(y[test], score[test]))
    # (b) the template's supervised variant (LightGBM classifier, same family as the other templates).
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 20, "verbosity": -1,
              "seed": 7, "deterministic": True, "num_threads": 1, "is_unbalance": True}
    features = feats + ["type_code"]
    booster = lgb.train(params, lgb.Dataset(x.iloc[:cut][features], y[:cut]), num_boost_round=150 if quick else 400)
    prob = booster.predict(x.iloc[cut:][features])
    for threshold in (0.5, 0.8):
        pred = prob > threshold
        facts[f"lightgbm_p{threshold:g}"] = {
            "precision": float(precision_score(y[test], pred, zero_division=0)),
            "recall": float(recall_score(y[test], pred, zero_division=0)),
        }
    facts["lightgbm_pr_auc"] = float(average_precision_score(y[test], prob))
    n_test, pos = len(y) - cut, int(y[test].sum())
    rows = [
        f"| unsupervised anomaly rule, abs(z) > 3 | {facts['anomaly_z3']['precision']:.2f} | {facts['anomaly_z3']['recall']:.2f} | {facts['anomaly_pr_auc']:.3f} |",
        f"| unsupervised anomaly rule, abs(z) > 4 | {facts['anomaly_z4']['precision']:.2f} | {facts['anomaly_z4']['recall']:.2f} | {facts['anomaly_pr_auc']:.3f} |",
        f"| LightGBM classifier, p > 0.5 | {facts['lightgbm_p0.5']['precision']:.2f} | {facts['lightgbm_p0.5']['recall']:.2f} | {facts['lightgbm_pr_auc']:.3f} |",
        f"| LightGBM classifier, p > 0.8 | {facts['lightgbm_p0.8']['precision']:.2f} | {facts['lightgbm_p0.8']['recall']:.2f} | {facts['lightgbm_pr_auc']:.3f} |",
    ]
    text = "\n".join([
        f"AI4I 2020 predictive maintenance (UCI; {len(y):,} points, {y.mean():.1%} failures). Time-ordered split by UDI: "
        f"train on the first 70%, test on the last {n_test:,} points ({pos} failures). AI4I has no vibration: the features are "
        "process - air temperature (the analogue of bearing temperature above normal), mechanical power (the analogue of "
        "motor current), torque, speed and tool wear. Benchmark only: the tests never read this file.", "",
        "| model | precision | recall | PR-AUC |", "|---|---:|---:|---:|", *rows,
    ])
    return text, facts


def quality_section(runs: pd.DataFrame) -> tuple[str, dict]:
    from ml.train_quality import evaluate_candidates

    rows, facts = [], {}
    for pid in sorted(runs["plant_id"].unique()):
        m, holdout = evaluate_candidates(runs, pid)
        facts[pid] = m
        rows.append(f"| {pid} | {len(holdout)} | " + " | ".join(f"{100 * m[f'{v}_mae_scrap_share']:.2f} pts" for v in ("template", "calibrated", "local")) + " |")
    return "\n".join(["| plant | holdout runs | template only MAE | calibrated MAE | local MAE |", "|---|---:|---:|---:|---:|", *rows]), facts


def run(quick: bool = False) -> str:
    from bench.ml_data import build

    started = time.perf_counter()
    keep = os.environ.get("PLANT_ASSETS_BENCH_ML_HOME")
    home = Path(keep or tempfile.mkdtemp(prefix="plant-assets-bench-ml-"))
    try:
        build(home)
        built = time.perf_counter() - started
        hourly, daily, runs, faults = _load(home)
    finally:
        if not keep:  # the temp home holds the whole simulated lake: do not leave it behind
            shutil.rmtree(home, ignore_errors=True)
    from plant_assets.config import load_plants

    plants = load_plants(ROOT / "plants")
    t0 = time.perf_counter()
    table1, table2, energy_facts = energy_tables(hourly, faults, plants)
    energy_s = time.perf_counter() - t0
    motor_table, motor_facts = motor_section(daily, faults)
    quality_table, _ = quality_section(runs)
    ai4i_table, _ = ai4i_section(quick)

    all_meet = all(m["calibrated_meets_ashrae_g14"] == 1.0 for m in energy_facts["plants"].values())
    beats = all(m["calibrated_cv_rmse_hourly"] < m["template_cv_rmse_hourly"] for m in energy_facts["plants"].values())
    fourteen = all(r["calibrated"]["cv_rmse_hourly"] < r["local"]["cv_rmse_hourly"] for r in energy_facts["fourteen_days"].values())
    cal = motor_facts["calibrated"]
    return f"""## ML: common templates, per-plant calibration (bench/bench_ml.py)

Data: the simulator's 3 demo plants x 28 days (2026-09-07 .. 2026-10-04) through the pipeline up to the
marts in a temp home ({built:.0f} s to build). Energy metrics are ASHRAE Guideline 14 hourly CV(RMSE) and
NMBE (limits 30% and +/-10%) on plant-hours; positive NMBE = the model under-predicts. plant_b's injected
energy-waste days are excluded (non-routine, not baseline operation).

### Energy baseline: evaluation per plant (time-based holdout of each plant's baseline period)
Template fit on the pooled baseline periods of all plants (training days only); calibrated = continued
boosting from the template (LightGBM `init_model`) on the plant's training days; local = the same
model family from scratch on the plant's training days only. The last 25% of each baseline period's days
are the holdout. "Adjustment before go-live" = template-only minus calibrated error (what calibration
changed), recorded per version in MLflow as `metric.adjustment_cv_rmse_points`.

{table1}

Calibrated meets G14 hourly on every plant: **{'yes' if all_meet else 'NO'}**. Calibrated beats template-only on every
plant here: **{'yes' if beats else 'NO'}** (largest difference {max(abs(m['adjustment_cv_rmse_points']) for m in energy_facts['plants'].values()):.1f}
CV points): this template was fit on the pooled baseline periods *including* the plant's own training days,
so template-only already fits each plant; the real test of calibration is a plant the template has not
seen, below. The residual (ratio) correction changes CV(RMSE) by at most
{max(abs(m['residual_corrected_cv_rmse_hourly'] - m['template_cv_rmse_hourly']) for m in energy_facts['plants'].values()) * 100:.1f} points on top of the
template and {max(abs(m['boosted_and_residual_cv_rmse_hourly'] - m['calibrated_cv_rmse_hourly']) for m in energy_facts['plants'].values()) * 100:.1f} on top of boosting, so
the chosen calibration is **continued boosting alone** (it also keeps the registered model a plain LightGBM booster).

### Energy baseline: a plant with only 14 (or 7, 3) days of data
The plant's first 14 (7, 3) days are all it has; the template is fit on the other two plants' full 28 days;
calibrated = template + continued boosting on those 14 days; from scratch = the same model family trained
on the same days. Test = the plant's days after its first 14 (fault days excluded). Cells: hourly CV(RMSE) / NMBE.

{table2}

Calibration beats template-only on a plant the template never saw: **{'yes' if all(r['calibrated']['cv_rmse_hourly'] < r['template']['cv_rmse_hourly'] for r in energy_facts['fourteen_days'].values()) else 'NO'}**
(template-only misses G14 NMBE on {sum(abs(r['template']['nmbe_hourly']) > 0.10 for r in energy_facts['fourteen_days'].values())} of 3 plants; calibration brings every plant within G14).
Calibration beats from scratch with 14 days on every plant: **{'yes' if fourteen else 'NO'}**. In the simulator, a
plant's energy is linear in the canonical features (idle load per line, load while running, kWh per unit by
product) with plant-specific coefficients and about 2% noise. A linear-tree LightGBM from scratch recovers those
coefficients from as few as 3 days and covers the whole operating range, so the pooled template's tree
structure is a handicap, not a prior. Calibration would pay off where a plant's own days do not cover
its operating range (one product only, no idle hours) or are noisier; the demo data does not contain that case.

### Motor health: the demo's degrading motor (28 days, every motor of the 3 plants)
Template = spread of the per-motor standardized features on the pooled healthy reference days;
calibrated = the plant's own reference days shrunk towards it; local = the plant's reference days only.
Alert rule: score > 6 sigmas on 2 consecutive days, or ISO 20816-3 zone D.

{motor_table}

The calibrated detector first alerts on {cal['first_alert']}, **{cal['lead_time_days']:.0f} days before the failure**, with
{cal['false_alert_motors']:.0f} healthy motors alerted over the window.

### Motor health on AI4I 2020

{ai4i_table}

### Quality: scrap share per run (holdout MAE, percentage points of scrap share)

{quality_table}

_Energy evaluation took {energy_s:.1f} s (LightGBM, 1 thread)._
"""


if __name__ == "__main__":
    print(run(quick=True))
