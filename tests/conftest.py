"""Shared fixtures: an isolated Airflow home, a per-test shared folder and warehouse (SQLite or a
throw-away PostgreSQL database on 127.0.0.1:5432)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

REPO = Path(__file__).resolve().parent.parent
# The repository's packages (etl, demo, bench) before tests/etl and tests/demo, which pytest's rootdir puts on
# sys.path as namespace packages of the same names: `pytest` works from any directory.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
DATA = REPO / "tests" / "data"  # fixtures kept in the repository
SAMPLES = DATA / "samples"  # a copy of ../shared/samples: the district files of DOMAIN.md
SAMPLE_FOLDERS = {
    "溪湖区_防汛日报_2021-07-29.xlsx": "溪湖区",
    "本溪县_政务服务事项清单_2021Q4.xlsx": "本溪县",
    "南芬区_志愿服务_2022-03.csv": "南芬区",
}
PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")

# Airflow reads its configuration at import time: isolate it before any test imports airflow.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="district-reports-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["GX_ANALYTICS_ENABLED"] = "false"
# Generated cases: a bounded number of examples per property, no per-example deadline (an example is a
# whole ingest), so `make test` stays within its time; HYPOTHESIS_PROFILE=thorough for a longer hunt.

hypothesis_settings.register_profile(
    "ci",
    max_examples=12,
    deadline=None,
    derandomize=False,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no minutes of shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("ci"), max_examples=200, phases=list(Phase)
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# Leaders' views publish approved figures only (etl.approval); the tests of figures check them as loaded,
# so they publish figures awaiting approval too. tests/etl/approval/ switches this off where it matters.
os.environ["PUBLISH_UNAPPROVED"] = "1"
os.environ["FILE_SETTLE_SECONDS"] = (
    "0"  # files written by a test are complete; tests/etl/ingest/inbox/test_discover.py covers settling
)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow metadata in SQLite under a temporary AIRFLOW_HOME, migrated once per session."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=os.environ.copy()
    )
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def pg_admin():
    """The machine's PostgreSQL server. Under CI=true a missing server fails instead of skipping."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {PG_ADMIN_DSN}: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    return PG_ADMIN_DSN


@pytest.fixture
def pg_url(pg_admin):
    """A fresh database for one test, dropped afterwards."""
    import psycopg

    from etl.warehouse.engine import get_engine

    name = f"district_reports_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path) -> str:
    """Each test using this runs on the embedded default and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(tmp_path, monkeypatch, warehouse_url):
    from etl.config import Settings

    monkeypatch.setenv("SHARED_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
    return Settings.from_env()


@pytest.fixture
def sqlite_settings(tmp_path, monkeypatch):
    from etl.config import Settings

    monkeypatch.setenv("SHARED_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    return Settings.from_env()


@pytest.fixture
def make_settings(tmp_path_factory, monkeypatch):
    """A fresh shared folder and SQLite warehouse per call: one per generated example."""
    from etl.config import Settings

    def make():
        root = tmp_path_factory.mktemp("case")
        monkeypatch.setenv("SHARED_DIR", str(root / "shared"))
        monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{root / 'warehouse.sqlite'}")
        return Settings.from_env()

    return make


def drop_samples(inbox: Path) -> list[Path]:
    """Copy the shared samples into the inbox as their clerks would (inbox/<区县>/file)."""
    paths = []
    for name, folder in SAMPLE_FOLDERS.items():
        target = inbox / folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLES / name, target)
        paths.append(target)
    return paths
