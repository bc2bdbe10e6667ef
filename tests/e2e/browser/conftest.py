"""Browser tests (under tests/e2e/ so they share the session fixture `e2e_run` instead of rerunning the
pipeline): the Dagster UI and the MLflow UI, started on 127.0.0.1 against the e2e session state
(`e2e_run`), driven by Playwright for Python with Debian's Chromium (/usr/bin/chromium).

Nothing is downloaded: Playwright uses the system Chromium through `executable_path`. Without it (or
without the `playwright` package) every test here is skipped with the reason; `.ci/run` installs both.
Screenshots go to tests/artifacts/ and, with UPDATE_DOCS_SCREENSHOTS=1, also to docs/img/.

A dagster-daemon runs beside the webserver, as in production: the session instance uses the repo's
QueuedRunCoordinator (runs launched from the UI wait in its queue) and backfills are daemon work. The
schedules and sensors are stopped first so that only runs a test launches touch the shared session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from plant_assets.scaleout.daemon import stop_process_group
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


@pytest.fixture(scope="session", autouse=True)
def browser_tools() -> None:
    """Skips (or, under CI's PLANT_ASSETS_REQUIRE_TOOLS=1, fails) every browser test without Chromium or playwright."""
    from tests.conftest import skip_for_missing_tool

    reason = _skip_reason()
    if reason:
        skip_for_missing_tool(reason)


class Server:
    """A server process in its own session (process group), logging to tests/artifacts/<name>.log.
    `health` is a path answering 200 once it serves; None for a process without HTTP (the daemon)."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], url: str = "", health: str | None = None):
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
            if self.health is None:
                return
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
        stop_process_group(self.proc)
        self._log.close()


def _session_dagster_yaml() -> str:
    """The repo's run queue and concurrency limits on the session instance (its storage stays the
    session's own): what `make ui` runs with."""
    repo = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    config = {key: repo[key] for key in ("run_coordinator", "concurrency")}
    # Dequeue every second instead of every few: a queued UI run starts sooner, the tests wait less.
    config["run_coordinator"] = {**config["run_coordinator"], "config": {"dequeue_interval_seconds": 1}}
    return yaml.safe_dump({**config, "telemetry": {"enabled": False}}, sort_keys=False)


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(url + "/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL error: {body['errors']}")
    return body["data"]


AUTOMATIONS = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  schedules { name scheduleState { id status } } sensors { name sensorState { id status } } } } } }"""


def stop_automations(url: str) -> list[str]:
    """Stop every running schedule and sensor (through the webserver's GraphQL API, like the UI's
    toggles): with the daemon up they would launch ingest and dbt runs into the shared session."""
    stopped = []
    for repo in _graphql(url, AUTOMATIONS)["repositoriesOrError"]["nodes"]:
        for schedule in repo["schedules"]:
            if schedule["scheduleState"]["status"] == "RUNNING":
                _graphql(url, "mutation($id: String) { stopRunningSchedule(id: $id) { __typename } }",
                         {"id": schedule["scheduleState"]["id"]})
                stopped.append(schedule["name"])
        for sensor in repo["sensors"]:
            if sensor["sensorState"]["status"] == "RUNNING":
                _graphql(url, "mutation($id: String) { stopSensor(id: $id) { __typename } }",
                         {"id": sensor["sensorState"]["id"]})
                stopped.append(sensor["name"])
    return stopped


def wait_for_daemon(url: str, daemon: Server, timeout: float = 180) -> None:
    """Until every daemon the instance requires (backfills, run queue, ...) has sent a heartbeat."""
    query = "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        daemon.wait(timeout=1)  # raises if it exited
        statuses = _graphql(url, query)["instance"]["daemonHealth"]["allDaemonStatuses"]
        if all(s["healthy"] for s in statuses if s["required"]):
            return
        time.sleep(1)
    raise RuntimeError(f"dagster-daemon not healthy after {timeout}s, see {daemon.log}")


@pytest.fixture(scope="session")
def ui_servers(e2e_run):
    """dagster-webserver and dagster-daemon on the e2e Dagster instance and `mlflow ui` on the e2e
    tracking store, on free ports of 127.0.0.1, stopped (whole process groups) at the end of the session."""
    env = dict(os.environ)
    # The instance e2e_run materialized into, with the repo's run queue: the daemon dequeues UI runs.
    dagster_home = SESSION_HOME / "dagster"
    (dagster_home / "dagster.yaml").write_text(_session_dagster_yaml())
    env["DAGSTER_HOME"] = str(dagster_home)
    env["MLFLOW_TRACKING_URI"] = e2e_run["settings"].mlflow_tracking_uri
    env.pop("MLFLOW_REGISTRY_URI", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    dagster_port, mlflow_port = _free_port(), _free_port()
    workspace = str(REPO_ROOT / "workspace.yaml")
    dagster = Server(
        "dagster-webserver",
        [str(BIN / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(dagster_port)],
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
    daemon = None
    try:
        dagster.wait()
        stop_automations(dagster.url)  # before the daemon's first tick
        daemon = Server("dagster-daemon", [str(BIN / "dagster-daemon"), "run", "-w", workspace], env)
        mlflow.wait()
        wait_for_daemon(dagster.url, daemon)
        yield {"dagster": dagster.url, "mlflow": mlflow.url}
    finally:
        for server in (daemon, dagster, mlflow):
            if server is not None:
                server.stop()


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
