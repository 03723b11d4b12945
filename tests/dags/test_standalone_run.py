"""`make airflow` for real, on a port that is not 8080: the real scheduler runs a DAG triggered by a steward
through the REST API (its tasks report to the execution API on that port), a viewer may not trigger; the
file it loads starts district_approval on the warehouse asset, whose approval task waits in awaiting_input
until a steward answers it (a viewer may not); and SIGTERM stops every process it started
(etl/ops/local_airflow.py runs the components itself: `airflow standalone` would force the SimpleAuthManager)."""

from __future__ import annotations

import subprocess
import time

import pytest
from warehouse_helpers import query
from workbooks import hotline_csv

from etl.approval.choices import APPROVE, COMMENT
from etl.config import Settings
from etl.ops.airflow_api import ThrowawayAirflow, call


def group_members(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,stat="], capture_output=True, text=True, check=True).stdout
    return [int(p) for p, g, s in (line.split()[:3] for line in out.splitlines()) if int(g) == pgid and "Z" not in s]


def test_a_real_scheduler_runs_a_steward_triggered_dag_on_another_port_and_sigterm_stops_it_all(tmp_path):
    airflow = ThrowawayAirflow(
        tmp_path / "airflow",
        tmp_path / "standalone.log",
        {"SHARED_DIR": str(tmp_path / "shared"), "WAREHOUSE_URL": f"sqlite:///{tmp_path}/warehouse.sqlite"},
    )
    inbox = tmp_path / "shared" / "inbox" / "明山区"
    inbox.mkdir(parents=True)
    (inbox / "明山区_12345_2021-09.csv").write_bytes(hotline_csv(40).encode("utf-8"))
    supervisor = airflow.start().process
    base = airflow.base
    standalone_pgid = None
    try:
        try:
            airflow.wait_until_up()
        except RuntimeError as exc:
            pytest.fail(str(exc))
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(supervisor.pid)], capture_output=True, text=True)
        standalone_pgid = int(children.stdout.split()[0])
        logins = airflow.logins()
        steward, viewer = logins["STEWARD_USERS"].split(":", 1), logins["VIEWER_USERS"].split(":", 1)
        tokens = {name: airflow.token(name, password) for name, password in (steward, viewer)}
        assert all(tokens.values()), tokens
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
        assert state == "success", airflow.log_tail()
        answer_the_approval_task(airflow, tokens[steward[0]], tokens[viewer[0]])
        settings = Settings(tmp_path / "shared", airflow.env["WAREHOUSE_URL"])
        (decision,) = query(settings, "SELECT decision, decided_by, decided_via, comment FROM stg_approval")
        assert decision == {"decision": "approved", "decided_by": steward[0], "decided_via": "airflow", "comment": "ok"}
        assert group_members(standalone_pgid)  # scheduler, api-server… are running
    finally:
        airflow.stop(timeout=60)
    deadline = time.monotonic() + 30
    while standalone_pgid and group_members(standalone_pgid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert standalone_pgid and group_members(standalone_pgid) == []


def answer_the_approval_task(airflow: ThrowawayAirflow, steward: str, viewer: str) -> None:
    """The load announced the warehouse asset: the scheduler starts district_approval, whose task waits in
    awaiting_input (no worker slot) until a steward answers through the API; a viewer may not."""
    runs = f"{airflow.base}/api/v2/dags/district_approval/dagRuns"
    waiting = None
    for _ in range(120):
        details = call(f"{runs}/~/hitlDetails", token=steward)[1] or {"hitl_details": []}
        waiting = next((d for d in details["hitl_details"] if d["task_instance"]["state"] == "awaiting_input"), None)
        if waiting:
            break
        time.sleep(2)
    assert waiting is not None, "no approval task is waiting"
    ti = waiting["task_instance"]
    wait_until_the_pause_is_seen(airflow, ti["task_id"])
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


def wait_until_the_pause_is_seen(airflow: ThrowawayAirflow, task_id: str, seconds: float = 90) -> None:
    """Answer only after the scheduler has taken in the executor's report that the paused task's process
    exited. Airflow 3.3.2 fails a resumed task when that report arrives after the answer has queued it again
    (apache/airflow#67287: its guard covers a task back in `scheduled`, not `queued`). A steward takes longer
    than the scheduler's loop; a test answering at once does not, on a busy machine (seen in CI: the report
    came 5 s after the pause). The README says what a steward sees if it ever happens (the task is asked again)."""
    seen = f"Received executor event with state success for task instance TaskInstanceKey(dag_id='district_approval', task_id='{task_id}'"
    deadline = time.monotonic() + seconds
    while seen not in airflow.log_tail(10**9) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert seen in airflow.log_tail(10**9), "the scheduler never took in the paused task's exit"
