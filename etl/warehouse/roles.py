"""The read-only role for city leaders and analysts (PostgreSQL): SELECT on the mart views, nothing else.

The views are owned by the loading role, so a leader reads the indicators without any right on the
staging or core schemas behind them. Default privileges cover views recreated by later deployments.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def create_leader_role(engine: Engine, name: str = "leader", password: str | None = None) -> None:
    if engine.dialect.name != "postgresql":
        raise RuntimeError("roles exist on PostgreSQL only; on SQLite give leaders a read-only copy of the file")
    if not ROLE_NAME.match(name):
        raise ValueError(f"role name must match {ROLE_NAME.pattern}: {name!r}")
    from psycopg import sql

    role = sql.Identifier(name)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        database = sql.Identifier(raw.info.dbname)
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
        manages_roles = conn.execute(
            sa.text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
        ).scalar_one()
        if not manages_roles and (not exists or password is not None):
            raise RuntimeError(
                f"role {current_user(conn)} may not create or alter roles: create {name!r} as the superuser first "
                "(docker/postgres-init/01-databases.sh does it for compose, LEADER_DB_USER/LEADER_DB_PASSWORD), "
                "then run this again to grant it the mart views"
            )
        with raw.cursor() as cursor:
            if not exists:
                cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(role))
            if password is not None:
                cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
            statements = [
                "GRANT CONNECT ON DATABASE {db} TO {role}",
                "REVOKE ALL ON SCHEMA staging, core FROM PUBLIC",
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
                "GRANT USAGE ON SCHEMA mart TO {role}",
                "GRANT SELECT ON ALL TABLES IN SCHEMA mart TO {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA mart GRANT SELECT ON TABLES TO {role}",
            ]
            if manages_roles:  # otherwise the superuser set them when it created the role
                statements += [
                    "ALTER ROLE {role} SET search_path = mart",
                    "ALTER ROLE {role} SET default_transaction_read_only = on",
                ]
            for statement in statements:
                cursor.execute(sql.SQL(statement).format(db=database, role=role))


def current_user(conn) -> str:
    return conn.execute(sa.text("SELECT current_user")).scalar_one()
