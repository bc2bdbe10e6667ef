"""Lab quality on the 3 simulated plants against the simulator's truth (reuses e2e_run).

Nothing is lost between the lab export and the mart (ingest quarantines no demo row), so per plant-day,
line, product and characteristic the sample count and out-of-spec count are exact and mean, sd, Cp and Cpk
agree to 1e-9 (float summation order only). The day KPIs (pooled share out of spec, lowest Cpk) are
recomputed from the truth with the same rules and agree to 1e-9 too.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

TOLERANCE = 1e-9
MIN_SAMPLES = 5  # dbt var lab_cpk_min_samples
KEYS = ["plant_id", "production_date", "line_id", "product_code", "characteristic"]


def _query(e2e_run, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(e2e_run["settings"].duckdb_path), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def lab(e2e_run):
    truth = pd.read_csv(e2e_run["settings"].truth_dir / "lab_daily.csv")
    last = e2e_run["last_day"].isoformat()
    truth = truth[truth["production_date"] <= last]
    mart = _query(e2e_run, "select * from marts.fct_lab_quality")
    mart["production_date"] = mart["production_date"].astype(str)
    return truth, mart


def test_lab_quality_per_group_matches_truth(e2e_run, lab):
    truth, mart = lab
    merged = truth.merge(mart, on=KEYS, how="outer", suffixes=("_truth", ""), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"][KEYS + ["_merge"]]
    assert (merged["samples"] == merged["samples_truth"]).all()
    assert (merged["out_of_spec_samples"] == merged["out_of_spec"]).all()
    assert ((merged["mean_value"] - merged["mean"]).abs() < TOLERANCE).all()
    assert ((merged["sd_value"] - merged["sd"]).abs().fillna(0) < TOLERANCE).all()
    enough = merged["samples"] >= MIN_SAMPLES
    assert ((merged.loc[enough, "cpk"] - merged.loc[enough, "cpk_truth"]).abs() < TOLERANCE).all()
    assert ((merged.loc[enough, "cp"] - merged.loc[enough, "cp_truth"]).abs() < TOLERANCE).all()
    assert merged.loc[~enough, "cpk"].isna().all()
    # the marginal process of the demo (plant_b CAN-24OZ seam thickness, process Cpk 0.87) shows
    seam = merged[(merged["plant_id"] == "plant_b") & (merged["characteristic"] == "seam_thickness")]
    assert seam["out_of_spec_samples"].sum() > 0
    assert 0.6 < seam.loc[seam["samples"] >= 20, "cpk"].median() < 1.2
    capable = merged[merged["characteristic"] == "fill_volume"]
    assert capable["out_of_spec_samples"].sum() == 0
    print("lab groups:", len(merged), "values:", int(merged["samples"].sum()),
          "out of spec:", int(merged["out_of_spec_samples"].sum()),
          "seam Cpk median:", round(float(seam["cpk"].median()), 3))


def test_lab_day_kpis_match_truth(e2e_run, lab):
    truth, _ = lab
    truth = truth.assign(cpk=truth["cpk"].where(truth["samples"] >= MIN_SAMPLES))
    want = truth.groupby(["plant_id", "production_date"]).agg(
        lab_sample_count=("samples", "sum"), out=("out_of_spec", "sum"), cpk_min=("cpk", "min"))
    want["out_of_spec_share"] = want["out"] / want["lab_sample_count"]
    got = _query(e2e_run, "select plant_id, production_date, lab_sample_count, out_of_spec_share, cpk_min "
                          "from marts.kpi_daily_wide where lab_sample_count is not null")
    got["production_date"] = got["production_date"].astype(str)
    got = got.set_index(["plant_id", "production_date"]).sort_index()
    want = want.sort_index()
    assert list(got.index) == list(want.index)
    assert (got["lab_sample_count"] == want["lab_sample_count"]).all()
    for kpi in ("out_of_spec_share", "cpk_min"):
        assert ((got[kpi] - want[kpi]).abs() < TOLERANCE).all(), kpi
    catalog = set(_query(e2e_run, "select kpi from marts.dim_kpi")["kpi"])
    assert {"lab_sample_count", "out_of_spec_share", "cpk_min"} <= catalog


def test_lab_ingest_reconciles_without_quarantine(e2e_run):
    report = e2e_run["report"]
    assert not report.ingest_failures, report.ingest_failures
    lake = e2e_run["settings"].lake_dir
    with duckdb.connect() as con:
        recon = con.execute(
            "select sum(raw_records), sum(accepted_records), sum(quarantined_records) from read_parquet(?)",
            [f"{lake}/reconciliation/*/*/lab_results.parquet"],
        ).fetchone()
    assert recon[0] == recon[1] + recon[2] and recon[0] > 0 and recon[2] == 0
