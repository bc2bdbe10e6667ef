"""Which process started a run, and whether that process is still alive.

Runs (Dagster runs, MLflow runs, publish temp files) are tagged with the host, the pid and the pid's start
time when they start. After a crash (kill -9, power cut) nothing marks them finished; whoever starts next
asks `is_alive` and cleans up what a dead process left. The start time guards against a recycled pid.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

HOST_TAG, PID_TAG, STARTED_TAG = "plant_assets/host", "plant_assets/pid", "plant_assets/pid_started"


def process_start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux /proc), or None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: the fields after its last ')' are plain
    return stat.rsplit(")", 1)[1].split()[19]


def process_tags(pid: int | None = None) -> dict[str, str]:
    pid = pid or os.getpid()
    tags = {HOST_TAG: socket.gethostname(), PID_TAG: str(pid)}
    started = process_start_ticks(pid)
    if started:
        tags[STARTED_TAG] = started
    return tags


def pid_alive(pid: int, started: str | None = None) -> bool:
    """The pid runs on this host and, when its start time is known, is the same process (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        pass
    if started is None:
        return True
    now_started = process_start_ticks(pid)
    return now_started is None or now_started == started


def is_alive(tags: dict[str, str]) -> bool | None:
    """Whether the process named by `tags` is alive; None when the tags name no process of this host
    (another host's process cannot be checked from here)."""
    if tags.get(HOST_TAG) != socket.gethostname() or not str(tags.get(PID_TAG, "")).isdigit():
        return None
    return pid_alive(int(tags[PID_TAG]), tags.get(STARTED_TAG))
