"""A few calls to a running Airflow's REST API, for the operations scripts and the tests that start one
(`make airflow`'s real scheduler, the steward walkthrough's screenshots)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request


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
