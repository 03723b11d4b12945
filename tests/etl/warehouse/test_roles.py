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
