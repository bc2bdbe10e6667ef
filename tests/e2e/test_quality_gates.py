"""Faults injected into otherwise clean demo exports: the right gate fails, the plant-day is not built
downstream, and the central team finds an incident row. Runs last: it changes the shared e2e state."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pyarrow.parquet as pq
import pytest

from plant_assets.core import lake as lake_paths

pytestmark = [pytest.mark.e2e, pytest.mark.mutates_session]


def _rewrite(path, transform):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(transform(lines)), encoding="utf-8")


def pi_stuck_current(lines):
    """RHF.L1.M1.CUR repeats one value from 06:00 to 12:00 local."""
    out = []
    for line in lines:
        parts = line.rstrip("\r\n").split(",")
        if parts[0] == "RHF.L1.M1.CUR" and "06:00:00" <= parts[1][-8:] <= "12:00:00":
            parts[2], parts[3] = "42.0", "Good"
            line = ",".join(parts) + "\n"
        out.append(line)
    return out


def pi_out_of_range_vibration(lines):
    out, hit = [], 0
    for line in lines:
        parts = line.rstrip("\r\n").split(",")
        if parts[0] == "RHF.L2.M1.VIB_RMS" and hit < 10:
            parts[2], hit = "999", hit + 1
            line = ",".join(parts) + "\n"
        out.append(line)
    return out


def aveva_energy_unit_change(lines):
    """From noon the L1 meter reports kWh in the MWh column: a unit change mid-day."""
    header = lines[0].rstrip("\r\n").split(",")
    column = header.index("CF_L1_PowerMeter_MWh")
    out = [lines[0]]
    for line in lines[1:]:
        parts = line.rstrip("\r\n").split(",")
        if parts[0][11:19] >= "12:00:00" and parts[column]:
            parts[column] = f"{float(parts[column]) * 1000:.3f}"
        out.append(",".join(parts) + "\n")
    return out


def aveva_duplicated_rows(lines):
    return lines + lines[1:301]


def ignition_quality_storm(lines):
    """Every third row loses data integrity (a failing OPC connection)."""
    header = lines[0].rstrip("\r\n").split(",")
    column = header.index("dataintegrity")
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        parts = line.rstrip("\r\n").split(",")
        if i % 3 == 0:
            parts[column] = "0"
        out.append(",".join(parts) + "\n")
    return out


# fault -> (plant, day offset, how, gate layer that must fail (None: must pass), metric it must name)
FAULTS = {
    "stuck_sensor": ("plant_a", 2, pi_stuck_current, "canonical", "longest_flat_minutes"),
    "out_of_range": ("plant_a", 3, pi_out_of_range_vibration, "canonical", "out_of_range_share"),
    "unit_change_mid_day": ("plant_b", 4, aveva_energy_unit_change, "canonical", "level_shift"),
    "quality_code_storm": ("plant_c", 5, ignition_quality_storm, "raw", "good_share"),
    "missing_day": ("plant_c", 6, "delete", "raw", None),
    "duplicated_rows": ("plant_b", 7, aveva_duplicated_rows, None, None),
}


@pytest.fixture(scope="module")
def injected(e2e_run):
    from plant_assets.definitions import defs
    from plant_assets.defs.partitions import plant_day_key
    from plant_assets.defs.run_window import range_tags

    plants, landing, instance = e2e_run["plants"], e2e_run["settings"].landing_dir, e2e_run["instance"]
    checks = {}
    for name, (plant_id, offset, how, _, _) in FAULTS.items():
        plant, day = plants[plant_id], e2e_run["first_day"] + timedelta(days=offset)
        export = plant.landing_path(landing) / plant.historian.file_pattern.format(date=day)
        if how == "delete":  # a day never delivered: no export and no partition (a re-run keeps an ingested day)
            export.unlink()
            lake = e2e_run["settings"].lake_dir
            for path in (lake_paths.accepted_path(lake, "historian", plant_id, day),
                         lake_paths.quarantine_path(lake, "historian", plant_id, day),
                         lake_paths.reconciliation_path(lake, "historian", plant_id, day)):
                path.unlink()
        else:
            _rewrite(export, how)
        result = defs.resolve_job_def("ingest_plant_day").execute_in_process(
            instance=instance, partition_key=str(plant_day_key(plant_id, day)), raise_on_error=False
        )
        checks[name] = {
            e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        }
    # the days with a fault, rebuilt in one run (the other days keep what the session's run built)
    offsets = [offset for _, offset, *_ in FAULTS.values()]
    first, last = (e2e_run["first_day"] + timedelta(days=min(offsets)), e2e_run["first_day"] + timedelta(days=max(offsets)))
    standardize = defs.resolve_job_def("standardize_and_act")
    result = standardize.execute_in_process(instance=instance, tags=range_tags(first, last), raise_on_error=False)
    return {"checks": checks, "standardize": result, **e2e_run}


def _day(run, offset):
    return run["first_day"] + timedelta(days=offset)


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_right_gate_fails(injected, fault):
    plant_id, offset, _, layer, metric = FAULTS[fault]
    checks = injected["checks"][fault]
    gate = pq.read_table(
        injected["settings"].lake_dir / "gates" / f"plant_id={plant_id}" / f"production_date={_day(injected, offset)}"
        / f"{layer or 'canonical'}.parquet"
    ).to_pylist()[0]
    if layer is None:
        assert {"raw_historian_gate", "canonical_signals_gate"} <= set(checks) and all(checks.values()), checks
        return
    check_name = {"raw": "raw_historian_gate", "canonical": "canonical_signals_gate"}[layer]
    assert checks[check_name] is False, checks
    assert gate["passed"] is False
    if metric:
        assert metric in {f["column"] for f in json.loads(gate["failed_expectations"])}, gate["failed_expectations"]


@pytest.mark.parametrize("fault", sorted(f for f in FAULTS if FAULTS[f][3]))
def test_failed_plant_day_is_not_built_downstream_and_has_an_incident(injected, fault):
    plant_id, offset, _, layer, _ = FAULTS[fault]
    day = _day(injected, offset)
    with duckdb.connect(str(injected["settings"].duckdb_path), read_only=True) as con:
        kpis = con.execute(
            "select count(*) from marts.kpi_daily where plant_id = ? and production_date = ? and kpi = 'energy_kwh'",
            [plant_id, day],
        ).fetchone()[0]
        scored = con.execute(
            "select count(*) from actions.energy_performance where plant_id = ? and production_date = ?", [plant_id, day]
        ).fetchone()[0]
        incidents = con.execute(
            "select count(*) from marts.data_quality_incidents where plant_id = ? and production_date = ? and layer = ?",
            [plant_id, day, layer],
        ).fetchone()[0]
        others = con.execute(
            "select count(distinct plant_id) from marts.kpi_daily where production_date = ? and plant_id <> ?",
            [day, plant_id],
        ).fetchone()[0]
    assert kpis == 0 and scored == 0
    assert incidents >= 1
    assert others == 2  # one bad plant never stops the others


def test_duplicates_are_quarantined_not_lost(injected):
    plant_id, offset, *_ = FAULTS["duplicated_rows"]
    lake = injected["settings"].lake_dir
    day = _day(injected, offset)
    quarantine = pq.read_table(lake / "quarantine" / f"plant_id={plant_id}" / f"production_date={day}" / "historian.parquet")
    assert set(quarantine["reason_code"].to_pylist()) == {"duplicate"}
    recon = pq.read_table(lake / "reconciliation" / f"plant_id={plant_id}" / f"production_date={day}" / "historian.parquet")
    row = recon.to_pylist()[0]
    assert row["raw_records"] == row["accepted_records"] + row["quarantined_records"]
    assert row["quarantined_records"] == 300 * 21  # 300 repeated lines x 21 tag cells


def test_standardize_run_after_faults_still_succeeds(injected):
    assert injected["standardize"].success
