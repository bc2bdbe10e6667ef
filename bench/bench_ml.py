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


NON_ROUTINE = ("energy_waste", "low_output_waste", "efficiency_improvement")


def _fault_days(faults: list[dict]) -> dict[str, set]:
    """Days with an injected energy fault or efficiency improvement (excluded from baseline evaluation: not
    routine operation; the alerts and savings they cause are measured elsewhere)."""
    out: dict[str, set] = {}
    for f in faults:
        if f["type"] in NON_ROUTINE:
            end = f.get("simulated_end_date") or f.get("end_date") or f["start_date"]
            out.setdefault(f["plant_id"], set()).update(pd.date_range(f["start_date"], end))
    return out


def _heavy_share(frame: pd.DataFrame) -> str:
    units = frame["units_produced"].sum()
    return f"{frame['heavy_units'].sum() / units:.0%}" if units else "-"


def _days_over(model, frame: pd.DataFrame, tolerance: float) -> tuple[int, float]:
    """Plant-days whose actual energy exceeds the model's expectation by more than the alert tolerance (the
    energy alert rule, plant_assets/operations/energy_scoring.py), and the largest daily deviation."""
    from ml.templates import energy_baseline as energy

    daily = frame.assign(expected=energy.predict(model, frame)).groupby("production_date")[["energy_kwh", "expected"]].sum()
    deviation = daily["energy_kwh"] / daily["expected"] - 1.0
    return int((deviation > tolerance).sum()), float(deviation.abs().max())


def energy_tables(hourly: pd.DataFrame, faults: list[dict], plants: dict) -> tuple[str, str, str, dict]:
    from ml.templates import energy_baseline as energy

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
        m, holdout, _ = energy.evaluate_candidates(baseline, pid)
        facts["plants"][pid] = m
        for variant, label in (("template", "template only (fit on the other plants)"), ("calibrated", "calibrated (init_model boosting)"),
                               ("local", "local from scratch"), ("residual_corrected", "template + residual correction"),
                               ("boosted_and_residual", "boosting + residual correction")):
            rows.append(f"| {pid} | {label} | {_pct(m[f'{variant}_cv_rmse_hourly'])} | {m[f'{variant}_nmbe_hourly'] * 100:+.1f}% | "
                        f"{'yes' if m[f'{variant}_meets_ashrae_g14'] else 'no'} |")
        rows.append(f"| {pid} | **adjustment before go-live** | {m['adjustment_cv_rmse_points']:+.1f} CV points | "
                    f"{m['adjustment_nmbe_points']:+.1f} NMBE points | holdout {holdout['production_date'].nunique()} days, {len(holdout)} hours |")
    table1 = "\n".join(["| plant | model | hourly CV(RMSE) | hourly NMBE | meets G14 |", "|---|---|---:|---:|---|", *rows])

    # 2. Onboarding with only the plant's first N days (14, and fewer for the learning curve); the template is
    #    what the fleet knew before the plant joined: the other plants' whole window. Test = the plant's days
    #    after its first 14 (non-routine days excluded).
    rows2 = []
    facts["fourteen_days"] = {}
    for pid in sorted(plants):
        mine = clean[clean["plant_id"] == pid]
        days = sorted(mine["production_date"].unique())
        later = mine[mine["production_date"].isin(days[14:])]
        tolerance = plants[pid].alerting.energy_tolerance
        tmpl = energy.fit_template(energy.fleet_rows(clean, pid))
        for n_days in (14, 7, 3):
            first = mine[mine["production_date"].isin(days[:n_days])]
            models = {"template": tmpl, "calibrated": energy.calibrate(tmpl, first), "local": energy.fit_local(first)}
            res = {name: energy.evaluate(model, later) | dict(zip(("days_over", "max_daily_deviation"), _days_over(model, later, tolerance)))
                   for name, model in models.items()}
            if n_days == 14:
                facts["fourteen_days"][pid] = res
            best = "calibrated" if res["calibrated"]["cv_rmse_hourly"] < res["local"]["cv_rmse_hourly"] else "from scratch"
            rows2.append(
                f"| {pid} | {n_days} | {_heavy_share(first)} / {_heavy_share(later)} | {later['production_date'].nunique()} | "
                + " | ".join(f"{_pct(res[k]['cv_rmse_hourly'])} / {res[k]['nmbe_hourly'] * 100:+.1f}% / {res[k]['days_over']}" for k in ("template", "calibrated", "local"))
                + f" | {best} |"
            )
    table2 = "\n".join([
        "| plant | days of plant data | heavy share of units: those days / test days | test days | template only (never saw the plant) | calibrated on those days | from scratch on those days | better CV(RMSE) |",
        "|---|---:|---:|---:|---:|---:|---:|---|", *rows2,
    ])

    # 3. The production path on the rest of the window: the registered instance (template on the other plants'
    #    baseline periods, calibrated on the plant's whole baseline) scores every routine day after the baseline;
    #    a day above the plant's energy tolerance would raise an energy alert.
    rows3 = []
    facts["after_baseline"] = {}
    for pid in sorted(plants):
        mine_base = baseline[baseline["plant_id"] == pid]
        after = clean[(clean["plant_id"] == pid) & (clean["production_date"] > pd.Timestamp(plants[pid].energy_baseline.end))]
        if after.empty:
            continue
        tolerance = plants[pid].alerting.energy_tolerance
        calibrated = energy.calibrate(energy.fit_template(energy.fleet_rows(baseline, pid)), mine_base)
        local = energy.fit_local(mine_base)
        res = {name: energy.evaluate(model, after) | dict(zip(("days_over", "max_daily_deviation"), _days_over(model, after, tolerance)))
               for name, model in (("calibrated", calibrated), ("local", local))}
        facts["after_baseline"][pid] = res
        for f in (f for f in faults if f["plant_id"] == pid and f["type"] == "efficiency_improvement"):
            # The savings the same baselines measure over an injected improvement (expected - actual), vs the truth.
            days = hourly[(hourly["plant_id"] == pid) & hourly["production_date"].between(pd.Timestamp(f["start_date"]), pd.Timestamp(f["simulated_end_date"]))]
            measured = {name: float((energy.predict(model, days) - days["energy_kwh"]).sum()) for name, model in (("calibrated", calibrated), ("local", local))}
            facts.setdefault("savings", []).append({"plant_id": pid, "days": f"{f['start_date']}..{f['simulated_end_date']}",
                                                    "injected_kwh": float(f["injected_savings_kwh"]), **measured})
        rows3.append(
            f"| {pid} | {_heavy_share(mine_base)} / {_heavy_share(after)} | {after['production_date'].nunique()} | {tolerance:.0%} | "
            + " | ".join(f"{_pct(res[k]['cv_rmse_hourly'])} / {res[k]['nmbe_hourly'] * 100:+.1f}% | {res[k]['max_daily_deviation'] * 100:.1f}% | {res[k]['days_over']}"
                         for k in ("calibrated", "local")) + " |"
        )
    table3 = "\n".join([
        "| plant | heavy share of units: baseline / after | routine days after the baseline | alert tolerance | calibrated CV / NMBE | calibrated largest daily deviation | calibrated days over tolerance (false alerts) | from scratch CV / NMBE | from scratch largest daily deviation | from scratch days over tolerance |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows3,
    ])
    savings = facts.get("savings", [])
    if savings:
        table3 += "\n\n" + "\n".join([
            "| plant | injected efficiency improvement | injected savings | measured with the calibrated baseline | measured with a from-scratch baseline |",
            "|---|---|---:|---:|---:|",
            *(f"| {r['plant_id']} | {r['days']} | {r['injected_kwh']:,.0f} kWh | {r['calibrated']:,.0f} kWh | {r['local']:,.0f} kWh |" for r in savings),
        ])
    return table1, table2, table3, facts


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
    from ml.templates.quality import evaluate_candidates

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
    from plant_assets.core.plant_config import load_plants

    plants = load_plants(ROOT / "plants")
    t0 = time.perf_counter()
    table1, table2, table3, energy_facts = energy_tables(hourly, faults, plants)
    energy_s = time.perf_counter() - t0
    motor_table, motor_facts = motor_section(daily, faults)
    quality_table, _ = quality_section(runs)
    ai4i_table, _ = ai4i_section(quick)

    per_plant = energy_facts["plants"].values()
    all_meet = all(m["calibrated_meets_ashrae_g14"] == 1.0 for m in per_plant)
    beats = all(m["calibrated_cv_rmse_hourly"] < m["template_cv_rmse_hourly"] for m in per_plant)
    fourteen = energy_facts["fourteen_days"]
    beats_scratch = [pid for pid, r in fourteen.items() if r["calibrated"]["cv_rmse_hourly"] < r["local"]["cv_rmse_hourly"]]
    fourteen_meet = all(r["calibrated"]["meets_ashrae_g14"] == 1.0 for r in fourteen.values())
    launch = [pid for pid, r in energy_facts["after_baseline"].items() if r["local"]["days_over"] > 0]
    false_alerts = sum(r["calibrated"]["days_over"] for r in energy_facts["after_baseline"].values())
    scratch_alerts = sum(r["local"]["days_over"] for r in energy_facts["after_baseline"].values())
    residual_gain = max(m["calibrated_cv_rmse_hourly"] - m["boosted_and_residual_cv_rmse_hourly"] for m in per_plant) * 100
    cal = motor_facts["calibrated"]
    return f"""## ML: common templates, per-plant calibration (bench/bench_ml.py)

Data: the simulator's 3 demo plants x 28 days (2026-09-07 .. 2026-10-04) through the pipeline up to the
marts in a temp home ({'built beforehand, reused via PLANT_ASSETS_BENCH_ML_HOME' if built < 5 else f'{built:.0f} s to build'}). Energy metrics are ASHRAE Guideline 14 hourly CV(RMSE) and
NMBE (limits 30% and +/-10%) on plant-hours; positive NMBE = the model under-predicts. Non-routine days
(plant_b's injected energy waste, plant_c's efficiency improvement) are excluded: their alerts and savings
are measured elsewhere. The demo's onboarding case: **plant_a launches its heavy product PET-150 on day 14**
(2026-09-21, the day after its 14-day baseline); plant_b and plant_c make heavy products from day 0.

How a plant is onboarded, and so how it is evaluated: the template for plant P is the template as it stood
before P joined, fit on the **other** plants (leave-one-plant-out); P's instance is that template calibrated
by continued boosting (LightGBM `init_model`) on P's own days; "from scratch" is the same model family trained
on the same days of P only. The template is additive (one split with linear leaves per boosting round,
`num_leaves: 2`), so calibration re-fits the effect of every feature P's data moves and keeps the fleet's effect
of a feature P's data holds constant (plant_a's `heavy_units` before the launch).

### Energy baseline: evaluation per plant (time-based holdout of each plant's baseline period)
The last 25% of each baseline period's days are the holdout; calibrated and from scratch see the first 75%.
"Adjustment before go-live" = template-only minus calibrated error (what calibration changed), recorded per
version in MLflow as `metric.adjustment_cv_rmse_points`.

{table1}

Calibrated meets G14 hourly on every plant: **{'yes' if all_meet else 'NO'}**. Calibrated beats template-only on every
plant: **{'yes' if beats else 'NO'}** (by {min(m['adjustment_cv_rmse_points'] for m in per_plant):.1f} to {max(m['adjustment_cv_rmse_points'] for m in per_plant):.1f} CV points:
the fleet template alone misses each plant's own idle and running loads). A residual (ratio) correction on top of boosting improves CV(RMSE) by at most
{residual_gain:.1f} points, so the chosen calibration is **continued boosting alone** (it also keeps the registered
model a plain LightGBM booster, which scoring, drift and explanations load as is).

### Energy baseline: a plant with only 14 (or 7, 3) days of data
The plant's first 14 (7, 3) days are all it has; the template knows the other two plants' whole window.
Test = the plant's routine days after its first 14. Cells: hourly CV(RMSE) / NMBE / test days whose energy is
more than the plant's alert tolerance above the model (each would be a false energy alert).

{table2}

With 14 days, calibration beats from scratch (CV(RMSE)) on: **{', '.join(beats_scratch) or 'no plant'}**
({len(beats_scratch)} of {len(fourteen)}; calibrated meets G14 on every plant: {'yes' if fourteen_meet else 'NO'}).
Where the plant's first days already cover its operating range (plant_b, plant_c) the simulator's energy is
linear in the features with about 2% noise, so a from-scratch model is already close to the calibrated one
(compare the two columns). Where they do not (plant_a: no heavy product before day 14) a from-scratch model
cannot know what a heavy unit costs and prices it like a light one; the calibrated model carries the fleet's
heavy-unit effect, which is as right as plant_a's heavy product resembles the fleet's (its premium of 0.043
kWh/unit lies in the fleet's 0.026-0.043 range; in a trial with 0.053 kWh/unit, above every other plant's,
the calibrated model under-predicted the heaviest day by 11%).

### Energy baseline after go-live: the production path on the rest of the window
The registered instance (template on the other plants' baseline periods, calibrated on the plant's whole
baseline period, ml/templates/energy_baseline.py) against from scratch on the same baseline period, on every routine day
after the baseline. Energy alerts fire when actual kWh exceed the baseline by more than the tolerance.

{table3}

Energy alerts on routine days after the baseline: **{false_alerts}** with the calibrated baseline, {scratch_alerts}
with a from-scratch baseline{(' (all on ' + ', '.join(launch) + "'s new-product days)") if launch else ''}.

What does not hold: the heavy-unit effect the calibrated model carries is the fleet's, not plant_a's own, so
it still under-predicts plant_a's new-product days a little (NMBE above), about as much as a real efficiency
programme would save. That is why the demo injects its improvement at plant_c, not at plant_a: savings
measured across a product launch would be confounded with it. IPMVP treats a launch as a non-routine change:
re-baseline plant_a on days that include its heavy product (or adjust for it) before reporting savings there.

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
