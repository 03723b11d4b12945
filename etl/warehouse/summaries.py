"""Summaries written beside the facts, in the same transaction, so that leaders' views add up a few
hundred rows instead of scanning a year of facts:

  fct_load_summary          every load: its fact rows and the span of their source rows (mart_lineage)
  fct_hotline_load_summary  12345 tickets per load and district: the counts of mart_hotline_by_district

A load's summaries are added up from its facts as they are written (``Tally``, fed by the load's sink in
etl.ingest.load.sinks) and written with the load (``write_tally``): reading a million tickets back from the
server took longer than the rest of recording the load. ``refresh`` recomputes them from the facts in the
warehouse, after the pending-deadline fill changes deadlines; ``rebuild`` recomputes every summary
(python -m etl migrate, migration 008). Both give the same rows (tests/etl/warehouse/test_summaries.py).
Table names come from the contracts, never from file content.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
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
_RATED_NOT = "未评价"  # the CASE expressions above, for Tally
_SATISFIED = ("满意", "基本满意")
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
    _insert_hotline(conn, counts)


def _insert_hotline(conn: Connection, counts) -> None:
    """Both summaries from rows of (load_id, district, tickets, first row, last row, the other counts)."""
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
    _insert_spans(conn, [(k, n, a, b) for k, (n, a, b) in spans.items()])


def _insert_spans(conn: Connection, spans: list[tuple[int, int, int, int]]) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO fct_load_summary (load_id, fact_rows, first_row, last_row) "
            "VALUES (:load_id, :fact_rows, :first_row, :last_row)"
        ),
        [{"load_id": k, "fact_rows": n, "first_row": a, "last_row": b} for k, n, a, b in spans],
    )


class Tally:
    """One load's summary counts, added up from its facts while they are written: ``_HOTLINE_COUNTS`` (for
    12345 tickets) and ``load_summary_statement`` computed on the frames the sink writes, which hold the
    values the fact table gets (``source_row``: the frames' source row column). A column the file lacks is
    NULL in the fact table and missing from the frames."""

    def __init__(self, report_type: str, source_row: str):
        self.hotline = report_type == HOTLINE
        self.source_row = source_row
        self.rows, self.first, self.last = 0, None, None
        self.districts: dict[object, np.ndarray] = {}  # district (None: NULL) → counts, as _HOTLINE_COUNTS

    def add(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        rows = frame[self.source_row].to_numpy()
        self.rows += len(rows)
        first, last = int(rows.min()), int(rows.max())
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        if not self.hotline:
            return
        n = len(frame)

        def column(name: str) -> pd.Series:
            return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)

        def true(name: str) -> np.ndarray:
            return column(name).astype("boolean").fillna(False).to_numpy(dtype=bool)

        satisfaction = column("satisfaction")
        indicators = np.column_stack(
            [
                np.ones(n, dtype=bool),
                true("replied_within_2h"),
                column("closed_at").notna().to_numpy(),
                true("closed_within_3wd"),
                column("closure_deadline").isna().to_numpy(),
                (satisfaction.notna() & (satisfaction != _RATED_NOT)).to_numpy(),
                satisfaction.isin(_SATISFIED).to_numpy(),
            ]
        )
        codes, districts = pd.factorize(column("district").to_numpy(dtype=object))  # NULL: -1
        sums = np.column_stack(
            [np.bincount(codes + 1, weights=flags, minlength=len(districts) + 1) for flags in indicators.T]
        ).astype(np.int64)
        for district, counts in zip([None, *districts], sums, strict=True):
            if counts[0]:
                self.districts[district] = self.districts.get(district, 0) + counts

    def hotline_rows(self, load_id: int) -> list[tuple]:
        """Rows as _HOTLINE_COUNTS gives them (the span per load, not per district: only the load's is kept)."""
        return [
            (load_id, district, int(c[0]), self.first, self.last, *map(int, c[1:]))
            for district, c in self.districts.items()
        ]


def write_tally(conn: Connection, load_id: int, tally: Tally) -> None:
    """The summaries of a load just written, from its tally (what ``refresh`` would compute from its facts)."""
    forget(conn, [load_id])
    if tally.hotline:
        _insert_hotline(conn, tally.hotline_rows(load_id))
    elif tally.rows:
        _insert_spans(conn, [(load_id, tally.rows, tally.first, tally.last)])


@contextmanager
def _hash_grouping(conn: Connection):
    """PostgreSQL: group by hashing, not sorting, for one statement. Tickets written in the same
    transaction (a load, a deadline fill) have no statistics yet and the planner guesses a few thousand
    rows: it sorted a million by district, spilling to disk, to make the few groups (1.1 s against 0.35 s
    hashed, on the 12345 export of bench/run_bench.py)."""
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
