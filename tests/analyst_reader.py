"""Analyst processes for tests that publish while others read: each queries the analysts' DuckDB file in a
loop and logs every answer or error (none may happen). Mode "fresh" opens a read-only connection per query
(sees each newly published state), "held" keeps one open (keeps the state it opened).

`python -m tests.analyst_reader PATH STOP MODE OUT PAUSE` reads the query from stdin and runs until the
file STOP exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from plant_assets.core.settings import REPO_ROOT


def read_in_a_loop(path: str, stop: str, mode: str, out: str, pause: float, query: str) -> None:
    import duckdb

    held = duckdb.connect(path, read_only=True) if mode == "held" else None
    with open(out, "w") as log:
        while not os.path.exists(stop):
            try:
                con = held or duckdb.connect(path, read_only=True)
                row = con.execute(query).fetchone()
                if held is None:
                    con.close()
                log.write(json.dumps(["ok", list(row)]) + "\n")
            except Exception as error:  # every failure is recorded, none may happen
                log.write(json.dumps(["error", repr(error)]) + "\n")
            log.flush()
            time.sleep(pause)


def start_readers(analyst: Path, stop: Path, logs: Path, query: str, pause: float) -> dict[str, tuple[subprocess.Popen, Path]]:
    """A fresh and a held reader; returns once both have logged their first answer."""
    readers = {}
    for mode in ("fresh", "held"):
        out = logs / f"reader_{mode}.jsonl"
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.analyst_reader", str(analyst), str(stop), mode, str(out), str(pause)],
            stdin=subprocess.PIPE, text=True, cwd=REPO_ROOT,
        )
        proc.stdin.write(query)
        proc.stdin.close()
        readers[mode] = (proc, out)
    deadline = time.time() + 30
    while not all(out.exists() and out.stat().st_size for _, out in readers.values()):
        assert time.time() < deadline, "the analyst processes did not start querying"
        time.sleep(0.05)
    return readers


def stop_readers(readers: dict, stop: Path) -> None:
    stop.touch()
    for proc, _ in readers.values():
        proc.wait(timeout=30)


def logged(path: Path) -> list[list]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if __name__ == "__main__":
    path, stop, mode, out, pause = sys.argv[1:6]
    read_in_a_loop(path, stop, mode, out, float(pause), sys.stdin.read())
