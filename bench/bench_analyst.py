"""Analyst query latency (issue 8): p50/p95 of the queries analysts run, on one year x 50 plants of marts.

Data: bench/analyst_data.py (the real pipeline for the demo week, then replicated in DuckDB to 50 plants
x 365 days). Each query runs on a fresh read-only connection, as docs/analysts.md tells analysts to
connect, and again on one held connection (warm). Set PLANT_ASSETS_BENCH_ANALYST_HOME to reuse a built
demo week.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from bench.analyst_data import (
    build_demo_week,
    check_plausible,
    scale_warehouse,
    storage_mib_by_schema,
)

PLANTS, DAYS = 50, 365
TARGET_P95_MS = 1000  # issue 8 names no number; under a second still feels interactive in a notebook or DBeaver
MAIN_MARTS = ("marts.kpi_daily", "marts.fct_line_energy_hourly", "marts.fct_production_run",
              "marts.fct_motor_health_daily", "marts.fct_lab_quality", "marts.fct_enpi_daily",
              "marts.fct_cross_plant_benchmark", "actions.energy_performance")

WIDE_LAST_30 = "kpi_daily_wide, last 30 days, all plants"
# The data end on the last built day, not today: "last N days" is anchored on the newest production_date.
QUERIES = {
    WIDE_LAST_30: """
        from marts.kpi_daily_wide
        where production_date > (select max(production_date) from marts.kpi_daily) - 30
        order by production_date desc, plant_id""",
    "kWh/unit per plant and month, whole year": """
        select plant_id, date_trunc('month', production_date) as month,
               sum(value) filter (where kpi = 'energy_kwh')
                 / sum(value) filter (where kpi = 'units_produced') as kwh_per_unit
        from marts.kpi_daily
        group by all
        order by plant_id, month""",
    "OEE tree of one plant per week, one quarter": """
        with weekly as (
            select date_trunc('week', production_date) as week,
                   sum(actual_production_time_min) / sum(planned_busy_time_min)                    as a,
                   sum(performance * actual_production_time_min) / sum(actual_production_time_min) as p,
                   sum(quality_ratio * units_produced) / sum(units_produced)                        as q,
                   sum(unplanned_downtime_min)                                                      as unplanned_downtime_min
            from marts.kpi_oee_daily
            where plant_id = 'p017'
              and production_date > (select max(production_date) from marts.kpi_daily) - 91
            group by week
        )
        select week, a as availability, p as performance, q as quality_ratio, a * p * q as oee, unplanned_downtime_min
        from weekly
        order by week""",
    # the docs example: the sums in a CTE (the view's own availability / performance / quality_ratio
    # columns would shadow select aliases of the same names)
    "OEE ranking across plants, last 7 days (docs)": """
        with last_week as (
            select * from marts.kpi_oee_daily
            where production_date > (select max(production_date) from marts.kpi_oee_daily) - 7
        ), pooled as (
            select plant_id,
                   sum(actual_production_time_min) / sum(planned_busy_time_min)                    as a,
                   sum(performance * actual_production_time_min) / sum(actual_production_time_min) as p,
                   sum(quality_ratio * units_produced) / sum(units_produced)                        as q
            from last_week
            group by plant_id
        )
        select plant_id, a as availability, p as performance, q as quality_ratio, a * p * q as oee,
               rank() over (order by a * p * q desc) as oee_rank
        from pooled
        order by oee_rank""",
    "cross-plant benchmark, OEE per month (docs)": """
        select month, plant_id, value as oee, rank_desc, comparable, not_comparable_reason
        from marts.fct_cross_plant_benchmark
        where kpi = 'oee'
        order by month, rank_desc""",
    "top 10 plants by unplanned downtime, last month": """
        with last_month as (
            select date_trunc('month', max(production_date)) - interval 1 month as first_day,
                   date_trunc('month', max(production_date)) as next_month
            from marts.kpi_daily
        )
        select plant_id, sum(value) as unplanned_downtime_min
        from marts.kpi_daily, last_month
        where kpi = 'unplanned_downtime_min'
          and production_date >= first_day and production_date < next_month
        group by plant_id
        order by unplanned_downtime_min desc
        limit 10""",
    "hourly energy of one line, one week": """
        select hour_utc, energy_kwh, units_produced, running_minutes
        from marts.fct_line_energy_hourly
        where plant_id = 'p023' and line_id = 'L2'
          and hour_utc >= timestamp '2026-03-02' and hour_utc < timestamp '2026-03-09'
        order by hour_utc""",
    "motor health red/yellow days per plant, year": """
        select plant_id,
               count(*) filter (where health = 'red')    as red_days,
               count(*) filter (where health = 'yellow') as yellow_days,
               count(distinct motor_id)                  as motors
        from marts.fct_motor_health
        group by plant_id
        order by red_days desc, yellow_days desc""",
    "red motors on each plant's latest day (docs)": """
        select h.plant_id, h.motor_id, a.asset_name, a.isa95_path, h.zone, h.vibration_mean_mms,
               h.bearing_temp_trend_c, h.temperature_escalated
        from marts.fct_motor_health as h
        join marts.dim_asset as a on a.plant_id = h.plant_id and a.asset_id = h.motor_id
        where h.health = 'red'
          and h.production_date = (select max(production_date) from marts.fct_motor_health m where m.plant_id = h.plant_id)
        order by h.plant_id, h.motor_id""",
    "lab share out of spec and Cpk, last 30 days (docs)": """
        with g as (
            select plant_id, product_code, characteristic, unit, any_value(lsl) as lsl, any_value(usl) as usl,
                   sum(samples) as n, sum(out_of_spec_samples) as out,
                   sum(samples * mean_value) / sum(samples) as mean,
                   sqrt((sum((samples - 1) * coalesce(sd_value, 0) ^ 2)
                         + sum(samples * mean_value ^ 2) - sum(samples * mean_value) ^ 2 / sum(samples))
                        / (sum(samples) - 1)) as sd
            from marts.fct_lab_quality
            where production_date > (select max(production_date) from marts.fct_lab_quality) - 30
            group by plant_id, product_code, characteristic, unit
        )
        select *, out / n as out_of_spec_share, least(usl - mean, mean - lsl) / (3 * sd) as cpk
        from g
        order by cpk""",
}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _cold_run(path: Path, sql: str) -> tuple[float, int]:
    """Connect read-only, run, fetch into pandas (what a notebook does), close: seconds and rows."""
    started = time.perf_counter()
    con = duckdb.connect(str(path), read_only=True)
    rows = len(con.sql(sql).df())
    con.close()
    return time.perf_counter() - started, rows


def _open_only(path: Path) -> float:
    started = time.perf_counter()
    duckdb.connect(str(path), read_only=True).close()
    return time.perf_counter() - started


def _held_p50(con, sql: str, repeats: int) -> float:
    """p50 seconds of `sql` on a held connection, after one unmeasured run that fills the buffer pool."""
    con.sql(sql).df()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        con.sql(sql).df()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(path: Path, repeats: int) -> tuple[list[dict], list[float]]:
    results = []
    opens = [_open_only(path) for _ in range(repeats)]
    for name, sql in QUERIES.items():
        cold = []
        for _ in range(repeats):
            seconds, rows = _cold_run(path, sql)
            cold.append(seconds)
        with duckdb.connect(str(path), read_only=True) as con:
            warm = _held_p50(con, sql, repeats)
        results.append({"query": name, "rows": rows, "p50_ms": 1000 * statistics.median(cold),
                        "p95_ms": 1000 * _percentile(cold, 0.95), "warm_p50_ms": 1000 * warm})
    return results, opens


def literal_anchor_ms(path: Path, repeats: int) -> tuple[float, float]:
    """The wide view's last 30 days anchored on a subquery (max date) and on a literal date: held p50 ms.
    The subquery keeps the filter above the view's pivot, so the whole year is pivoted first."""
    with duckdb.connect(str(path), read_only=True) as con:
        last = con.sql("select max(production_date) from marts.kpi_daily").fetchall()[0][0]
        subquery = _held_p50(con, QUERIES[WIDE_LAST_30], repeats)
        literal = _held_p50(con, f"from marts.kpi_daily_wide where production_date > date '{last}' - 30 "
                                 "order by production_date desc, plant_id", repeats)
    return 1000 * subquery, 1000 * literal


def _table(results: list[dict]) -> str:
    lines = ["| query | rows out | p50 ms (fresh connection) | p95 ms (fresh connection) | p50 ms (held connection) |",
             "|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['query']} | {r['rows']:,} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['warm_p50_ms']:.1f} |")
    return "\n".join(lines)


def run(quick: bool = False) -> str:
    repeats = 5 if quick else 30
    keep = os.environ.get("PLANT_ASSETS_BENCH_ANALYST_HOME")
    home = Path(keep or tempfile.mkdtemp(prefix="plant-assets-bench-analyst-"))
    try:
        started = time.perf_counter()
        demo = build_demo_week(home)
        built = time.perf_counter() - started
        started = time.perf_counter()
        scaled = scale_warehouse(demo, home / "analyst_year.duckdb", PLANTS, DAYS)
        replicated = time.perf_counter() - started
        facts = check_plausible(scaled)
        load_before = os.getloadavg()[0]
        results, opens = measure(scaled.path, repeats)
        subquery_ms, literal_ms = literal_anchor_ms(scaled.path, repeats)
        load_after = os.getloadavg()[0]
        size_mib = scaled.bytes / 2**20
        by_schema = storage_mib_by_schema(scaled.path)
    finally:
        if not keep:  # the temp home holds the simulated lake and MLflow runs: do not leave them behind
            shutil.rmtree(home, ignore_errors=True)

    rows = "\n".join(f"| `{t}` | {scaled.source_rows[t]:,} | {scaled.rows[t]:,} |" for t in MAIN_MARTS)
    worst = max(results, key=lambda r: r["p95_ms"])
    met = worst["p95_ms"] < TARGET_P95_MS
    open_p50 = 1000 * statistics.median(opens)
    cold_p50s = sorted(r["p50_ms"] for r in results)
    warm_p50s = sorted(r["warm_p50_ms"] for r in results)
    warm_slowest = sorted(results, key=lambda r: -r["warm_p50_ms"])[:3]
    analyst_mib = by_schema.get("marts", 0) + by_schema.get("actions", 0)
    return f"""## Analyst query latency (one year x {PLANTS} plants)

The file: {size_mib:.0f} MiB ({analyst_mib:.0f} MiB of it `marts` + `actions`), {facts['plants']} plants x
{facts['days']} days ({facts['first_day']} .. {facts['last_day']}). Produced by running the real pipeline (simulator, ingest,
gates, dbt, training, scoring, publish) for the {len(scaled.source_plants)} demo plants over one week
({'built beforehand, reused via PLANT_ASSETS_BENCH_ANALYST_HOME' if built < 5 else f'{built:.0f} s'}),
then replicating its published analyst file in DuckDB ({replicated:.1f} s): every `marts` / `actions` table
with `plant_id` and `production_date` holds 50 plant ids (p001..p050, each a copy of one demo plant) x
the week shifted back by whole weeks (same weekdays), appended day by day as the nightly runs would; the
monthly benchmark repeats the demo month over 12 months and is ranked again across the 50 plants; views
stay views and read the replicated tables. Replication is a fair stand-in for query latency: the same
schemas, the same value distributions and row widths per plant-day, the same row order, and DuckDB's real
planner and storage (compression, zone maps) over the real row counts; what it does not reproduce is
plant-to-plant variety, which changes results, not scan cost. `staging` / `intermediate` keep the week
they were built with.

| table | demo week (3 plants x 7 days) | scaled (50 plants x 365 days) |
|---|---:|---:|
{rows}

Each query ran {repeats} times on a fresh `duckdb.connect(path, read_only=True)` (connect, query, fetch
into pandas, close), as docs/analysts.md tells analysts to connect, and {repeats} times more on one held
connection after a first unmeasured run. "(docs)" marks the examples of docs/analysts.md; "last N days"
is anchored on the newest `production_date`.

{_table(results)}

Target (issue 8 gives no number): p95 under {TARGET_P95_MS / 1000:.0f} s per query on a fresh connection, which
still feels interactive in a notebook or DBeaver. Measured: worst p95 {worst['p95_ms']:.0f} ms
({worst['query']}): {'met' if met else 'missed'}.

What limits it: not the data volume: the marts of a year of 50 plants are about a million rows per
table at most, {analyst_mib:.0f} MiB compressed in all. A fresh connection pays fixed costs first: opening
the file read-only and closing it takes {open_p50:.0f} ms (p50: file header and catalog), and its first query
starts with an empty buffer pool, so it reads and decompresses every block it touches again (from the OS
page cache) and plans cold; fresh-connection p50s are {cold_p50s[0]:.0f}–{cold_p50s[-1]:.0f} ms against
{warm_p50s[0]:.0f}–{warm_p50s[-1]:.0f} ms held, and for the small queries that overhead is most of the time. Held, the slowest are {', '.join(f"{r['query']} ({r['warm_p50_ms']:.0f} ms)" for r in warm_slowest)}:
the views pivot the long `kpi_daily` ({scaled.rows['marts.kpi_daily']:,} rows) or run the 7-day bearing
temperature window over every motor-day of the year (`fct_motor_health`) before a date filter can apply.
A date filter on a subquery (`> (select max(production_date) ...) - 30`) is not pushed below the
`kpi_daily_wide` pivot: {subquery_ms:.0f} ms held, against {literal_ms:.0f} ms with the date as a literal. Date-range lookups on one plant stay cheap because rows
are appended in date order, so min/max zone maps skip most row groups. Analysts who run many queries should
keep one connection per notebook (docs/analysts.md says so) rather than reconnect per query. Two cores,
shared with other work while measuring (1-minute load average {load_before:.1f} before, {load_after:.1f} after),
so the p95s carry the neighbours' noise.
"""
