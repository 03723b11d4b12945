"""Real logins (FAB auth manager): the roles of etl/web/access.py, the users the init step creates from the
environment, checked through Airflow's own REST API and the stewards' page — a viewer can read but not
trigger and does not see the page; a steward can trigger and sees it. In a fresh process with its own
Airflow home, as the api-server runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from conftest import REPO

FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

PROBE = textwrap.dedent(
    """
    import json
    from fastapi.testclient import TestClient
    from airflow.api_fastapi.app import create_app

    client = TestClient(create_app())
    seen = {}
    for name, password in (("steward1", "st-pass-1"), ("viewer1", "vw-pass-1"), ("viewer1", "wrong")):
        token = client.post("/auth/token", json={"username": name, "password": password})
        seen[f"token {name} {password == 'wrong'}"] = token.status_code
        if token.status_code != 201:
            continue
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        run = client.post("/api/v2/dags/district_ingest/dagRuns", json={"logical_date": None}, headers=auth)
        seen[f"trigger {name}"] = run.status_code
        seen[f"read {name}"] = client.get("/api/v2/dags/district_ingest", headers=auth).status_code
        seen[f"page {name}"] = client.get("/district-submissions/", headers=auth).status_code
        plugins = client.get("/api/v2/plugins", headers=auth)
        seen[f"plugins {name}"] = plugins.status_code
        if plugins.status_code == 200:  # the page's entry in the UI's navigation (external_views)
            seen[f"views {name}"] = [
                [view["name"], view.get("category"), view.get("destination")]
                for plugin in plugins.json()["plugins"]
                for view in plugin.get("external_views", [])
            ]
    seen["page anonymous"] = client.get("/district-submissions/").status_code
    print("RESULT " + json.dumps(seen))
    """
)


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
    return done


def test_a_viewer_reads_a_steward_operates_and_only_stewards_see_the_page(tmp_path):
    home = tmp_path / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__AUTH_MANAGER": FAB,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-jwt-secret-not-for-production",
        "AIRFLOW__API__SECRET_KEY": "test-secret-key-not-for-production",
        "SHARED_DIR": str(tmp_path / "shared"),
        "WAREHOUSE_URL": f"sqlite:///{tmp_path}/warehouse.sqlite",
        "AIRFLOW_ADMIN_USER": "admin",
        "AIRFLOW_ADMIN_PASSWORD": "ad-pass-1",
        "STEWARD_USERS": "steward1:st-pass-1",
        "VIEWER_USERS": "viewer1:vw-pass-1",
    }
    bin_dir = os.path.dirname(sys.executable)
    run([f"{bin_dir}/airflow", "db", "migrate"], env)
    run([sys.executable, "-m", "etl", "migrate"], env)
    run([f"{bin_dir}/airflow", "dags", "reserialize"], env)
    first = run([sys.executable, "-m", "etl", "airflow-access"], env)
    assert "users created: admin, steward1, viewer1" in first.stdout
    again = run([sys.executable, "-m", "etl", "airflow-access"], env)  # the init step runs at every start
    assert "users created: none" in again.stdout
    probe = run([sys.executable, "-c", PROBE], env)
    seen = json.loads(probe.stdout.split("RESULT ", 1)[1].splitlines()[0])
    assert seen["token viewer1 True"] == 401  # a wrong password is refused
    assert seen["token steward1 False"] == seen["token viewer1 False"] == 201
    assert seen["read viewer1"] == seen["read steward1"] == 200
    assert seen["trigger viewer1"] == 403 and seen["trigger steward1"] == 200
    assert seen["page viewer1"] == 403 and seen["page steward1"] == 200
    assert seen["plugins steward1"] == 200  # the page is in the steward's navigation, under Browse
    assert ["District submissions", "browse", "nav"] in seen["views steward1"]
    assert seen["page anonymous"] == 401
