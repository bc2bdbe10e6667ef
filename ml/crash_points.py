"""Test-only crash points: the crash test (tests/e2e/test_crash_recovery.py) sets PLANT_ASSETS_CRASH_AT to a
step name and the process kills itself there with SIGKILL, as a power cut would. Unset, this does nothing.

It lives in ml, the lowest layer, because training is one of the steps it must interrupt; the platform
imports it from here. Named steps: `ingest.accepted_written`, `dbt`,
`training.registered`, `publish.copied`."""

from __future__ import annotations

import os
import signal

CRASH_AT_ENV = "PLANT_ASSETS_CRASH_AT"


def crash_point(step: str) -> None:
    if os.environ.get(CRASH_AT_ENV) != step:
        return
    # A power cut takes the whole process group (dbt's subprocess too) when this process leads it.
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
