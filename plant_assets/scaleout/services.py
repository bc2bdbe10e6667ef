"""Throwaway local services for the scale-out demo and test: PostgreSQL (initdb into a temp dir),
Redis, an MLflow server on PostgreSQL and Celery workers, all on 127.0.0.1 and free ports.

Each is a context manager that stops what it started. Logs go to files in the service's folder so
a failing start can say why.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

VENV_BIN = Path(sys.executable).parent
PG_USER = "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin(name: str) -> str | None:
    """Debian keeps initdb/pg_ctl under /usr/lib/postgresql/<version>/bin, off the PATH."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def missing_binaries() -> list[str]:
    missing = [name for name in ("initdb", "pg_ctl") if postgres_bin(name) is None]
    return missing + ([] if shutil.which("redis-server") else ["redis-server"])


def _wait_for_port(port: int, what: str, log: Path, timeout: float = 60.0, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    tail = log.read_text()[-2000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port}\n{tail}")


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root (CI and this dev box are root): use Debian's postgres user."""
    return ["runuser", "-u", PG_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _run_checked(cmd: list[str], what: str) -> None:
    completed = subprocess.run(cmd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed ({completed.returncode}): {completed.stderr[-2000:]}")


@contextmanager
def postgres(databases: tuple[str, ...] = ("dagster", "mlflow")) -> Iterator[dict[str, str]]:
    """A fresh cluster with trust auth, listening on 127.0.0.1 only; yields one URL per database.
    Its data dir is a temp dir of its own, so the postgres user (when we are root) can reach it."""
    workdir = Path(tempfile.mkdtemp(prefix="plant-assets-pg-"))
    data, log = workdir / "pgdata", workdir / "postgres.log"
    if os.geteuid() == 0:
        shutil.chown(workdir, PG_USER)
    port, pg_ctl = free_port(), postgres_bin("pg_ctl")
    try:
        _run_checked(_as_postgres_user([postgres_bin("initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust",
                                        "-E", "UTF8"]), "initdb")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off"
        _run_checked(_as_postgres_user([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]), "pg_ctl start")
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres")
        con.autocommit = True
        with con.cursor() as cur:
            for name in databases:
                cur.execute(f"CREATE DATABASE {name}")
        con.close()
        # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; the scale extra ships psycopg2
        yield {name: f"postgresql+psycopg2://{PG_USER}@127.0.0.1:{port}/{name}" for name in databases}
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def redis(workdir: Path) -> Iterator[str]:
    """redis-server on 127.0.0.1 without persistence; yields its base URL (redis://host:port)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), workdir / "redis.log"
    cmd = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
           "--dir", str(workdir), "--logfile", str(log)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, "redis-server", log, proc=proc)
        yield f"redis://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Stop a process group we started: SIGTERM, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _spawn(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, start_new_session=True)


def service_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment the workers and servers share with the driver: same venv first on PATH."""
    env = {**os.environ, **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextmanager
def mlflow_server(workdir: Path, backend_uri: str, artifacts_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """`mlflow server` with a PostgreSQL backend store and a shared artifact root; yields its URL."""
    port, log = free_port(), workdir / "mlflow.log"
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    cmd = [str(VENV_BIN / "mlflow"), "server", "--backend-store-uri", backend_uri,
           "--artifacts-destination", str(artifacts_dir), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    # The server's job runner (GenAI background jobs) is not used here: 7 fewer processes.
    proc = _spawn(cmd, log, {**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    try:
        _wait_for_port(port, "mlflow server", log, timeout=180, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@contextmanager
def celery_workers(workdir: Path, count: int, env: dict[str, str], config_yaml: Path) -> Iterator[list[str]]:
    """`dagster-celery worker start` x count, one task at a time each (2-core machines); yields their names.
    Workers load the code by module (plant_assets.definitions) and the instance from DAGSTER_HOME."""
    procs, names = [], []
    try:
        for index in range(1, count + 1):
            name = f"plant-worker-{index}"
            cmd = [str(VENV_BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(config_yaml),
                   "-n", name, "-l", "WARNING", "--", "--concurrency=1", "--without-gossip", "--without-mingle"]
            procs.append(_spawn(cmd, workdir / f"{name}.log", env))
            names.append(name)
        _wait_for_workers(names, env, config_yaml, procs, workdir)
        yield names
    finally:
        for proc in procs:
            _stop(proc)


def _wait_for_workers(names, env, config_yaml, procs, workdir, timeout: float = 180.0) -> None:
    from celery import Celery

    app = Celery(broker=env["PLANT_ASSETS_CELERY_BROKER"], backend=env["PLANT_ASSETS_CELERY_BACKEND"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            break
        replies = app.control.ping(timeout=1.0) or []
        alive = {name.split("@")[0] for reply in replies for name in reply}
        if alive >= set(names):
            return
        time.sleep(1.0)
    logs = "\n".join((workdir / f"{n}.log").read_text()[-1500:] for n in names if (workdir / f"{n}.log").exists())
    raise RuntimeError(f"celery workers {names} did not come up\n{logs}")
