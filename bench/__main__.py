"""Run the benchmarks and write docs/BENCHMARKS.md with the machine they ran on.

Each module bench/bench_<name>.py defines `run(quick: bool) -> str`, returning a Markdown section
with the figures it measured. `python -m bench [--quick] [name ...]`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

ROOT = Path(__file__).resolve().parents[1]
console = Console()


def machine_info() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"- measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node() or 'unknown host'}\n"
        f"- {os.cpu_count()} cores ({cpu}), {memory:.1f} GiB memory, {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}, DuckDB {duckdb.__version__}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    modules = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    selected = [m for m in modules if not args.names or m.removeprefix("bench_") in args.names]
    sections_dir = ROOT / "docs" / "benchmarks"
    sections_dir.mkdir(parents=True, exist_ok=True)
    if not selected:
        parser.error(f"no benchmark named {' '.join(args.names)}; known: "
                     f"{', '.join(m.removeprefix('bench_') for m in modules)}")
    # One bar over the benchmarks; each section is printed above it as soon as it is measured.
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("benchmarks", total=len(selected))
        for name in selected:
            progress.update(task, description=name.removeprefix("bench_"))
            started = time.perf_counter()
            module = importlib.import_module(f"bench.{name}")
            section = module.run(quick=args.quick)
            took = time.perf_counter() - started
            text = section.rstrip() + f"\n\nMachine:\n{machine_info()}\n_{name} took {took:.0f} s{' (quick mode)' if args.quick else ''}._\n"
            # a bench may name its section file (SECTION), else it is the module's name
            (sections_dir / f"{getattr(module, 'SECTION', name.removeprefix('bench_'))}.md").write_text(text)
            progress.console.print(Markdown(text))
            progress.advance(task)
    # docs/BENCHMARKS.md gathers the latest section of every benchmark, each with its own machine info.
    out = ROOT / "docs" / "BENCHMARKS.md"
    parts = [p.read_text() for p in sorted(sections_dir.glob("*.md"))]
    out.write_text(
        "# Benchmarks\n\nWritten by `make bench` (`python -m bench`); every section is measured on the machine it "
        "names and says what limits its figures.\n\n" + "\n".join(parts)
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
