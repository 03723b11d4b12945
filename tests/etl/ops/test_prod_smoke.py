"""`make prod-smoke` as a test: compose's topology as processes (PostgreSQL databases and roles from compose's
init script, Redis, FAB logins, api-server, scheduler, dag-processor, triggerer, two Celery workers) loads
the dropped files with both workers and publishes the review pack; afterwards nothing it started runs and
nothing it created remains. Skipped only when Redis is absent and CI is not set."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psycopg
import pytest

from etl.ops.prod_smoke import run


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def processes_with_home(home: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"AIRFLOW_HOME={home}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not redis_up() and os.environ.get("CI") != "true", reason="Redis is not running here")
def test_the_production_topology_loads_files_on_two_workers_and_publishes(tmp_path, pg_admin):
    with socket.socket() as probe:  # a free port for the API server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(tmp_path, pg_admin=pg_admin, port=port)
    assert result.problems() == [], result
    assert result.files == 4 and set(result.loaded.values()) <= {"accepted", "flagged"}
    assert result.workers == {"worker1", "worker2"}
    assert result.review_pack and result.page_status == 200
    assert processes_with_home(tmp_path / "airflow") == []  # every component stopped
    with psycopg.connect(pg_admin) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'smoke\\_%'").fetchall()
        roles = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'smoke\\_%'").fetchall()
    assert left == [] and roles == []
