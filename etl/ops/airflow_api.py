"""A throw-away local Airflow and a few calls to its REST API, for the tests, benchmarks and scripts that
need a real scheduler (`make airflow`'s components, the thousand-file benchmark, the steward walkthrough's
screenshots)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from etl.config import REPO_ROOT
from etl.ops.local_airflow import read_logins


def free_port() -> int:
    """A TCP port nothing listens on now (for an api-server or a browser's debugging port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url: str, body: dict | None = None, token: str | None = None, method: str | None = None):
    """(status, JSON body) of one request; POST when there is a body. An HTTP error is (status, None)."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method=method or ("POST" if body is not None else "GET"),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


class ThrowawayAirflow:
    """``python -m etl airflow-standalone`` (api-server, scheduler, dag-processor, triggerer; FAB logins) in a
    home of its own: the environment every caller shares — SQLite metadata in ``home``, this repository's
    DAGs and plugins, secrets that are not for production — plus ``extra_env``; its start, the wait until
    its API answers, its logins, a token, and its stop (SIGTERM stops every component it started)."""

    def __init__(self, home: Path, log_path: Path, extra_env: dict[str, str] | None = None, port: int | None = None):
        self.home, self.log_path, self.port = home, log_path, port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__API_AUTH__JWT_SECRET": "throwaway-jwt-secret-not-for-production",
            "AIRFLOW__API__SECRET_KEY": "throwaway-secret-key-not-for-production",
            "GX_ANALYTICS_ENABLED": "false",
            "PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self) -> ThrowawayAirflow:
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "etl", "airflow-standalone", "--port", str(self.port)],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_until_up(self, timeout: float = 240) -> None:
        """Until the API server answers its health check; RuntimeError (with the log's tail) if it ends first
        or does not answer within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("airflow-standalone ended: " + self.log_tail())
            try:
                if call(f"{self.base}/api/v2/monitor/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(2)
        raise RuntimeError("the API server did not come up: " + self.log_tail())

    def logins(self) -> dict[str, str]:
        """The users it made (etl.ops.local_airflow.local_logins): AIRFLOW_ADMIN_PASSWORD, STEWARD_USERS…
        Read only: a caller never makes passwords of its own for the Airflow it talks to."""
        return read_logins(self.home / "logins.env")

    def token(self, user: str, password: str) -> str | None:
        status, body = call(f"{self.base}/auth/token", {"username": user, "password": password})
        return body["access_token"] if status == 201 else None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self, timeout: float = 120) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
