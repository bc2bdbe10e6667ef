"""The crash bench's own machinery (bench/bench_crash.py): its setup must make the reference run raise an alert
(an empty alerts comparison proves nothing), a kill from outside must take the whole process group as a power
cut would, and the analysts' file check must tell a readable file from an unreadable or empty one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from bench import bench_crash


def test_the_bench_fault_is_simulated_on_the_last_day(tmp_path: Path) -> None:
    home, env = bench_crash._home(tmp_path)
    assert bench_crash._cli(env, "simulate", "--start", bench_crash.FIRST, "--days", "5")[0] == 0
    faults = json.loads((home / "truth" / "faults.json").read_text())
    assert [(f["type"], f["start_date"], f["end_date"]) for f in faults] == [("energy_waste", "2026-09-11", "2026-09-11")]
    assert faults[0]["injected_waste_kwh"] > 0


def test_a_kill_takes_the_whole_process_group(tmp_path: Path) -> None:
    # the leader starts a child that would outlive it; the child writes its pid so the test can look for it
    child_pid = tmp_path / "child.pid"
    script = ("import subprocess, time; "
              f"p = subprocess.Popen(['sleep', '60']); open({str(child_pid)!r}, 'w').write(str(p.pid)); time.sleep(60)")
    code, killed, survivors = bench_crash._kill_after([sys.executable, "-c", script], {}, 1.5, tmp_path / "out")
    assert (code, killed, survivors) == (-9, True, 0)
    pid = int(child_pid.read_text())
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_a_command_that_ends_first_is_not_killed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert bench_crash._kill_after([sys.executable, "-c", "print('done')"], {}, 30, out) == (0, False, 0)
    assert out.read_text() == "done\n"


def test_the_analysts_file_check(tmp_path: Path) -> None:
    assert bench_crash._analyst_file(tmp_path) == "absent"
    (tmp_path / "analyst.duckdb").write_bytes(b"half a copy" * 100)
    assert bench_crash._analyst_file(tmp_path).startswith("**UNREADABLE**")
    (tmp_path / "analyst.duckdb").unlink()
    with duckdb.connect(str(tmp_path / "analyst.duckdb")) as con:
        con.execute("create schema marts; create table marts.kpi_daily (plant_id varchar)")
    assert bench_crash._analyst_file(tmp_path) == "**EMPTY marts.kpi_daily**"
    with duckdb.connect(str(tmp_path / "analyst.duckdb")) as con:
        con.execute("insert into marts.kpi_daily values ('plant_a'), ('plant_b')")
    assert bench_crash._analyst_file(tmp_path) == "ok, 2 KPI rows"


def test_recovery_lines_are_counted_and_shortened() -> None:
    # lines as plant_assets/defs/recovery.py prints them, among the CLI's other output
    out = ("dbt, MLflow and Dagster log to /tmp/x.log\n"
           "recovered run 084114de-5b1a-4a8e-9a43-0f3c1b7d2e11 (train_models, process vm pid 4242 gone): marked failed, "
           "freed pool(s) warehouse\n"
           "marked MLflow run cefa1e24c0ffee FAILED: its process is gone\n"
           "deleted model version energy_baseline.plant_a v1: registered by a training that died before tagging it\n"
           "9 Dagster runs recorded.\n")
    lines = bench_crash._recovery(out)
    assert len(lines) == 3
    assert bench_crash._summary_of(lines) == ("train_models run marked failed; MLflow run marked FAILED; "
                                              "version energy_baseline.plant_a v1 deleted")
    assert bench_crash._summary_of([]) == "none"
