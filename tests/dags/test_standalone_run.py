"""`make airflow` for real, on a port that is not 8080: the real scheduler runs a DAG triggered by a steward
through the REST API (its tasks report to the execution API on that port), a viewer may not trigger; the
file it loads starts district_approval on the warehouse asset, whose approval task waits in awaiting_input
until a steward answers it (a viewer may not); and SIGTERM stops every process it started
(etl/ops/local_airflow.py runs the components itself: `airflow standalone` would force the SimpleAuthManager)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import REPO
from warehouse_helpers import query
from workbooks import hotline_csv

from etl.approval.choices import APPROVE, COMMENT
from etl.config import Settings
from etl.ops.airflow_api import call, free_port


def group_members(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,stat="], capture_output=True, text=True, check=True).stdout
    return [int(p) for p, g, s in (line.split()[:3] for line in out.splitlines()) if int(g) == pgid and "Z" not in s]


def test_a_real_scheduler_runs_a_steward_triggered_dag_on_another_port_and_sigterm_stops_it_all(tmp_path):
    port = free_port()
    home = tmp_path / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-jwt-secret-not-for-production",
        "AIRFLOW__API__SECRET_KEY": "test-secret-key-not-for-production",
        "SHARED_DIR": str(tmp_path / "shared"),
        "WAREHOUSE_URL": f"sqlite:///{tmp_path}/warehouse.sqlite",
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}",
    }
    inbox = tmp_path / "shared" / "inbox" / "明山区"
    inbox.mkdir(parents=True)
    (inbox / "明山区_12345_2021-09.csv").write_bytes(hotline_csv(40).encode("utf-8"))
    log = (tmp_path / "standalone.log").open("w")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "etl", "airflow-standalone", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    standalone_pgid = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if supervisor.poll() is not None:
                pytest.fail("standalone ended: " + (tmp_path / "standalone.log").read_text()[-3000:])
            try:
                if call(f"{base}/api/v2/monitor/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(2)
        else:
            pytest.fail("the API server did not come up: " + (tmp_path / "standalone.log").read_text()[-3000:])
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(supervisor.pid)], capture_output=True, text=True)
        standalone_pgid = int(children.stdout.split()[0])
        logins = dict(line.split("=", 1) for line in (home / "logins.env").read_text().splitlines() if "=" in line)
        steward, viewer = logins["STEWARD_USERS"].split(":", 1), logins["VIEWER_USERS"].split(":", 1)
        tokens = {}
        for name, password in (steward, viewer):
            status, body = call(f"{base}/auth/token", {"username": name, "password": password})
            assert status == 201, (name, status)
            tokens[name] = body["access_token"]
        dag = f"{base}/api/v2/dags/district_ingest"
        for _ in range(60):  # the dag-processor parses the DAG files first
            if call(dag, token=tokens[steward[0]])[0] == 200:
                break
            time.sleep(2)
        assert call(f"{dag}/dagRuns", {"logical_date": None}, tokens[viewer[0]])[0] == 403
        status, run = call(f"{dag}/dagRuns", {"logical_date": None}, tokens[steward[0]])
        assert status == 200, status
        state = None
        for _ in range(150):
            state = call(f"{dag}/dagRuns/{run['dag_run_id']}", token=tokens[steward[0]])[1]["state"]
            if state in ("success", "failed"):
                break
            time.sleep(2)
        assert state == "success", (tmp_path / "standalone.log").read_text()[-3000:]
        answer_the_approval_task(base, tokens[steward[0]], tokens[viewer[0]])
        settings = Settings(tmp_path / "shared", env["WAREHOUSE_URL"])
        (decision,) = query(settings, "SELECT decision, decided_by, decided_via, comment FROM stg_approval")
        assert decision == {"decision": "approved", "decided_by": steward[0], "decided_via": "airflow", "comment": "ok"}
        assert group_members(standalone_pgid)  # scheduler, api-server… are running
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)
        log.close()
    deadline = time.monotonic() + 30
    while standalone_pgid and group_members(standalone_pgid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert standalone_pgid and group_members(standalone_pgid) == []


def answer_the_approval_task(base: str, steward: str, viewer: str) -> None:
    """The load announced the warehouse asset: the scheduler starts district_approval, whose task waits in
    awaiting_input (no worker slot) until a steward answers through the API; a viewer may not."""
    runs = f"{base}/api/v2/dags/district_approval/dagRuns"
    waiting = None
    for _ in range(120):
        details = call(f"{runs}/~/hitlDetails", token=steward)[1] or {"hitl_details": []}
        waiting = next((d for d in details["hitl_details"] if d["task_instance"]["state"] == "awaiting_input"), None)
        if waiting:
            break
        time.sleep(2)
    assert waiting is not None, "no approval task is waiting"
    ti = waiting["task_instance"]
    url = f"{runs}/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/{ti['map_index']}/hitlDetails"
    answer = {"chosen_options": [APPROVE], "params_input": {COMMENT: "ok"}}
    assert call(url, answer, viewer, method="PATCH")[0] == 403
    assert call(url, answer, steward, method="PATCH")[0] == 200
    state = None
    for _ in range(90):
        state = call(f"{runs}/{ti['dag_run_id']}", token=steward)[1]["state"]
        if state in ("success", "failed"):
            break
        time.sleep(2)
    assert state == "success"
