"""The production stack (docker-compose.yml, docker/) without a Docker engine: the services of the official
Airflow 3 CeleryExecutor layout are there and wired to one PostgreSQL and Redis, everything the file mounts,
builds or copies exists, every command is a real Airflow command, versions agree with the pins, and
.env.example documents every variable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml
from conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
]
LONG_RUNNING = ["postgres", "redis", *AIRFLOW_SERVICES[:-1]]
DOCKERFILE = REPO / "docker" / "Dockerfile"
VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}")
# `airflow celery …` comes with apache-airflow-providers-celery, which is only in the image; these are the
# subcommands of the pinned provider (3.26.0, airflow/providers/celery/cli/definition.py).
CELERY_SUBCOMMANDS = {
    "worker",
    "flower",
    "stop",
    "list-workers",
    "shutdown-worker",
    "shutdown-all-workers",
    "add-queue",
    "remove-queue",
    "remove-all-queues",
}
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    return found


def default(value: str) -> str:
    """A compose value with every ${VAR:-default} replaced by its default (${VAR} and ${VAR:?…} by '')."""
    return re.sub(r"\$\{[A-Z_][A-Z0-9_]*(?::?-([^}]*))?(?::?\?[^}]*)?\}", lambda m: m.group(1) or "", value)


def env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (SERVICES[service].get("environment") or {}).items()}


@cache
def airflow_help(*group: str) -> set[str]:
    """Subcommands listed by `airflow [group] --help` of the installed Airflow."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *group, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    listing = result.stdout.split("Positional Arguments:", 1)[1].split("Options:", 1)[0]
    return set(re.findall(r"^\s{2,}([a-z][a-z0-9-]*)(?:\s{2,}|$)", listing, flags=re.M))


def assert_airflow_command(words: list[str], where: str) -> None:
    top = airflow_help()
    assert words and words[0] in top | {"celery"}, f"{where}: airflow {' '.join(words)}"
    if words[0] == "celery":
        assert len(words) > 1 and words[1] in CELERY_SUBCOMMANDS, f"{where}: airflow {' '.join(words)}"
    elif words[0] in ("db", "jobs", "dags", "tasks", "config", "connections", "variables", "pools", "providers"):
        assert len(words) > 1 and words[1] in airflow_help(words[0]), f"{where}: airflow {' '.join(words)}"


def airflow_invocations(script: str) -> list[list[str]]:
    """`airflow <command> [<subcommand>]` inside a shell snippet (not paths like /opt/airflow/logs)."""
    return [
        [w for w in m.groups() if w]
        for m in re.finditer(r"(?<![\w/.-])airflow\s+([a-z][a-z0-9-]*)(?:\s+([a-z][a-z0-9-]*))?", script)
    ]


# ------------------------------------------------------------------------------------------ the services
def test_services_of_the_official_celery_layout():
    assert set(SERVICES) >= {"postgres", "redis", *AIRFLOW_SERVICES}
    commands = {name: SERVICES[name].get("command") for name in AIRFLOW_SERVICES}
    assert commands["airflow-apiserver"] == "api-server" and commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor" and commands["airflow-triggerer"] == "triggerer"
    assert commands["airflow-worker"] == "celery worker"
    for name in LONG_RUNNING:
        assert SERVICES[name]["healthcheck"]["test"], name
        assert SERVICES[name]["restart"] == "always", name
    assert SERVICES["airflow-apiserver"]["ports"] == ["${AIRFLOW_PORT:-8080}:8080"]


def test_every_airflow_service_uses_celery_redis_and_postgres():
    for name in AIRFLOW_SERVICES:
        service, variables = SERVICES[name], env(name)
        assert service["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}, name
        assert service["env_file"] == [".env"], name
        assert variables["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert variables["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0", name
        assert (
            default(variables["AIRFLOW__CELERY__RESULT_BACKEND"])
            == "db+postgresql+psycopg://airflow:@postgres:5432/airflow"
        )
        assert (
            default(variables["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
            == "postgresql+psycopg://airflow:@postgres:5432/airflow"
        )
        assert default(variables["WAREHOUSE_URL"]) == "postgresql+psycopg://district:@postgres:5432/warehouse"
        assert variables["SHARED_DIR"] == "/shared", name
        assert variables["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/project/dags"
        assert variables["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/project/plugins"
        assert variables["AIRFLOW__API_AUTH__JWT_SECRET"] == "${AIRFLOW_JWT_SECRET:?set AIRFLOW_JWT_SECRET in .env}"
        assert variables["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert "${SHARED_DIR_HOST:-./data/shared}:/shared" in service["volumes"], name
        assert "airflow-logs:/opt/airflow/logs" in service["volumes"], name
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}, name
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}, name
        if name != "airflow-init":
            assert service["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
            assert service["user"] == "${AIRFLOW_UID:-50000}:0"
    assert SERVICES["airflow-worker"]["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    assert variables["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")  # real logins, users in the database
    assert set(COMPOSE["volumes"]) == {"postgres-db-volume", "airflow-logs"}


def test_one_postgres_server_hosts_the_metadata_db_and_the_warehouse():
    postgres = SERVICES["postgres"]
    variables = env("postgres")
    assert variables["POSTGRES_DB"] == "airflow"
    assert "./docker/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    scripts = sorted((REPO / "docker" / "postgres-init").glob("*"))
    assert scripts and all(p.suffix in (".sh", ".sql") for p in scripts)
    text = "\n".join(p.read_text(encoding="utf-8") for p in scripts)
    assert "CREATE DATABASE" in text
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", text)) - {"POSTGRES_USER", "POSTGRES_DB"}
    assert used <= set(variables), used - set(variables)  # every variable the script reads is passed to it
    for script in scripts:
        if script.suffix == ".sh":
            subprocess.run(["bash", "-n", str(script)], check=True)


def test_secrets_are_required_and_not_spread():
    common = env("airflow-scheduler")
    for secret in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY"):
        assert ":?" in common[secret], secret  # compose refuses to start without it
    assert common["POSTGRES_PASSWORD"] == ""  # the superuser's password stays in the postgres container
    init = env("airflow-init")
    for login in ("AIRFLOW_ADMIN_PASSWORD", "STEWARD_USERS", "VIEWER_USERS"):  # only the init step sees them
        assert common[login] == "" and init[login].startswith("${"), login
    assert "python -m etl airflow-access" in SERVICES["airflow-init"]["command"][-1]


# ----------------------------------------------------------------------------------------- the commands
def test_every_command_is_a_real_airflow_command():
    assert "api-server" in airflow_help() and "migrate" in airflow_help("db")  # the parsing itself works
    for name, service in SERVICES.items():
        command = service.get("command")
        if not command or not name.startswith("airflow"):
            continue
        if isinstance(command, str):  # run by the image's entrypoint as `airflow <command>`
            assert_airflow_command(command.split(), name)
            continue
        script = "\n".join(command)
        for words in airflow_invocations(script):
            assert_airflow_command(words, name)
    init = "\n".join(SERVICES["airflow-init"]["command"])
    assert ["db", "migrate"] in airflow_invocations(init)


def test_healthchecks_use_real_commands():
    jobs = subprocess.run(
        [sys.executable, "-m", "airflow", "jobs", "check", "--help"], capture_output=True, text=True, check=True
    ).stdout
    job_types = set(re.search(r"--job-type \{([^}]*)\}", jobs).group(1).split(","))
    for name in LONG_RUNNING:
        test = SERVICES[name]["healthcheck"]["test"]
        line = test[1] if test[0] == "CMD-SHELL" else " ".join(test[1:])
        for words in airflow_invocations(line):
            assert_airflow_command(words, f"{name} healthcheck")
        for job_type in re.findall(r"--job-type (\w+)", line):
            assert job_type in job_types, (name, job_type)
        if line.startswith("celery"):
            assert f"--app {CELERY_APP} inspect ping" in line
    assert SERVICES["airflow-apiserver"]["healthcheck"]["test"][-1] == "http://localhost:8080/api/v2/monitor/health"


# ----------------------------------------------------------------------------- files, images and pins
def test_everything_mounted_built_or_copied_exists():
    for name, service in SERVICES.items():
        if "build" in service:
            context = REPO / service["build"]["context"]
            assert (context / service["build"]["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = default(volume).split(":", 1)[0]
            if source.startswith((".", "/")):
                path = (REPO / source).resolve()
                if path.is_relative_to(REPO / "data"):  # the shared folder: runtime data, git-ignored
                    continue
                assert path.exists(), (name, volume)
            else:
                assert source in COMPOSE["volumes"], (name, volume)
        for env_file in service.get("env_file", []):
            assert env_file == ".env" and (REPO / ".env.example").is_file()
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    copies = re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", dockerfile, flags=re.M)
    sources = [s for line in copies for s in line.split()]
    assert {
        "pyproject.toml",
        "constraints.txt",
        "etl",
        "warehouse_sql",
        "expectations",
        "dags",
        "plugins",
    } <= set(sources)
    allowed = [
        line[1:]
        for line in (REPO / "docker" / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    for source in sources:
        assert (REPO / source).exists(), source
        assert source in allowed, f"{source} is excluded from the build context"
    assert "WORKDIR /opt/project" in dockerfile and "COPY --chown=airflow:0 dags ./dags" in dockerfile
    assert "COPY --chown=airflow:0 plugins ./plugins" in dockerfile


def test_image_versions_match_the_pins():
    pinned = pins(REPO / "constraints.txt")
    airflow = pinned["apache-airflow"]
    base = re.search(
        r"^ARG AIRFLOW_BASE_IMAGE=apache/airflow:(?:slim-)?([\d.]+)-python([\d.]+)$",
        DOCKERFILE.read_text(encoding="utf-8"),
        flags=re.M,
    )
    assert base, "docker/Dockerfile must build FROM a pinned apache/airflow tag"
    assert base.group(1) == airflow and base.group(2) == "3.11"
    image = default(SERVICES["airflow-scheduler"]["image"])
    assert image.rsplit(":", 1)[1] == airflow, image
    assert f'"apache-airflow=={airflow}"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert {"apache-airflow-providers-celery", "apache-airflow-providers-fab", "celery", "kombu", "redis"} <= set(
        pinned
    )
    project = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    for provider in ("apache-airflow-providers-celery", "apache-airflow-providers-fab"):
        assert f'"{provider}=={pinned[provider]}"' in project, provider


def test_env_example_documents_every_variable():
    documented = set(
        re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", (REPO / ".env.example").read_text(encoding="utf-8"), flags=re.M)
    )
    compose_text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    referenced = set(VARIABLE.findall(compose_text)) - {"HOSTNAME"}
    assert referenced <= documented, referenced - documented
    common = set(env("airflow-scheduler"))
    read_by_etl = set()
    for path in (REPO / "etl").rglob("*.py"):
        read_by_etl |= set(
            re.findall(r"os\.environ(?:\.get\(|\[)\"([A-Z_][A-Z0-9_]*)\"", path.read_text(encoding="utf-8"))
        )
    assert {"SHARED_DIR", "WAREHOUSE_URL", "FILE_SETTLE_SECONDS"} <= read_by_etl
    read_by_etl.discard("AIRFLOW_HOME")  # Airflow's own, set by the image (etl/ops/local_airflow.py reads it locally)
    missing = {v for v in read_by_etl if v not in documented and v not in common}
    assert not missing, f"read by etl/ but neither set in docker-compose.yml nor documented in .env.example: {missing}"
    assert {
        "ALERT_WEBHOOK_URL",
        "ALERT_SMTP_HOST",
        "AIRFLOW_UID",
        "SHARED_DIR_HOST",
        "FILE_SETTLE_SECONDS",
    } <= documented
    from dataclasses import fields

    from etl.ingest.read.limits import Limits

    limits = {f"LIMIT_{f.name.upper()}" for f in fields(Limits)}  # read as LIMIT_<NAME> by Limits.from_env
    assert limits <= documented, limits - documented


@pytest.mark.parametrize("name", ["docker-compose.yml", ".env.example"])
def test_no_real_secrets_in_the_repo(name):
    text = (REPO / name).read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.match(r"^([A-Z_]*(?:PASSWORD|SECRET|FERNET_KEY|SECRET_KEY))=(.*)$", line)
        if match:
            assert match.group(2) in ("", "change-me"), line
