"""The shared KPI marts on the 3 simulated plants against the simulator's ground truth (reuses e2e_run).

Tolerances, each from what the data supports (measured 2026-12-05): OEE components within 0.2 percentage
point of truth (measured: availability exact, performance 0.077 pp, quality ratio 0.062 pp, OEE 0.074 pp:
the counter is read at sampled instants, the truth counts every unit); downtime minutes exact (MES events
are minute-aligned); the motor's daily vibration mean within 1.5 % of truth on every motor-day (measured
0.89 %: the export samples the signal), and its zone exact except on boundary days (truth mean within 3 %
of a zone boundary: 12 of 180 motor-days), where the numeric check still applies.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

OEE_TOLERANCE = 0.002  # 0.2 percentage point
VIBRATION_TOLERANCE = 0.015  # relative, daily mean vibration
BOUNDARY_BAND = 0.03  # a motor-day whose true mean is within 3 % of a zone boundary may land either side


def _query(e2e_run, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(e2e_run["settings"].duckdb_path), read_only=True) as con:
        return con.execute(sql).df()


def _daily(e2e_run) -> pd.DataFrame:
    kpis = _query(e2e_run, "select * from marts.kpi_daily_wide")
    kpis["production_date"] = pd.to_datetime(kpis["production_date"])
    truth = e2e_run["truth_daily"]
    merged = truth.merge(kpis, on=["plant_id", "production_date"], suffixes=("_truth", ""), how="left")
    assert len(merged) == len(truth) and merged["oee"].notna().all(), merged[merged["oee"].isna()]
    return merged


def test_oee_components_match_truth_within_one_point(e2e_run):
    merged = _daily(e2e_run)
    errors = {}
    for kpi in ("availability", "performance", "quality_ratio", "oee"):
        error = (merged[kpi] - merged[f"{kpi}_truth"]).abs()
        errors[kpi] = error.max()
        worst = merged.loc[error.idxmax(), ["plant_id", "production_date", kpi, f"{kpi}_truth"]].to_dict()
        assert error.max() < OEE_TOLERANCE, f"{kpi} off by {error.max():.4f} at {worst}"
    print("max abs error vs truth:", {k: round(v, 5) for k, v in errors.items()})
    # the time model behind availability: APT = running minutes, PBT = busy minutes, exactly
    # (the truth's running_min is suffixed: kpi_daily_wide has a running_min KPI, absent for MES plants)
    assert (merged["actual_production_time_min"] == merged["running_min_truth"]).all()
    assert (merged["planned_busy_time_min"] == merged["planned_busy_min"]).all()
    # scrap ratio and first pass yield are the complement / copy of the quality ratio
    assert ((merged["scrap_ratio"] + merged["quality_ratio"] - 1).abs() < 1e-9).all()


def test_downtime_minutes_match_truth(e2e_run):
    merged = _daily(e2e_run)
    for kpi in ("unplanned_downtime_min", "planned_downtime_min"):
        error = (merged[kpi] - merged[f"{kpi}_truth"]).abs()
        print(f"{kpi}: max abs error {error.max()} min")
        assert error.max() == 0, merged.loc[error.idxmax(), ["plant_id", "production_date", kpi, f"{kpi}_truth"]]
    assert (merged["unplanned_stop_count"] > 0).any()
    assert (merged["mttr_min"].dropna() > 0).all()


def test_motor_zone_per_day_matches_truth_except_boundary_days(e2e_run):
    truth = pd.read_csv(e2e_run["settings"].truth_dir / "motor_daily.csv", parse_dates=["production_date"])
    truth = truth[truth["zone"].notna()]
    health = _query(
        e2e_run,
        """
        select h.plant_id, h.motor_id, h.production_date, h.zone, h.vibration_mean_mms,
               a.ab_boundary_mms, a.bc_boundary_mms, a.cd_boundary_mms
        from marts.fct_motor_health as h
        join marts.dim_asset as a on a.plant_id = h.plant_id and a.asset_id = h.motor_id
        """,
    )
    health["production_date"] = pd.to_datetime(health["production_date"])
    merged = truth.merge(health, on=["plant_id", "motor_id", "production_date"], suffixes=("_truth", ""), how="left")
    assert merged["zone"].notna().all(), merged[merged["zone"].isna()]
    boundaries = merged[["ab_boundary_mms", "bc_boundary_mms", "cd_boundary_mms"]].to_numpy()
    distance = (abs(boundaries - merged[["vibration_mean_mms_truth"]].to_numpy()) / boundaries).min(axis=1)
    on_boundary = distance < BOUNDARY_BAND
    vib_error = (merged["vibration_mean_mms"] / merged["vibration_mean_mms_truth"] - 1).abs()
    print(f"motor-days on a boundary: {int(on_boundary.sum())} of {len(merged)}; vibration mean max relative error {vib_error.max():.3e}")
    assert merged["vibration_mean_mms"].notna().all() and vib_error.max() < VIBRATION_TOLERANCE
    wrong = merged[(merged["zone"] != merged["zone_truth"]) & ~on_boundary]
    assert wrong.empty, wrong[["plant_id", "motor_id", "production_date", "zone", "zone_truth", "vibration_mean_mms", "vibration_mean_mms_truth"]]
    # the degrading motor turns yellow and red on the days the truth says
    degradation = next(f for f in e2e_run["faults"] if f["type"] == "motor_degradation")
    motor = merged[(merged["plant_id"] == degradation["plant_id"]) & (merged["motor_id"] == degradation["motor_id"])]
    assert set(motor["zone"]) >= {"C", "D"}
    for worst in ("C", "D"):  # the first day at or beyond each zone, as the truth dates it
        reached = motor[motor["zone"] >= worst]["production_date"].min()
        reached_truth = motor[motor["zone_truth"] >= worst]["production_date"].min()
        tolerance = pd.Timedelta(days=1 if on_boundary[motor.index].any() else 0)
        assert abs(reached - reached_truth) <= tolerance, (worst, reached, reached_truth)


def test_baseline_normalized_enpi_flags_the_energy_waste(e2e_run):
    enpi = _query(e2e_run, "select plant_id, production_date, enpi_normalized, in_baseline from marts.fct_enpi_daily")
    enpi["production_date"] = pd.to_datetime(enpi["production_date"])
    waste = next(f for f in e2e_run["faults"] if f["type"] == "energy_waste")
    days = pd.date_range(waste["start_date"], waste["simulated_end_date"])
    plant = enpi[enpi["plant_id"] == waste["plant_id"]]
    wasted = plant[plant["production_date"].isin(days)]
    clean = plant[~plant["production_date"].isin(days)]
    assert len(wasted) == len(days) and enpi["enpi_normalized"].notna().all()
    assert wasted["enpi_normalized"].min() > 1.1 > clean["enpi_normalized"].max()
    baseline = enpi[enpi["in_baseline"]]
    assert (baseline.groupby("plant_id")["enpi_normalized"].mean() - 1).abs().max() < 0.02  # OLS: mean residual 0


def test_cross_plant_benchmark_and_catalog(e2e_run):
    bench = _query(e2e_run, "select * from marts.fct_cross_plant_benchmark")
    assert set(bench["plant_id"]) == {"plant_a", "plant_b", "plant_c"}
    assert set(bench["kpi"]) == {"kwh_per_unit", "enpi_normalized", "availability", "performance", "quality_ratio", "oee"}
    assert (bench["coverage"] == 1).all() and not bench["low_coverage"].any()  # all 12 days of all plants
    assert not bench["baseline_differs"].any()  # the e2e plants share one baseline period
    assert (bench["comparable"] == ~(bench["low_coverage"] | bench["baseline_differs"] | bench["product_mix_differs"])).all()
    catalog = _query(e2e_run, "select kpi, mart from marts.dim_kpi")
    in_daily = set(_query(e2e_run, "select distinct kpi from marts.kpi_daily")["kpi"])
    assert in_daily <= set(catalog["kpi"])
    assert {"oee", "availability", "performance", "quality_ratio", "enpi_normalized", "motor_health"} <= set(catalog["kpi"])


def test_the_built_warehouse_publishes_to_the_analysts_file(e2e_run, tmp_path):
    from plant_assets.standardize.analyst_copy import publish_warehouse

    target = tmp_path / "analyst.duckdb"
    result = publish_warehouse(e2e_run["settings"].duckdb_path, target)
    assert all(n > 0 for n in result.row_counts.values())
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("select count(*) from marts.kpi_daily").fetchone()[0] == result.row_counts["marts.kpi_daily"]


def test_the_nightly_run_publishes_kpis_and_actions_together(e2e_run):
    """The analyst file is published after the last action asset: alerts, savings and the scorecard are in it."""
    with duckdb.connect(str(e2e_run["settings"].analyst_duckdb_path), read_only=True) as con:
        tables = {f"{s}.{t}" for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()}
    assert {"marts.kpi_daily", "marts.fct_lab_quality", "actions.alerts", "actions.energy_savings",
            "actions.rollout_scorecard"} <= tables


def test_every_query_in_the_analysts_guide_runs_on_the_published_file(e2e_run):
    """docs/analysts.md is what analysts copy: each of its SQL examples must run on the analyst file as written."""
    import re

    from plant_assets.core.settings import REPO_ROOT

    guide = (REPO_ROOT / "docs" / "analysts.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", guide, flags=re.S)
    assert len(queries) >= 5
    failures = []
    with duckdb.connect(str(e2e_run["settings"].analyst_duckdb_path), read_only=True) as con:
        for query in queries:
            try:
                con.execute(query).fetchall()
            except duckdb.Error as error:
                failures.append(f"{query.strip().splitlines()[0]} ...: {error}")
    assert not failures, failures
