"""The leader role reads the mart views and nothing else (PostgreSQL)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from etl.warehouse.engine import get_engine
from etl.warehouse.roles import create_leader_role
from etl.warehouse.schema import ensure_schema


@pytest.fixture
def leader(pg_url, pg_admin):
    name = f"leader_{uuid.uuid4().hex[:8]}"
    yield name
    get_engine(pg_url).dispose()
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        database = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_admin.rsplit("/", 1)[0] + f"/{database}", autocommit=True) as db:
            db.execute(f'DROP OWNED BY "{name}"')
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_leader_reads_views_and_nothing_else(pg_url, leader):
    engine = get_engine(pg_url)
    ensure_schema(engine)
    create_leader_role(engine, leader)
    ensure_schema(engine, force=True)  # views are recreated by every deployment: the grant must survive
    database = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(f"postgresql://{leader}@127.0.0.1:5432/{database}", autocommit=True) as conn:
        assert conn.execute("SELECT COUNT(*) FROM mart_service_items_by_district").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM mart.mart_file_status").fetchone() == (0,)
        for statement in (
            "SELECT * FROM core.fct_service_item",
            "SELECT * FROM staging.stg_file_load",
            "SELECT * FROM core.dim_place",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
            conn.execute("CREATE TABLE mart.sneaky (x int)")
        with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
            conn.execute("CREATE TABLE public.sneaky (x int)")


def test_role_names_are_validated(pg_url):
    with pytest.raises(ValueError):
        create_leader_role(get_engine(pg_url), 'leader"; DROP TABLE x; --')


def test_sqlite_has_no_roles(tmp_path):
    with pytest.raises(RuntimeError):
        create_leader_role(get_engine(f"sqlite:///{tmp_path / 'w.sqlite'}"))


def test_under_compose_roles_the_init_script_and_the_warehouse_role_make_a_working_leader(pg_admin):
    """Compose's own roles: docker/postgres-init/01-databases.sh (as the superuser, at the first start)
    creates the warehouse role — which may not create roles — and the leader's login; the warehouse role
    then grants the leader the mart views with `create-leader-role`, and the leader reads them only."""
    import os
    import subprocess

    from conftest import REPO

    tag = uuid.uuid4().hex[:8]
    names = {
        "POSTGRES_DB": f"airflow_{tag}",
        "AIRFLOW_DB_USER": f"airflow_{tag}",
        "WAREHOUSE_DB_USER": f"district_{tag}",
        "WAREHOUSE_DB_NAME": f"warehouse_{tag}",
        "LEADER_DB_USER": f"leader_{tag}",
    }
    admin_user = psycopg.conninfo.conninfo_to_dict(pg_admin).get("user", "postgres")
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{names["POSTGRES_DB"]}"')
    try:
        subprocess.run(
            ["bash", str(REPO / "docker" / "postgres-init" / "01-databases.sh")],
            env={
                **os.environ,
                **names,
                "POSTGRES_USER": admin_user,
                "PGHOST": "127.0.0.1",
                "AIRFLOW_DB_PASSWORD": "a-pw",
                "WAREHOUSE_DB_PASSWORD": "w-pw",
                "LEADER_DB_PASSWORD": "l-pw",
            },
            check=True,
            capture_output=True,
        )
        warehouse = (
            f"postgresql+psycopg://{names['WAREHOUSE_DB_USER']}:w-pw@127.0.0.1:5432/{names['WAREHOUSE_DB_NAME']}"
        )
        engine = get_engine(warehouse)
        ensure_schema(engine)
        with pytest.raises(RuntimeError, match="superuser"):  # it may not create one itself
            create_leader_role(engine, f"other_{tag}")
        create_leader_role(engine, names["LEADER_DB_USER"])
        leader = f"postgresql://{names['LEADER_DB_USER']}:l-pw@127.0.0.1:5432/{names['WAREHOUSE_DB_NAME']}"
        with psycopg.connect(leader, autocommit=True) as conn:
            assert conn.execute("SELECT COUNT(*) FROM mart_file_status").fetchone() == (0,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM staging.stg_file_load")
            with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
                conn.execute("CREATE TABLE mart.sneaky (x int)")
        engine.dispose()
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            for database in (names["WAREHOUSE_DB_NAME"], names["POSTGRES_DB"]):
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in ("LEADER_DB_USER", "WAREHOUSE_DB_USER", "AIRFLOW_DB_USER"):
                conn.execute(f'DROP ROLE IF EXISTS "{names[role]}"')
