"""Summaries written beside the facts, in the same transaction, so that leaders' views add up a few
hundred rows instead of scanning a year of facts:

  fct_load_summary          every load: its fact rows and the span of their source rows (mart_lineage)
  fct_hotline_load_summary  12345 tickets per load and district: the counts of mart_hotline_by_district

``refresh`` is called by the load (etl.ingest.load.record), by the pending-deadline fill and when a
held replacement is dropped; ``rebuild`` recomputes every summary (python -m etl migrate, migration 008).
Table names come from the contracts, never from file content.
"""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl.contracts import CONTRACTS

HOTLINE = "hotline_tickets"
_HOTLINE_COUNTS = (  # with the span of source rows, so that one pass over the tickets gives both summaries
    "SELECT load_id, district, COUNT(*), MIN(source_row), MAX(source_row), "
    "SUM(CASE WHEN replied_within_2h THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN closed_within_3wd THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN closure_deadline IS NULL THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN satisfaction IS NOT NULL AND satisfaction <> '未评价' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN satisfaction IN ('满意', '基本满意') THEN 1 ELSE 0 END) "
    "FROM fct_hotline_ticket WHERE load_id IN :ids GROUP BY load_id, district"
)
_HOTLINE_COLUMNS = (
    "load_id, district, tickets, replied_within_2h, closed, closed_within_3wd, deadline_pending, rated, satisfied"
)


def _ids(statement: str) -> sa.TextClause:
    return sa.text(statement).bindparams(sa.bindparam("ids", expanding=True))


def load_summary_statement(report_type: str) -> str:
    """The INSERT of fct_load_summary's rows for loads of ``report_type`` (its fact table, from its contract)."""
    return (
        "INSERT INTO fct_load_summary (load_id, fact_rows, first_row, last_row) "
        f"SELECT load_id, COUNT(*), MIN(source_row), MAX(source_row) FROM {CONTRACTS[report_type].fact_table} "
        "WHERE load_id IN :ids GROUP BY load_id"
    )


def forget(conn: Connection, load_ids: list[int]) -> None:
    """Drop the summaries of these loads (their facts are gone or about to be rewritten)."""
    if load_ids:
        for table in ("fct_load_summary", "fct_hotline_load_summary"):
            conn.execute(_ids(f"DELETE FROM {table} WHERE load_id IN :ids"), {"ids": load_ids})


def refresh(conn: Connection, report_type: str, load_ids: list[int]) -> None:
    """Recompute the summaries of ``load_ids`` (loads of ``report_type``) from their facts."""
    if not load_ids:
        return
    forget(conn, load_ids)
    if report_type != HOTLINE:
        conn.execute(_ids(load_summary_statement(report_type)), {"ids": load_ids})
        return
    # a month's export is a million tickets: read them once, for both summaries (a few rows per load)
    with _hash_grouping(conn):
        counts = conn.execute(_ids(_HOTLINE_COUNTS), {"ids": load_ids}).all()
    if not counts:
        return
    columns = _HOTLINE_COLUMNS.split(", ")
    conn.execute(
        sa.text(
            f"INSERT INTO fct_hotline_load_summary ({_HOTLINE_COLUMNS}) VALUES ({', '.join(':' + c for c in columns)})"
        ),
        [dict(zip(columns, (*row[:3], *row[5:]), strict=True)) for row in counts],  # less the span
    )
    spans: dict[int, list[int]] = {}
    for load_id, _district, tickets, first, last, *_ in counts:
        span = spans.setdefault(load_id, [0, first, last])
        span[0], span[1], span[2] = span[0] + tickets, min(span[1], first), max(span[2], last)
    conn.execute(
        sa.text(
            "INSERT INTO fct_load_summary (load_id, fact_rows, first_row, last_row) "
            "VALUES (:load_id, :fact_rows, :first_row, :last_row)"
        ),
        [{"load_id": k, "fact_rows": n, "first_row": a, "last_row": b} for k, (n, a, b) in spans.items()],
    )


@contextmanager
def _hash_grouping(conn: Connection):
    """PostgreSQL: group by hashing, not sorting, for one statement. A load's tickets were written in the
    same transaction, so the planner has no statistics of them and guesses a few thousand rows: it sorts
    the million by district, spilling to disk, to make the few groups (1.1 s against 0.35 s hashed, on the
    12345 export of bench/run_bench.py)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    previous = conn.execute(sa.text("SELECT current_setting('enable_sort')")).scalar()
    conn.execute(sa.text("SELECT set_config('enable_sort', 'off', true)"))  # this transaction only
    yield  # on an error the transaction is rolled back, and the setting with it
    conn.execute(sa.text("SELECT set_config('enable_sort', :previous, true)"), {"previous": previous})


def rebuild(conn: Connection) -> int:
    """Every summary recomputed from the facts; returns the loads summarised."""
    for table in ("fct_load_summary", "fct_hotline_load_summary"):
        conn.execute(sa.text(f"DELETE FROM {table}"))
    loads = 0
    for report_type, contract in CONTRACTS.items():
        ids = list(conn.execute(sa.text(f"SELECT DISTINCT load_id FROM {contract.fact_table}")).scalars())
        for start in range(0, len(ids), 500):
            refresh(conn, report_type, ids[start : start + 500])
        loads += len(ids)
    return loads
