"""Every fact row names its load (warehouse_sql/fct_load_reference.postgresql.sql on PostgreSQL, a foreign
key on SQLite): the same promises on both databases, on statements the tests generate — a statement is
refused exactly when one of its rows names no load, whether it is an INSERT or PostgreSQL's COPY; a load
with facts cannot be deleted; a load_id does not change. And every contract's fact table carries the
check, so that a new report type cannot forget it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.contracts import CONTRACTS
from etl.warehouse.engine import get_engine
from etl.warehouse.schema import SEARCH_PATH, ensure_schema

SHA = "cd" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = get_engine(url)
    ensure_schema(engine)
    return engine


def add_loads(conn, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        conn.execute(
            sa.text("INSERT INTO stg_file_load (file_name, sha256, status) VALUES ('f.xlsx', :sha, 'accepted')"),
            {"sha": SHA},
        )
        ids.append(conn.execute(sa.text("SELECT MAX(load_id) FROM stg_file_load")).scalar())
    return ids


def insert_items(conn, load_ids: list[int]) -> None:
    """One fct_service_item row per entry of ``load_ids``, in one statement."""
    conn.execute(
        sa.text("INSERT INTO fct_service_item (load_id, source_sha256, source_row, item_code) VALUES (:l, :s, :r, :c)"),
        [{"l": load_id, "s": SHA, "r": 3 + i, "c": f"C{i}"} for i, load_id in enumerate(load_ids)],
    )


def copy_items(conn, load_ids: list[int]) -> None:
    """The same rows by COPY, as etl.ingest.load.sinks.LiveCopy writes facts."""
    text = "".join(f"{load_id}\t{SHA}\t{3 + i}\tC{i}\n" for i, load_id in enumerate(load_ids))
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy("COPY fct_service_item (load_id, source_sha256, source_row, item_code) FROM STDIN") as copy:
        copy.write(text)


def item_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM fct_service_item")).scalar()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    loads=st.integers(1, 3),
    names=st.lists(st.integers(0, 4), min_size=1, max_size=12),  # index into the loads; ≥ loads: no such load
    by_copy=st.booleans(),
)
def test_a_statement_is_refused_exactly_when_a_row_names_no_load(engine, loads, names, by_copy):
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM fct_service_item"))
        ids = add_loads(conn, loads)
    missing = max(ids) + 1000
    load_ids = [ids[n] if n < loads else missing + n for n in names]
    orphan = any(n >= loads for n in names)
    try:
        with engine.begin() as conn:
            if postgres:
                conn.execute(sa.text(f"SET LOCAL search_path TO {SEARCH_PATH}"))
            (copy_items if by_copy and postgres else insert_items)(conn, load_ids)
    except sa.exc.IntegrityError as exc:
        assert orphan, exc
        assert item_count(engine) == 0  # the whole statement, not only its orphan rows
        if postgres:
            assert exc.orig.sqlstate == "23503"  # foreign_key_violation, as the foreign key says it
    except Exception as exc:  # psycopg's COPY error, raised by the driver cursor (not SQLAlchemy)
        assert postgres and by_copy and orphan and getattr(exc, "sqlstate", None) == "23503", exc
        assert item_count(engine) == 0
    else:
        assert not orphan
        assert item_count(engine) == len(names)


def test_a_load_with_facts_is_kept_and_its_load_id_is_fixed(engine):
    with engine.begin() as conn:
        kept, free = add_loads(conn, 2)
        insert_items(conn, [kept, kept])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM stg_file_load WHERE load_id IN (:a, :b)"), {"a": kept, "b": free})
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM stg_file_load WHERE load_id = :b"), {"b": free})  # no facts: it goes
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE fct_service_item SET load_id = load_id + 1000"))
    if engine.dialect.name == "postgresql":  # stricter than SQLite's foreign key: no load_id changes at all
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE stg_file_load SET load_id = load_id + 1000 WHERE load_id = :a"), {"a": kept})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("TRUNCATE staging.stg_file_load CASCADE"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT load_id FROM stg_file_load")).scalars().all() == [kept]
    assert item_count(engine) == 2
    with engine.begin() as conn:  # facts first, then their load: allowed
        conn.execute(sa.text("DELETE FROM fct_service_item"))
        conn.execute(sa.text("DELETE FROM stg_file_load"))


def test_every_contract_fact_table_carries_the_load_reference(engine):
    with engine.connect() as conn:
        for contract in CONTRACTS.values():
            table = contract.fact_table
            if engine.dialect.name == "sqlite":
                keys = conn.execute(sa.text(f"PRAGMA foreign_key_list({table})")).mappings().all()
                assert [(k["table"], k["from"], k["to"]) for k in keys] == [("stg_file_load", "load_id", "load_id")]
                continue
            triggers = set(
                conn.execute(
                    sa.text(
                        "SELECT t.tgname, p.proname FROM pg_trigger AS t JOIN pg_proc AS p ON p.oid = t.tgfoid "
                        "WHERE t.tgrelid = to_regclass(:t) AND NOT t.tgisinternal"
                    ),
                    {"t": f"core.{table}"},
                ).all()
            )
            expected = {("fct_rows_name_a_load", "fct_rows_name_a_load"), ("load_id_is_fixed", "load_id_is_fixed")}
            assert expected <= triggers, table
            per_row = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = to_regclass(:t) "
                    "AND confrelid = 'staging.stg_file_load'::regclass"
                ),
                {"t": f"core.{table}"},
            ).scalar()
            assert per_row == 0, f"{table} still checks its load row by row"


def test_an_older_postgresql_warehouse_loses_the_per_row_foreign_keys(pg_url):
    engine = get_engine(pg_url)
    ensure_schema(engine)
    with engine.begin() as conn:  # as warehouses were before: the foreign key, no statement-level check
        conn.execute(sa.text("DROP TRIGGER fct_rows_name_a_load ON core.fct_hotline_ticket"))
        conn.execute(
            sa.text(
                "ALTER TABLE core.fct_hotline_ticket ADD CONSTRAINT fct_hotline_ticket_load_id_fkey "
                "FOREIGN KEY (load_id) REFERENCES staging.stg_file_load (load_id)"
            )
        )
    ensure_schema(engine, force=True)
    with engine.connect() as conn:
        assert not conn.execute(
            sa.text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'core.fct_hotline_ticket'::regclass AND contype = 'f'"
            )
        ).all()
        assert (
            conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'core.fct_hotline_ticket'::regclass "
                    "AND tgname = 'fct_rows_name_a_load'"
                )
            ).scalar()
            == 1
        )


def test_a_load_being_written_cannot_be_deleted_from_another_session(pg_url):
    """The statement-level check locks the loads its rows name (FOR KEY SHARE, as the foreign key did):
    another session's DELETE of that load waits for the writer, then finds its facts and is refused."""
    import psycopg

    engine = get_engine(pg_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        (load,) = add_loads(conn, 1)
    conninfo = pg_url.replace("postgresql+psycopg://", "postgresql://")
    options = f"-c search_path={SEARCH_PATH.replace(' ', '')}"
    with psycopg.connect(conninfo, options=options) as writer, psycopg.connect(conninfo, options=options) as deleter:
        writer.execute(
            "INSERT INTO fct_service_item (load_id, source_sha256, source_row, item_code) VALUES (%s, %s, 3, 'C')",
            (load, SHA),
        )  # not committed yet
        deleter.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            deleter.execute("DELETE FROM stg_file_load WHERE load_id = %s", (load,))
        deleter.rollback()
        writer.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            deleter.execute("DELETE FROM stg_file_load WHERE load_id = %s", (load,))
        deleter.rollback()
        deleter.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # its snapshot would miss new facts
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            deleter.execute("DELETE FROM stg_file_load WHERE load_id = %s", (load,))
