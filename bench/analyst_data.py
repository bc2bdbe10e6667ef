"""The analyst benchmark's data: one year x 50 plants of marts, without simulating a year.

The real pipeline (simulator, ingest, gates, dbt, training, scoring, publish) runs once for the demo
plants over one week in a temp home; `scale_warehouse` then copies the published analyst file and
replicates the rows of every plant-and-day table: 50 plant ids (each a copy of one demo plant) x
the week shifted back by whole weeks until a year is covered, so weekdays and the weekly pattern
stay as simulated. Set PLANT_ASSETS_BENCH_ANALYST_HOME to reuse a built home.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
FIRST_DAY, WINDOW_DAYS = date(2026, 9, 7), 7  # a Monday: the window is one whole week
REPLICATED_SCHEMAS = ("marts", "actions")  # what analysts query; staging/intermediate stay as built
DAY_GRAIN, MONTH_GRAIN = "production_date", "month"
TIME_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


@dataclass
class ScaledWarehouse:
    path: Path
    plants: int
    days: int
    source_plants: list[str]
    source_rows: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size


def build_demo_week(home: Path) -> Path:
    """Run the real pipeline for the demo plants over one week (subprocess: the code location reads
    its paths from the environment at import). Returns the published analyst file."""
    from plant_assets.scaleout.demo import home_env, prepare_inputs

    analyst = home / "home" / "analyst.duckdb"
    if (home / "done").exists():
        return analyst
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    plants_dir, landing, _ = prepare_inputs(home, None, FIRST_DAY, WINDOW_DAYS)
    env = home_env(home / "home", plants_dir, landing)
    shutil.copy(ROOT / "dagster.yaml", Path(env["DAGSTER_HOME"]) / "dagster.yaml")
    last_day = FIRST_DAY + timedelta(days=WINDOW_DAYS - 1)
    cmd = [sys.executable, "-m", "plant_assets.scaleout", "run", "--mode", "single", "--first-day",
           FIRST_DAY.isoformat(), "--last-day", last_day.isoformat(), "--out", str(home / "run.json")]
    completed = subprocess.run(cmd, env=os.environ | env, cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0 or not analyst.exists():
        raise RuntimeError(f"demo week failed ({completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    (home / "done").write_text("ok")
    return analyst


def _columns(con, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = 'src' and schema_name = ? "
        "and table_name = ? order by column_index", [schema, table]
    ).fetchall()


def _select_list(columns: list[tuple[str, str]], moved) -> str:
    """The source columns with the plant renamed (also inside ids and paths, e.g. asset_key) and the
    time columns moved by `moved(quoted column, name, type)` (None: keep)."""
    parts = []
    for name, kind in columns:
        quoted = f't."{name}"'
        if name == "plant_id":
            expression = "m.new_plant"
        elif kind == "VARCHAR":
            expression = f"replace({quoted}, m.source_plant, m.new_plant)"
        else:
            expression = moved(quoted, name, kind) or quoted
        parts.append(f'{expression} as "{name}"')
    return ", ".join(parts)


def _week_shift(quoted: str, name: str, kind: str) -> str | None:
    # baseline_* dates are plant configuration (the baseline period), not event times: they stay.
    if kind not in TIME_TYPES or name.startswith("baseline_"):
        return None
    return f"({quoted} - k * {WINDOW_DAYS})" if kind == "DATE" else f"({quoted} - to_days(k * {WINDOW_DAYS}))"


def _month_shift(quoted: str, name: str, kind: str) -> str | None:
    return f"({quoted} - to_months(k))::date" if name == MONTH_GRAIN else None


def _replicate(con, schema: str, table: str, last_day: date, days: int) -> None:
    columns = _columns(con, schema, table)
    names = {name for name, _ in columns}
    target = f'"{schema}"."{table}"'
    source = f"src.{target} as t join plant_map as m on t.plant_id = m.source_plant"
    if "plant_id" not in names:  # dim_kpi, the time spine
        con.execute(f"insert into {target} select * from src.{target}")
    elif DAY_GRAIN in names:
        # The week shifted back by whole weeks (k = 0, 1, ...): same weekdays; rows in nightly-append order.
        shifted_day = f"t.{DAY_GRAIN} - k * {WINDOW_DAYS}"
        con.execute(
            f"insert into {target} select {_select_list(columns, _week_shift)} from {source} "
            f"cross join (select range::integer as k from range({days // WINDOW_DAYS + 1})) as w "
            f"where {shifted_day} > date '{last_day}' - {days} order by {shifted_day}, m.new_plant"
        )
    elif MONTH_GRAIN in names:
        # Month grain (the cross-plant benchmark): the demo month over the 12 months up to it, ranked
        # again across all plants.
        rank = " replace (rank() over (partition by month, kpi order by value desc) as rank_desc)" if "rank_desc" in names else ""
        con.execute(
            f"insert into {target} select *{rank} from (select {_select_list(columns, _month_shift)} from {source} "
            f"cross join (select range::integer as k from range(12)) as w) order by month, plant_id"
        )
    else:  # per plant (dim_asset, rollout_scorecard): one copy per plant id
        con.execute(f"insert into {target} select {_select_list(columns, lambda *_: None)} from {source} order by m.new_plant")


def scale_warehouse(source: Path, target: Path, plants: int = 50, days: int = 365) -> ScaledWarehouse:
    """Copy `source` to `target` with every plant-and-day table of marts/actions replicated to
    `plants` x `days`; views are copied as views and so read the replicated tables."""
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    con.execute(f"attach '{source}' as src (read_only)")
    database = con.execute("select current_database()").fetchone()[0]
    con.execute(f'copy from database src to "{database}" (schema)')  # schemas, tables, views; no rows
    source_plants = [r[0] for r in con.execute("select distinct plant_id from src.marts.kpi_daily order by 1").fetchall()]
    last_day = con.execute("select max(production_date) from src.marts.kpi_daily").fetchone()[0]
    con.execute("create temp table plant_map as select printf('p%03d', i) as new_plant, "
                "($sources)[(i - 1) % len($sources) + 1] as source_plant from range(1, $n + 1) as r(i)",
                {"sources": source_plants, "n": plants})
    result = ScaledWarehouse(path=target, plants=plants, days=days, source_plants=source_plants)
    tables = con.execute("select schema_name, table_name from duckdb_tables() where database_name = 'src' order by 1, 2").fetchall()
    for schema, table in tables:
        name = f"{schema}.{table}"
        result.source_rows[name] = con.execute(f'select count(*) from src."{schema}"."{table}"').fetchone()[0]
        if not result.source_rows[name]:
            pass  # empty in the demo (no alerts raised, no savings yet): nothing to replicate
        elif schema in REPLICATED_SCHEMAS:
            _replicate(con, schema, table, last_day, days)
        else:
            con.execute(f'insert into "{schema}"."{table}" select * from src."{schema}"."{table}"')
        result.rows[name] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    con.execute("detach src")
    con.execute("checkpoint")
    con.close()
    return result


def storage_mib_by_schema(path: Path) -> dict[str, float]:
    """MiB of the file's 256 KiB blocks per schema (a block shared by two small tables counts twice)."""
    with duckdb.connect(str(path), read_only=True) as con:
        block = con.execute("select block_size from pragma_database_size()").fetchone()[0]
        sizes: dict[str, float] = {}
        for schema, table in con.execute("select schema_name, table_name from duckdb_tables()").fetchall():
            blocks = con.execute(f"select count(distinct block_id) from pragma_storage_info('{schema}.{table}') "
                                 "where persistent").fetchone()[0]
            sizes[schema] = sizes.get(schema, 0.0) + blocks * block / 2**20
    return sizes


def check_plausible(scaled: ScaledWarehouse) -> dict[str, object]:
    """The replicated file looks like a year of 50 plants; raises if not."""
    with duckdb.connect(str(scaled.path), read_only=True) as con:
        plants, days, first, last = con.execute(
            "select count(distinct plant_id), count(distinct production_date), min(production_date), max(production_date) "
            "from marts.kpi_daily").fetchone()
        wide_rows = con.execute("select count(*) from marts.kpi_daily_wide").fetchone()[0]
        hourly_plants = con.execute("select count(distinct plant_id) from marts.fct_line_energy_hourly").fetchone()[0]
        months = con.execute("select count(distinct month) from marts.fct_cross_plant_benchmark").fetchone()[0]
    facts = {"plants": plants, "days": days, "first_day": first, "last_day": last, "wide_rows": wide_rows,
             "hourly_plants": hourly_plants, "benchmark_months": months}
    expected = {"plants": scaled.plants, "days": scaled.days, "wide_rows": scaled.plants * scaled.days,
                "hourly_plants": scaled.plants, "benchmark_months": 12}
    wrong = {key: (facts[key], value) for key, value in expected.items() if facts[key] != value}
    if wrong:
        raise AssertionError(f"scaled analyst warehouse is not plausible (found, expected): {wrong}")
    return facts
