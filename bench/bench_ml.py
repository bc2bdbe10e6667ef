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
        from plant_assets.core.plant_config import load_plants

        hourly = energy.read_plant_hours(con, load_plants(ROOT / "plants"))
        daily = motor.read_daily(con)
        runs = quality.read_runs(con)
    finally:
        con.close()
    hourly["production_date"] = pd.to_datetime(hourly["production_date"])
    faults = json.loads((home / "truth" / "faults.json").read_text())
    return hourly, daily, runs, faults


NON_ROUTINE = ("energy_waste", "low_output_waste", "efficiency_improvement")


def _fault_days(faults: list[dict], types: tuple[str, ...] = NON_ROUTINE) -> dict[str, set]:
    """Days with an injected energy fault or efficiency improvement (excluded from baseline evaluation: not
    routine operation; the alerts and savings they cause are measured elsewhere)."""
    out: dict[str, set] = {}
    for f in faults:
        if f["type"] in types:
            end = f.get("simulated_end_date") or f.get("end_date") or f["start_date"]
            out.setdefault(f["plant_id"], set()).update(pd.date_range(f["start_date"], end))
    return out


def _share(frame: pd.DataFrame, column: str) -> str:
    units = frame["units_produced"].sum()
    return f"{frame[column].sum() / units:.0%}" if units and column in frame.columns else "-"


def _days_over(predicted, frame: pd.DataFrame, tolerance: float) -> tuple[int, float]:
    """Plant-days whose actual energy exceeds the expectation by more than the alert tolerance (the energy alert
    rule, plant_assets/operations/energy_scoring.py), and the largest daily deviation."""
    daily = frame.assign(expected=predicted).groupby("production_date")[["energy_kwh", "expected"]].sum()
    deviation = daily["energy_kwh"] / daily["expected"] - 1.0
    return int((deviation > tolerance).sum()), float(deviation.abs().max())


def energy_tables(hourly: pd.DataFrame, faults: list[dict], plants: dict) -> tuple[str, str, str, dict]:
    from ml.templates import energy_baseline as energy

    waste = _fault_days(faults)
    wasted = _fault_days(faults, ("energy_waste", "low_output_waste"))  # the days an alert should flag
    clean = hourly[[d not in waste.get(p, set()) for p, d in zip(hourly["plant_id"], hourly["production_date"])]]
    baseline = energy.baseline_period_rows(clean, plants)
    # 1. Each plant's design (grain, kept variables) and its time-based holdout (last 25% of its baseline days):
    #    naive hour-of-week mean / template only / from scratch / calibrated, with the whole training part and
    #    with its first 14 days.
    rows, facts, designs = [], {"plants": {}}, {}
    for pid in sorted(plants):
        d = designs[pid] = energy.design(plants[pid], baseline)
        m, holdout, _ = energy.evaluate_candidates(d)
        facts["plants"][pid] = m
        kept = ", ".join(e.group for e in d.evidence.values() if e.kept) or "none"
        for variant in ("naive", "template", "local", "calibrated"):
            cells = [f"{_pct(m[f'{variant}_{p}cv_rmse_{d.grain}'])} / {m[f'{variant}_{p}nmbe_{d.grain}'] * 100:+.1f}%"
                     if f"{variant}_{p}cv_rmse_{d.grain}" in m else "-" for p in ("", "14d_")]
            rows.append(f"| {pid} | {d.grain} | {kept} | {variant} | " + " | ".join(cells) + f" | {'yes' if m[f'{variant}_meets_ashrae_g14'] else 'no'} |")
    table1 = "\n".join(["| plant | grain | variables kept | model | CV(RMSE) / NMBE, whole training part | first 14 days only | meets the limits |",
                        "|---|---|---|---|---:|---:|---|", *rows])
    table2 = "\n".join(
        ["| plant | group | kept | evidence |", "|---|---|---|---|"]
        + [f"| {pid} | {e.group} | {'yes' if e.kept else 'no'} | {e.reason} |" for pid, d in designs.items() for e in d.evidence.values()]
        + [f"| {pid} | {g} | not available | {why} |" for pid, d in designs.items() for g, why in d.unavailable.items()]
    )
    # 2. The production path after the baseline: the registered instance (template on the other plants'
    #    baseline periods, calibrated on the plant's whole baseline), from scratch on the same days, and the naive
    #    hour-of-week mean, on every routine day after the baseline and on the injected waste days.
    rows3 = []
    facts["after_baseline"] = {}
    for pid in sorted(plants):
        d = designs[pid]
        after_all = energy.at_grain(hourly[(hourly["plant_id"] == pid) & (hourly["production_date"] > pd.Timestamp(plants[pid].energy_baseline.end))], d.grain)
        if after_all.empty:
            continue
        routine = after_all[~after_all["production_date"].isin(waste.get(pid, set()))]
        faulty = after_all[after_all["production_date"].isin(wasted.get(pid, set()))]
        tolerance = plants[pid].alerting.energy_tolerance
        calibrated = energy.calibrate(energy.fit(d.fleet_rows, d.features), d.plant_rows)
        local = energy.fit(d.plant_rows, d.features)
        expect = {"calibrated": lambda f: energy.predict(calibrated, f), "local": lambda f: energy.predict(local, f),
                  "naive": lambda f: energy.naive_prediction(d.plant_rows, f, d.grain)}
        res = {name: {"routine": _days_over(fn(routine), routine, tolerance) if len(routine) else (0, 0.0),
                      "waste": _days_over(fn(faulty), faulty, tolerance) if len(faulty) else None} for name, fn in expect.items()}
        facts["after_baseline"][pid] = res
        for f in (f for f in faults if f["plant_id"] == pid and f["type"] == "efficiency_improvement"):
            days = after_all[after_all["production_date"].between(pd.Timestamp(f["start_date"]), pd.Timestamp(f["simulated_end_date"]))]
            measured = {name: float((fn(days) - days["energy_kwh"]).sum()) for name, fn in expect.items()}
            facts.setdefault("savings", []).append({"plant_id": pid, "days": f"{f['start_date']}..{f['simulated_end_date']}",
                                                    "injected_kwh": float(f["injected_savings_kwh"]), **measured})
        n_waste = faulty["production_date"].nunique()
        rows3.append(
            f"| {pid} | {routine['production_date'].nunique()} | {tolerance:.0%} | "
            + " | ".join(f"{res[k]['routine'][0]} ({res[k]['routine'][1] * 100:.0f}%)" for k in ("calibrated", "local", "naive"))
            + " | " + " | ".join(f"{res[k]['waste'][0]} of {n_waste}" if res[k]["waste"] else "-" for k in ("calibrated", "local", "naive")) + " |"
        )
    table3 = "\n".join([
        "| plant | routine days after the baseline | alert tolerance | false alerts (largest daily deviation): calibrated | from scratch | naive | injected waste days caught: calibrated | from scratch | naive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|", *rows3,
    ])
    savings = facts.get("savings", [])
    if savings:
        table3 += "\n\n" + "\n".join([
            "| plant | injected efficiency improvement | injected savings (truth) | measured: calibrated | from scratch | naive |",
            "|---|---|---:|---:|---:|---:|",
            *(f"| {r['plant_id']} | {r['days']} | {r['injected_kwh']:,.0f} kWh | {r['calibrated']:,.0f} kWh | {r['local']:,.0f} kWh | {r['naive']:,.0f} kWh |" for r in savings),
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
    from bench import bench_motor_real, energy_real

    real_energy = energy_real.run(quick)
    bench_motor_real.run(quick)  # writes docs/benchmarks/motor_health_real.md, its own section of BENCHMARKS.md

    per_plant = energy_facts["plants"]
    all_meet = all(m["calibrated_meets_ashrae_g14"] == 1.0 for m in per_plant.values())
    beats_naive = [pid for pid, m in per_plant.items() if m["calibrated_gain_over_naive_points"] > 0]
    after = energy_facts["after_baseline"]
    false_alerts = {k: sum(r[k]["routine"][0] for r in after.values()) for k in ("calibrated", "local", "naive")}
    cal = motor_facts["calibrated"]
    return f"""## ML: common templates, per-plant calibration (bench/bench_ml.py)

Data: the simulator's 3 demo plants x 28 days (2026-09-07 .. 2026-10-04) through the pipeline up to the
marts in a temp home ({'built beforehand, reused via PLANT_ASSETS_BENCH_ML_HOME' if built < 5 else f'{built:.0f} s to build'}). Energy metrics are CV(RMSE) and NMBE at each model's
grain (the demo plants meter hourly: ASHRAE Guideline 14 hourly limits 30 % and +/-10 %); positive NMBE = the
model under-predicts. Non-routine days (injected energy waste, efficiency improvement) are excluded from the
baseline evaluation: the alerts and savings they cause are measured below. The demo's onboarding case: **plant_a
launches its product family `heavy` on day 14** (2026-09-21, the day after its 14-day baseline); plant_c makes
`standard` and `heavy` from day 0, plant_b its own families `can_12oz` / `can_24oz` (free names: a family is
shared across plants only by name).

How a plant is onboarded, and so how it is evaluated: the template for plant P is the template as it stood
before P joined, fit on the **other** plants (leave-one-plant-out); "from scratch" is the same model family trained
on P's days only; P's instance (calibrated, template v3.1) is that from-scratch fit plus the template's effect of
every kept variable P's days hold constant while the fleet saw it vary (plant_a's `units_heavy` before the launch,
kept on the fleet's evidence), distilled into the same booster. The template is additive (one split with linear
leaves per boosting round, `num_leaves: 2`), so that effect is one function of one variable. Where P shows no such
variable, calibrated and from scratch are the same model. Up to v3.0 the instance was the template boosted further
on P's days; where the fleet's effects were wrong for P, the fleet's split of energy between units and running
time won over P's own evidence (the e2e low-output waste day: -9.8 % where the truth is +14.2 %).

### Energy baseline: design and evaluation per plant (time-based holdout of each plant's baseline period)
The last 25% of each baseline period's days are the holdout; calibrated and from scratch see the first 75% (or
only its first 14 days); template only never saw the plant; naive = the baseline's mean energy for the same hour
of week (the yardstick a model must beat). Grain and variables are chosen from each plant's data
(ml/templates/_energy_variables.py).

{table1}

Calibrated meets its limits on every plant: **{'yes' if all_meet else 'NO'}**; beats the naive hour-of-week mean on:
**{', '.join(beats_naive) or 'no plant'}**.

#### Relevant variables, kept and dropped (ISO 50006), per plant

{table2}

### Energy baseline after go-live: the production path on the rest of the window
The registered instance against from scratch and the naive mean on every day after the baseline. Energy alerts
fire when actual energy exceeds the expectation by more than the plant's tolerance. False alerts on routine
days: calibrated {false_alerts['calibrated']}, from scratch {false_alerts['local']}, naive {false_alerts['naive']}.

{table3}

## Energy baseline on a real plant and on an energy-only plant (bench/energy_real.py)

The Melbourne wastewater treatment plant's real daily log (../shared/datasets/real_plants/melbourne_wwtp:
energy, inflow, pollutant concentrations, air temperature; its pollutant loads are concentration x inflow),
and a simulated energy-only plant (a site meter and an outdoor temperature, a weekly rhythm of shifts and a
heating load). The template decides grain and variables from each plant's own baseline; the fleet it is fit
on for "template only" is synthetic here (tests/ml_fixtures.py): the real plant has no real neighbour.

{real_energy}

### Motor health: the demo's degrading motor (28 days, every motor of the 3 plants)
Template = spread of the per-motor standardized features on the pooled healthy reference days;
calibrated = the plant's own reference days shrunk towards it; local = the plant's reference days only.
Alert rule: score > 6 sigmas on 2 consecutive days, or ISO 20816-3 zone D.

{motor_table}

The calibrated detector first alerts on {cal['first_alert']}, **{cal['lead_time_days']:.0f} days before the failure**, with
{cal['false_alert_motors']:.0f} healthy motors alerted over the window.

## Motor health on real run-to-failure and anomaly sets (bench/bench_motor_real.py)

Measured in this run and written as a section of its own: "Motor health on real data" below
(docs/benchmarks/motor_health_real.md).

### Motor health on AI4I 2020

{ai4i_table}

### Quality: scrap share per run (holdout MAE, percentage points of scrap share)

{quality_table}

_Energy evaluation took {energy_s:.1f} s (LightGBM, 1 thread)._
"""


if __name__ == "__main__":
    print(run(quick=True))
