"""``make prod-smoke``: the topology of docker-compose.yml started as processes on this machine, a few files
dropped, and the result checked — then everything it started stopped and everything it created dropped.

What runs, as in compose: PostgreSQL databases made by compose's own init script
(docker/postgres-init/01-databases.sh: Airflow's metadata database and the warehouse, each with its own
unprivileged role, and the leaders' login), Redis as the Celery broker (a database of its own on the local
server), the FAB logins of the init step, and the api-server, scheduler, dag-processor, triggerer and two
Celery workers, CeleryExecutor. The files: one demo file of each of ``SMOKE_REPORT_TYPES`` from different
districts. Checked: every file loaded by the workers (its ``stg_file_load`` row current), both workers
took part (the task instances' hostnames), a steward reads the stewards' page, and the asset-triggered
``city_review_publish`` wrote the review pack.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import REPO_ROOT
from etl.ops.local_airflow import ProcessGroup, local_logins

log = logging.getLogger(__name__)

SMOKE_REPORT_TYPES = ("service_items", "flood_cleanup", "volunteer_activity", "old_compound_renovation")
# name → command; each logs to <workdir>/<name>.log. One task slot per worker: the mapped files are shared.
COMPONENTS = {
    "api-server": ["api-server", "--port", "{port}"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
    "worker1": ["celery", "worker", "--celery-hostname", "worker1@%h", "--concurrency", "1"],
    "worker2": ["celery", "worker", "--celery-hostname", "worker2@%h", "--concurrency", "1"],
}
WORKERS = ("worker1", "worker2")


@dataclass
class SmokeResult:
    files: int = 0
    loaded: dict[str, str] = field(default_factory=dict)  # file → status
    workers: set[str] = field(default_factory=set)  # the Celery workers that ran at least one task
    review_pack: str | None = None
    page_status: int | None = None
    seconds: float = 0.0

    def problems(self) -> list[str]:
        found = []
        if len(self.loaded) != self.files or any(s not in ("accepted", "flagged") for s in self.loaded.values()):
            found.append(f"files loaded: {self.loaded} of {self.files}")
        if len(self.workers) < 2:
            found.append(f"workers that ran tasks: {sorted(self.workers)} (expected two)")
        if not self.review_pack:
            found.append("no review pack written by city_review_publish")
        if self.page_status != 200:
            found.append(f"stewards' page answered {self.page_status}")
        return found


def run(
    workdir: Path,
    pg_admin: str = "postgresql://postgres@127.0.0.1:5432/postgres",
    redis_url: str = "redis://127.0.0.1:6379/11",
    port: int = 8093,
    timeout: float = 900,
) -> SmokeResult:
    """Start the topology in ``workdir``, drop the files, wait for the outcome, stop and clean up."""
    import psycopg

    tag = secrets.token_hex(4)
    names = {
        "POSTGRES_DB": f"smoke_airflow_{tag}",
        "AIRFLOW_DB_USER": f"smoke_airflow_{tag}",
        "WAREHOUSE_DB_USER": f"smoke_district_{tag}",
        "WAREHOUSE_DB_NAME": f"smoke_warehouse_{tag}",
        "LEADER_DB_USER": f"smoke_leader_{tag}",
    }
    passwords = {
        v: secrets.token_urlsafe(12) for v in ("AIRFLOW_DB_PASSWORD", "WAREHOUSE_DB_PASSWORD", "LEADER_DB_PASSWORD")
    }
    admin = psycopg.conninfo.conninfo_to_dict(pg_admin)
    host = admin.get("host", "127.0.0.1")
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{names["POSTGRES_DB"]}"')
    group = None
    started = time.monotonic()
    try:
        subprocess.run(
            ["bash", str(REPO_ROOT / "docker" / "postgres-init" / "01-databases.sh")],
            env={**os.environ, **names, **passwords, "POSTGRES_USER": admin.get("user", "postgres"), "PGHOST": host},
            check=True,
            capture_output=True,
        )
        env = topology_env(workdir, names, passwords, host, redis_url, port)
        airflow = str(Path(sys.executable).with_name("airflow"))
        _flush_redis(redis_url)
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-m", "etl", "airflow-access"], env=env, check=True, capture_output=True)
        files = drop_files(Path(env["SHARED_DIR"]))
        logs = [(workdir / f"{name}.log").open("w") for name in COMPONENTS]
        commands = [[airflow, *(a.format(port=port) for a in c)] for c in COMPONENTS.values()]
        group = ProcessGroup(commands, env, outputs=logs)
        result = wait_for_outcome(env, files, group, port, timeout)
        result.workers = {w for w in WORKERS if " succeeded in " in (workdir / f"{w}.log").read_text(errors="replace")}
        result.seconds = time.monotonic() - started
        return result
    finally:
        if group is not None:
            group.stop()
        _flush_redis(redis_url)
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            for database in (names["WAREHOUSE_DB_NAME"], names["POSTGRES_DB"]):
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in ("LEADER_DB_USER", "WAREHOUSE_DB_USER", "AIRFLOW_DB_USER"):
                conn.execute(f'DROP ROLE IF EXISTS "{names[role]}"')


def topology_env(workdir: Path, names: dict, passwords: dict, host: str, redis_url: str, port: int) -> dict[str, str]:
    """The environment of every component: docker-compose.yml's x-airflow-common, pointed at this machine."""
    home = workdir / "airflow"
    metadata = f"{names['AIRFLOW_DB_USER']}:{passwords['AIRFLOW_DB_PASSWORD']}@{host}:5432/{names['POSTGRES_DB']}"
    warehouse = (
        f"{names['WAREHOUSE_DB_USER']}:{passwords['WAREHOUSE_DB_PASSWORD']}@{host}:5432/{names['WAREHOUSE_DB_NAME']}"
    )
    logins = local_logins(home / "logins.env")
    return {
        **os.environ,
        **logins,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg://{metadata}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": f"postgresql+psycopg://{metadata}",
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg://{metadata}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "false",
        "SHARED_DIR": str(workdir / "shared"),
        "WAREHOUSE_URL": f"postgresql+psycopg://{warehouse}",
        "FILE_SETTLE_SECONDS": "0",
        "GX_ANALYTICS_ENABLED": "false",
    }


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _flush_redis(url: str) -> None:
    """Empty the smoke test's own Redis database (its number in ``url``), nothing else."""
    import redis

    redis.Redis.from_url(url).flushdb()


def drop_files(shared: Path) -> list[str]:
    """The first demo file of each of ``SMOKE_REPORT_TYPES``' generators, into the inbox as a clerk would."""
    from demo import GENERATORS

    demo = Path(tempfile.mkdtemp(prefix="smoke-demo-"))
    try:
        dropped = []
        for report_type in SMOKE_REPORT_TYPES:
            path = sorted(GENERATORS[report_type].write(demo))[0]
            target = shared / "inbox" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            dropped.append(f"{path.parent.name}/{path.name}")
        return dropped
    finally:
        shutil.rmtree(demo, ignore_errors=True)


def wait_for_outcome(env: dict, files: list[str], group: ProcessGroup, port: int, timeout: float) -> SmokeResult:
    from etl.warehouse.engine import get_engine

    result = SmokeResult(files=len(files))
    warehouse = get_engine(env["WAREHOUSE_URL"])
    deadline = time.monotonic() + timeout
    published = Path(env["SHARED_DIR"]) / "published"
    try:
        while time.monotonic() < deadline:
            if group.ended():
                raise RuntimeError(f"a component ended: exit codes {group.ended()}")
            result.loaded = _loaded(warehouse)
            result.review_pack = (
                next((p.name for p in sorted(published.glob("*.xlsx"))), None) if published.exists() else None
            )
            if len(result.loaded) >= len(files) and result.review_pack:
                break
            time.sleep(5)
        result.page_status = _page_status(env, port)
    finally:
        warehouse.dispose()
    return result


def _loaded(engine) -> dict[str, str]:
    import sqlalchemy as sa

    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT source_path, status FROM stg_file_load WHERE finished_at IS NOT NULL"))
            return {path: status for path, status in rows}
    except sa.exc.DBAPIError:  # the schema is made by the first run
        return {}


def _page_status(env: dict, port: int) -> int | None:
    name, _, password = env["STEWARD_USERS"].partition(":")
    base = f"http://127.0.0.1:{port}"
    try:
        request = urllib.request.Request(
            f"{base}/auth/token",
            data=json.dumps({"username": name, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.loads(response.read())["access_token"]
        page = urllib.request.Request(f"{base}/district-submissions/", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(page, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def main() -> int:
    """``make prod-smoke``: run it in a temporary folder and print what happened."""
    workdir = Path(tempfile.mkdtemp(prefix="prod-smoke-"))
    result = run(workdir)
    print(f"files dropped: {result.files}; loaded: {result.loaded}")
    print(f"workers that ran process_file: {sorted(result.workers)}")
    print(f"review pack: {result.review_pack}; stewards' page: HTTP {result.page_status}; {result.seconds:.0f} s")
    problems = result.problems()
    for problem in problems:
        print(f"FAILED: {problem}")
    print(f"logs: {workdir}/<component>.log")
    return 1 if problems else 0
