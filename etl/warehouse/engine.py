"""The warehouse through SQLAlchemy: engines and bulk fact inserts (the schema is etl/warehouse/schema.py).

Every statement takes values as bound parameters; table and column names come only from the report
contracts, never from file content. On PostgreSQL facts are bulk-loaded with COPY.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from etl.config import local_time
from etl.contracts import ReportContract
from etl.warehouse.schema import SEARCH_PATH

LINEAGE_COLUMNS = ("load_id", "source_sha256", "source_sheet", "source_row")
_KIND_TYPES = {"int": sa.Integer, "decimal": sa.Float, "date": sa.Date, "datetime": sa.DateTime, "bool": sa.Boolean}


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if url.startswith("postgresql"):
        return sa.create_engine(
            url, pool_pre_ping=True, connect_args={"options": f"-c search_path={SEARCH_PATH.replace(' ', '')}"}
        )
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.close()

    return engine


def fact_table(contract: ReportContract) -> sa.TableClause:
    """A lightweight typed table construct for the contract's fact table (names from the contract only)."""
    columns = [
        sa.column("load_id", sa.BigInteger),
        sa.column("source_sha256", sa.String),
        sa.column("source_sheet", sa.String),
        sa.column("source_row", sa.Integer),
    ]
    columns += [sa.column(c.name, _KIND_TYPES.get(c.kind, sa.String)) for c in contract.fact_columns]
    columns.append(sa.column("approximate_cols", sa.String))
    return sa.table(contract.fact_table, *columns)


def fact_column_names(contract: ReportContract) -> list[str]:
    return [*LINEAGE_COLUMNS, *(c.name for c in contract.fact_columns), "approximate_cols"]


def copy_statement(contract: ReportContract, columns: list[str]):
    return table_copy_statement(contract.fact_table, columns)


def table_copy_statement(table: str, columns: list[str]):
    """``COPY table (columns) FROM STDIN``; names are ours (contracts, schema), quoted as identifiers."""
    from psycopg import sql

    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def insert_facts(
    conn: Connection, contract: ReportContract, columns: list[str], rows: list[tuple] | list[bytes]
) -> None:
    """Bulk insert of facts (``bulk_insert``): rows are plain Python tuples or, on PostgreSQL only, blocks
    of COPY text lines of all ``columns`` (etl.warehouse.copy_format.copy_block)."""
    bulk_insert(conn, fact_table(contract), columns, rows)


def bulk_insert(conn: Connection, table: sa.TableClause, columns: list[str], rows: list[tuple] | list[bytes]) -> None:
    """COPY on PostgreSQL, executemany elsewhere: rows of ``columns`` as plain Python tuples or, on
    PostgreSQL only, blocks of COPY text lines."""
    if rows:
        bulk_insert_blocks(conn, table, columns, [rows])


def bulk_insert_blocks(
    conn: Connection, table: sa.TableClause, columns: list[str], blocks: Iterable[list[tuple] | list[bytes]]
) -> None:
    """``bulk_insert`` of rows made a block at a time: on PostgreSQL one COPY, which the server works
    through while the next block is made; elsewhere an executemany per block."""
    if conn.dialect.name == "postgresql":
        with (
            conn.connection.driver_connection.cursor() as cursor,
            cursor.copy(table_copy_statement(table.name, columns)) as copy,
        ):
            for rows in blocks:
                if rows and isinstance(rows[0], bytes):
                    for block in rows:
                        copy.write(block)
                else:
                    for row in rows:
                        copy.write_row(row)
        return
    for rows in blocks:
        if rows:
            conn.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def as_datetime(value: object) -> dt.datetime | None:
    """A TIMESTAMP read back: PostgreSQL gives a datetime, SQLite the ISO text it stored."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def now() -> dt.datetime:
    """Warehouse timestamps are the city's local time, like the reporting deadlines they are compared with."""
    return local_time()
