"""Browser tests (under tests/e2e/ so they share the session fixture `e2e_run` instead of rerunning the
pipeline): the Dagster UI and the MLflow UI, started on 127.0.0.1 against the e2e session state
(`e2e_run`), driven by Playwright for Python with Debian's Chromium (/usr/bin/chromium).

Nothing is downloaded: Playwright uses the system Chromium through `executable_path`. Without it (or
without the `playwright` package) every test here is skipped with the reason; `.ci/run` installs both.
Screenshots go to tests/artifacts/ and, with UPDATE_DOCS_SCREENSHOTS=1, also to docs/img/.
"""

from __future__ import annotations

import os
import signal
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO_ROOT, SESSION_HOME

CHROMIUM = Path(os.environ.get("PLANT_ASSETS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
DOCS_IMG = REPO_ROOT / "docs" / "img"
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    if reason:
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str], url: str, health: str):
        self.name, self.url, self.health = name, url, health
        self.log = ARTIFACTS / f"{name}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log.open("w")
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}), see {self.log}")
            try:
                if httpx.get(self.url + self.health, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not healthy after {timeout}s, see {self.log}")

    def stop(self) -> None:
        """Stop the server and everything it started (mlflow workers, Dagster's code server): the
        process group its own session created."""
        for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
            if sig == signal.SIGTERM:  # the leader is gone; make sure its children are too
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            break
        self._log.close()


@pytest.fixture(scope="session")
def ui_servers(e2e_run):
    """dagster-webserver on the e2e Dagster instance and `mlflow ui` on the e2e tracking store, started
    in parallel on free ports of 127.0.0.1 and stopped at the end of the session."""
    env = dict(os.environ)
    # The instance e2e_run materialized into. Without a daemon, runs launched from the UI must start at
    # once: this dagster.yaml (read by the webserver only) sets the default run coordinator.
    dagster_home = SESSION_HOME / "dagster"
    (dagster_home / "dagster.yaml").write_text(
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: DefaultRunCoordinator\n"
        "telemetry:\n  enabled: false\n"
    )
    env["DAGSTER_HOME"] = str(dagster_home)
    env["MLFLOW_TRACKING_URI"] = e2e_run["settings"].mlflow_tracking_uri
    env.pop("MLFLOW_REGISTRY_URI", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    dagster_port, mlflow_port = _free_port(), _free_port()
    dagster = Server(
        "dagster-webserver",
        [str(BIN / "dagster-webserver"), "-w", str(REPO_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(dagster_port)],
        env,
        f"http://127.0.0.1:{dagster_port}",
        "/server_info",
    )
    mlflow = Server(
        "mlflow-ui",
        [
            str(BIN / "mlflow"), "ui",
            "--backend-store-uri", e2e_run["settings"].mlflow_tracking_uri,
            "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers", "1",
        ],
        env,
        f"http://127.0.0.1:{mlflow_port}",
        "/health",
    )
    try:
        dagster.wait()
        mlflow.wait()
        yield {"dagster": dagster.url, "mlflow": mlflow.url}
    finally:
        dagster.stop()
        mlflow.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """screenshot(name) saves tests/artifacts/<name>.png, and docs/img/<name>.png when UPDATE_DOCS_SCREENSHOTS=1."""

    def take(name: str, docs: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        if docs and os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS_IMG / path.name)
        return path

    return take
