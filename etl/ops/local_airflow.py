"""``make airflow``: the whole Airflow on this machine — api-server, scheduler, dag-processor, triggerer
(``COMPONENTS``), LocalExecutor — with real logins (FAB), started so that stopping it stops everything.

* Not ``airflow standalone``: it forces the SimpleAuthManager (a development stub with no user management)
  whatever is configured, and leaves its children running when it gets SIGTERM. The components are
  started here as one process group of their own; SIGINT, SIGTERM or SIGHUP to this process — or any
  component ending — stops the whole group (SIGTERM, then SIGKILL after ``GRACE_SECONDS``).
* The port is the API server's and the execution API's: tasks report to ``http://localhost:<port>/execution/``
  (Airflow's default is 8080 whatever port the API server listens on, and every task then fails).
* Logins: an admin, a steward and a viewer (etl/web/access.py), their passwords generated once into
  ``$AIRFLOW_HOME/logins.env`` (readable by its owner only) unless given in the environment.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
GRACE_SECONDS = 20
LOCAL_LOGINS = {"AIRFLOW_ADMIN_USER": "admin", "STEWARD_USERS": "steward", "VIEWER_USERS": "viewer"}


def standalone_env(port: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of ``airflow standalone`` on ``port``: FAB logins, and the execution API at the same
    port."""
    env = dict(os.environ if base is None else base)
    env.setdefault("AIRFLOW__CORE__AUTH_MANAGER", FAB_AUTH_MANAGER)
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = f"http://localhost:{port}/execution/"
    return env


def local_logins(path: Path) -> dict[str, str]:
    """The users of a local Airflow (admin, steward, viewer) as the variables of etl.web.access, their
    passwords generated once into ``path`` (mode 600) and read from it afterwards."""
    if not path.exists():
        passwords = {name: secrets.token_urlsafe(12) for name in LOCAL_LOGINS.values()}
        lines = [
            "AIRFLOW_ADMIN_USER=admin",
            f"AIRFLOW_ADMIN_PASSWORD={passwords['admin']}",
            f"STEWARD_USERS=steward:{passwords['steward']}",
            f"VIEWER_USERS=viewer:{passwords['viewer']}",
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    return read_logins(path)


def read_logins(path: Path) -> dict[str, str]:
    """The variables of a logins file ``local_logins`` wrote (it must exist: nothing is generated here)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[name.strip()] = value.strip()
    return values


class ProcessGroup:
    """Commands started as one new process group (in this session), stopped together."""

    def __init__(self, commands: list[list[str]], env: dict[str, str] | None = None, outputs: list | None = None):
        """``outputs``: a file per command for its stdout and stderr (default: this process's)."""
        outputs = outputs or [None] * len(commands)
        first = subprocess.Popen(commands[0], env=env, process_group=0, stdout=outputs[0], stderr=outputs[0])
        self.pgid = first.pid  # the group of its own the others join
        self.children = [first]
        for command, output in zip(commands[1:], outputs[1:], strict=True):
            self.children.append(
                subprocess.Popen(command, env=env, process_group=first.pid, stdout=output, stderr=output)
            )

    def ended(self) -> list[int]:
        """Exit codes of the commands that have ended."""
        return [child.returncode for child in self.children if child.poll() is not None]

    def stop(self, grace: float = GRACE_SECONDS) -> None:
        stop_group(self.pgid, grace)
        for child in self.children:
            child.wait()


def supervise(commands: list[list[str]], env: dict[str, str] | None = None, grace: float = GRACE_SECONDS) -> int:
    """Run ``commands`` as one new process group and stop the whole group when any of them ends or when this
    process is told to stop. Returns the exit code of the first to end (128 + signal when stopped)."""
    group = ProcessGroup(commands, env)
    stopping: list[int] = []

    def stop(signum, _frame) -> None:
        stopping.append(signum)
        _signal_group(group.pgid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        while not stopping and not group.ended():
            time.sleep(0.2)
        ended = group.ended()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        group.stop(grace)
    return 128 + stopping[0] if stopping else (ended[0] if ended else 0)


def stop_group(pgid: int, grace: float) -> None:
    """SIGTERM to every process left in the group, SIGKILL to those still there after ``grace`` seconds."""
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.2)
    _signal_group(pgid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


COMPONENTS = (["api-server", "--port", "{port}"], ["scheduler"], ["dag-processor"], ["triggerer"])


def main(port: int) -> int:
    """Migrate Airflow's metadata (FAB's tables too), create the roles and logins, run the components."""
    home = Path(os.environ.get("AIRFLOW_HOME", "."))
    env = standalone_env(port, {**os.environ, **local_logins(home / "logins.env")})
    env.setdefault("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "etl", "airflow-access"], env=env, check=True)
    print(f"logins (admin, steward, viewer): {home / 'logins.env'}", flush=True)
    return supervise([[airflow, *(a.format(port=port) for a in c)] for c in COMPONENTS], env)
