"""`make airflow`: the execution API follows the port, logins are generated once and kept private, and
stopping it — or its main process dying — leaves no child running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from etl.ops.local_airflow import local_logins, standalone_env
from etl.web.access import users_from_env

# a stand-in for an Airflow component that starts long-lived children of its own (as the api-server its workers)
FAKE_STANDALONE = textwrap.dedent(
    """
    import subprocess, sys, time
    children = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) for _ in range(2)]
    print(" ".join(str(c.pid) for c in children), flush=True)
    time.sleep(600)
    """
)
SUPERVISOR = textwrap.dedent(
    """
    import sys
    from etl.ops.local_airflow import supervise
    sys.exit(supervise([[sys.executable, "-c", sys.argv[1]], [sys.executable, "-c", "import time; time.sleep(600)"]], grace=5))
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        return handle.read().split()[2] != "Z"  # a zombie is gone, only not yet reaped


def start_supervised():
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, FAKE_STANDALONE], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    children = [int(p) for p in supervisor.stdout.readline().split()]
    direct = [
        int(p) for p in subprocess.check_output(["ps", "-o", "pid=", "--ppid", str(supervisor.pid)], text=True).split()
    ]
    return supervisor, direct[0], [*children, *direct[1:]]


def wait_gone(pids, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


@pytest.mark.parametrize("stop", ["sigterm to make's process", "ctrl-c", "one component killed alone"])
def test_stopping_it_stops_every_process_it_started(stop):
    supervisor, standalone, children = start_supervised()
    try:
        assert all(alive(p) for p in [standalone, *children])
        if stop == "one component killed alone":  # `kill <standalone pid>` left its children running
            os.kill(standalone, signal.SIGTERM)
        else:
            os.kill(supervisor.pid, signal.SIGTERM if stop.startswith("sigterm") else signal.SIGINT)
        supervisor.wait(timeout=30)
        assert wait_gone([standalone, *children]) == []
    finally:
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_tasks_report_to_the_port_the_api_server_listens_on():
    env = standalone_env(8091, {"PATH": "/usr/bin"})
    assert env["AIRFLOW__API__PORT"] == "8091"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://localhost:8091/execution/"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")


def test_local_logins_are_generated_once_and_readable_by_their_owner_only(tmp_path):
    path = tmp_path / "airflow" / "logins.env"
    first = local_logins(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert local_logins(path) == first  # kept: the users were created with these passwords
    users = {u.name: u for u in users_from_env(first)}
    assert {u.role for u in users.values()} == {"Admin", "Steward", "Viewer"}
    assert len({u.password for u in users.values()}) == 3 and all(len(u.password) >= 12 for u in users.values())


@pytest.mark.parametrize("entry", ["steward", "steward:", ":pw", "a:b,steward"])
def test_a_malformed_user_list_is_refused(entry):
    with pytest.raises(ValueError):
        users_from_env({"STEWARD_USERS": entry})
