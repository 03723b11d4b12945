"""Schema migrations: a populated warehouse of the first version is upgraded in place, keeps every row
and gets its lineage backfilled; a new warehouse is created at the current version directly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import DATA

from etl.warehouse.engine import get_engine
from etl.warehouse.schema import definition_files, ensure_schema, migrations, split_statements, statements

V1 = DATA / "warehouse_v1"
SHA = "ab" * 32


def create_v1_warehouse(engine) -> None:
    """The first warehouse as it was created before migrations existed, with one loaded register."""
    order = ("dim_", "stg_", "fct_", "mart_")
    files = sorted(
        V1.glob("*.sql"), key=lambda p: (next(i for i, o in enumerate(order) if p.name.startswith(o)), p.name)
    )
    with engine.begin() as conn:
        for path in files:
            for statement in statements(path, engine.dialect.name):
                conn.execute(sa.text(statement))
        conn.execute(sa.text("INSERT INTO dim_place VALUES ('210504', '明山区', 'district', '210500')"))
        conn.execute(
            sa.text(
                "INSERT INTO stg_file_load (file_name, sha256, report_type, district_code, period, sheet_name, "
                "rows_read, rows_loaded, status, is_current) VALUES ('明山区_清单_2021Q4.xlsx', :sha, 'service_items', "
                "'210504', '2021Q4', '事项清单', 3, 3, 'accepted', 1)"
            ),
            {"sha": SHA},
        )
        load_id = conn.execute(sa.text("SELECT load_id FROM stg_file_load")).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO fct_service_item (load_id, source_row, item_code, district, is_application, in_service_hall) "
                "VALUES (:l, :r, :c, '210504', :a, :h)"
            ),
            [{"l": load_id, "r": 3 + i, "c": f"C{i}", "a": True, "h": i != 2} for i in range(3)],
        )
        conn.execute(
            sa.text(
                "INSERT INTO stg_finding (load_id, rule, severity, message_zh, message_en) "
                "VALUES (:l, 'x', 'warning', '提示', 'note')"
            ),
            {"l": load_id},
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    return get_engine(url)


def test_migration_upgrades_a_populated_first_version_warehouse(engine):
    create_v1_warehouse(engine)
    applied = ensure_schema(engine)
    assert applied == [m.version for m in migrations(engine.dialect.name)] == [2, 3, 4, 5, 6, 7, 8]
    with engine.connect() as conn:
        facts = conn.execute(
            sa.text(
                "SELECT source_row, item_code, source_sha256, source_sheet FROM fct_service_item ORDER BY source_row"
            )
        ).all()
        assert [tuple(r) for r in facts] == [
            (3, "C0", SHA, "事项清单"),
            (4, "C1", SHA, "事项清单"),
            (5, "C2", SHA, "事项清单"),
        ]
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stg_finding")).scalar() == 1
        assert conn.execute(sa.text("SELECT receipt_path FROM stg_file_load")).scalar() is None
        city = conn.execute(
            sa.text(
                "SELECT items, application_items, in_hall_rate_pct FROM mart_service_items_by_district "
                "WHERE district_code IS NULL"
            )
        ).one()
        assert (city.items, city.application_items, float(city.in_hall_rate_pct)) == (3, 3, 66.67)
        # migration 008: the summaries of the facts loaded before it (mart_lineage reads them)
        lineage = conn.execute(sa.text("SELECT fact_rows, first_row, last_row FROM mart_lineage")).one()
        assert tuple(lineage) == (3, 3, 5)
        if engine.dialect.name == "postgresql":
            schemas = dict(
                conn.execute(
                    sa.text(
                        "SELECT table_name, table_schema FROM information_schema.tables "
                        "WHERE table_name IN ('stg_file_load', 'fct_service_item', 'dim_place', 'mart_file_status')"
                    )
                ).all()
            )
            assert schemas == {
                "stg_file_load": "staging",
                "fct_service_item": "core",
                "dim_place": "core",
                "mart_file_status": "mart",
            }
    assert ensure_schema(engine) == []  # a second upgrade is a no-op


def test_a_new_warehouse_is_created_current_and_stamped(engine):
    assert ensure_schema(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM meta_schema_migration")).scalars().all() == [
            2,
            3,
            4,
            5,
            6,
            7,
            8,
        ]
        columns = {
            c["name"]
            for c in sa.inspect(conn).get_columns(
                "fct_service_item", schema="core" if engine.dialect.name == "postgresql" else None
            )
        }
    assert {"source_sha256", "source_sheet", "source_row", "load_id"} <= columns


def test_a_current_warehouse_is_left_alone_until_something_changes(engine):
    """The ingest run every five minutes calls ensure_schema: on a current warehouse it must write nothing
    (a marker row survives), while a change to the reference data or an explicit migrate rebuilds it."""
    from etl.reference.calendar import default_expected_reports

    ensure_schema(engine)
    marker = "INSERT INTO dim_report_type (report_type, title_zh, period_grain, fact_table) VALUES ('marker', '标记', 'day', 'x')"
    count = "SELECT COUNT(*) FROM dim_report_type WHERE report_type = 'marker'"
    with engine.begin() as conn:
        conn.execute(sa.text(marker))
    assert ensure_schema(engine) == []
    with engine.connect() as conn:
        assert conn.execute(sa.text(count)).scalar() == 1  # nothing was rewritten

    fewer = default_expected_reports()[1:]  # the calendar changed: reference data is refreshed
    ensure_schema(engine, expected=fewer)
    with engine.connect() as conn:
        assert conn.execute(sa.text(count)).scalar() == 0
        assert conn.execute(sa.text("SELECT COUNT(*) FROM dim_expected_report")).scalar() == len(fewer)
        conn.execute(sa.text(marker))
        conn.commit()
    ensure_schema(engine, expected=fewer, force=True)  # `python -m etl migrate` always rebuilds
    with engine.connect() as conn:
        assert conn.execute(sa.text(count)).scalar() == 0


def test_statements_keep_dollar_quoted_bodies_whole():
    text = "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN x; y; END $$;\nSELECT 1;\n DO $$ BEGIN z; END $$ ;  "
    assert split_statements(text) == [
        "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN x; y; END $$",
        "SELECT 1",
        "DO $$ BEGIN z; END $$",
    ]


def test_a_file_for_one_database_is_that_database_s_and_comes_after_every_table():
    for dialect, other in (("postgresql", "sqlite"), ("sqlite", "postgresql")):
        files = definition_files(dialect)
        assert not any(p.name.endswith(f".{other}.sql") for p in files)
        own = [i for i, p in enumerate(files) if p.name.endswith(f".{dialect}.sql")]
        tables = [i for i, p in enumerate(files) if not p.name.startswith("mart_") and i not in own]
        assert all(i > max(tables) for i in own)
    assert any(p.name == "fct_load_reference.postgresql.sql" for p in definition_files("postgresql"))
