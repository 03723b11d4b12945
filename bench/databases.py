"""The benchmark's own PostgreSQL databases: made fresh for a measurement, dropped after it."""

from __future__ import annotations


def fresh_database(admin_dsn: str, name: str) -> tuple[str, str]:
    """Drop and create database ``name`` on the server of ``admin_dsn``; returns its SQLAlchemy URL and
    its psycopg conninfo."""
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    info = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    user, host, port = info.get("user", "postgres"), info.get("host", "127.0.0.1"), info.get("port", "5432")
    return f"postgresql+psycopg://{user}@{host}:{port}/{name}", psycopg.conninfo.make_conninfo(admin_dsn, dbname=name)


def drop_databases(admin_dsn: str, *names: str) -> None:
    """Drop ``names`` (after closing the project's pooled connections to them)."""
    import psycopg

    from etl.warehouse.engine import get_engine

    get_engine.cache_clear()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
