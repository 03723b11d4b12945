"""The summaries written beside the facts (etl.warehouse.summaries) say what the facts say: after loads,
a resubmission, a file held for approval and a held file dropped, mart_hotline_by_district equals the
same figures added up over every ticket (the view's definition before the summaries), mart_lineage's rows
per load equal a count of the facts, and ``rebuild`` from the facts gives the same summaries. A load's
summaries are tallied from its facts as they are written (``Tally``): on exports hypothesis writes (every
kind of reply, closure and rating, blanks, a column left out, rows quarantined), read whole or in chunks,
they equal what the warehouse's SQL computes from the loaded facts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hostile import HOTLINE_HEADER, hotline_csv, hotline_ticket
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from warehouse_helpers import drop_hotline, ingest, query

import etl.ingest.read.csv_chunks
from etl.approval.decisions import Decision, decide
from etl.ingest.load.sinks import LiveCopy
from etl.warehouse import summaries
from etl.warehouse.engine import get_engine

BY_SCANNING_EVERY_TICKET = """
SELECT l.period, f.district AS district_code, COUNT(*) AS tickets,
       SUM(CASE WHEN f.replied_within_2h THEN 1 ELSE 0 END) AS replied_within_2h,
       SUM(CASE WHEN f.closed_at IS NOT NULL THEN 1 ELSE 0 END) AS closed,
       SUM(CASE WHEN f.closed_within_3wd THEN 1 ELSE 0 END) AS closed_within_3wd,
       SUM(CASE WHEN f.closure_deadline IS NULL THEN 1 ELSE 0 END) AS deadline_pending,
       SUM(CASE WHEN f.satisfaction IS NOT NULL AND f.satisfaction <> '未评价' THEN 1 ELSE 0 END) AS rated,
       SUM(CASE WHEN f.satisfaction IN ('满意', '基本满意') THEN 1 ELSE 0 END) AS satisfied
FROM fct_hotline_ticket f JOIN mart_published_load l ON l.load_id = f.load_id
GROUP BY l.period, f.district
"""
COUNTS = ("tickets", "replied_within_2h", "closed", "closed_within_3wd", "deadline_pending", "rated", "satisfied")


def district_rows(settings) -> dict:
    rows = query(settings, f"SELECT period, district_code, {', '.join(COUNTS)} FROM mart_hotline_by_district")
    return {(r["period"], r["district_code"]): tuple(int(r[c]) for c in COUNTS) for r in rows if r["district_code"]}


def scanned(settings) -> dict:
    rows = query(settings, BY_SCANNING_EVERY_TICKET)
    return {(r["period"], r["district_code"]): tuple(int(r[c]) for c in COUNTS) for r in rows}


def summary_tables(settings) -> tuple[list, list]:
    return (
        query(settings, "SELECT * FROM fct_load_summary ORDER BY load_id"),
        query(settings, "SELECT * FROM fct_hotline_load_summary ORDER BY load_id, district"),
    )


def test_summaries_say_what_the_facts_say(settings):
    drop_hotline(settings, "明山区_12345_2021-09.csv", 120)
    other = settings.inbox / "南芬区" / "南芬区_12345_2021-09.csv"
    hotline_csv(other, [hotline_ticket(i, "南芬区", "铁山街道") for i in range(1, 30)], district="南芬区")
    ingest(settings)
    correction = drop_hotline(settings, "明山区_12345_2021-09_更正.csv", 90)  # replaces the first (not locked)
    decide(Decision(correction.load_id, "approved", "steward"), settings)
    held = drop_hotline(settings, "明山区_12345_2021-09_再更正.csv", 60)
    assert held.status == "held_for_approval"
    dropped = drop_hotline(settings, "明山区_12345_2021-09_三更正.csv", 50)  # the newest held one
    decide(Decision(dropped.load_id, "rejected", "steward", "不予替换"), settings)

    assert district_rows(settings) == scanned(settings) and len(scanned(settings)) == 2
    lineage = query(settings, "SELECT load_id, fact_rows FROM mart_lineage ORDER BY load_id")
    counted = query(settings, "SELECT load_id, COUNT(*) AS n FROM fct_hotline_ticket GROUP BY load_id ORDER BY load_id")
    assert [(r["load_id"], r["fact_rows"]) for r in lineage] == [(r["load_id"], r["n"]) for r in counted]
    assert dropped.load_id not in {r["load_id"] for r in lineage}  # its rows are gone, and its summary

    incremental = summary_tables(settings)
    with get_engine(settings.warehouse_url).begin() as conn:
        assert summaries.rebuild(conn) == len(counted)
    assert summary_tables(settings) == incremental


def test_a_refresh_leaves_the_planner_as_it_found_it(settings):
    """On PostgreSQL the 12345 counts are grouped by hashing (etl.warehouse.summaries) for that statement
    only: the rest of the load's transaction plans as configured, sorts included."""
    drop_hotline(settings, "明山区_12345_2021-09.csv", 30)
    engine = get_engine(settings.warehouse_url)
    with engine.begin() as conn:
        load_ids = [r[0] for r in conn.exec_driver_sql("SELECT load_id FROM fct_load_summary")]
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_sort = off")
            summaries.refresh(conn, summaries.HOTLINE, load_ids)
            assert conn.exec_driver_sql("SHOW enable_sort").scalar() == "off"
            conn.exec_driver_sql("SET LOCAL enable_sort = on")
        summaries.refresh(conn, summaries.HOTLINE, load_ids)
        if engine.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SHOW enable_sort").scalar() == "on"
    assert district_rows(settings) == scanned(settings) and len(scanned(settings)) == 1


RECEIVED = dt.datetime(2021, 9, 3, 16, 0)  # a Friday: the deadline crosses a weekend
TICKET = st.fixed_dictionaries(
    {
        "reply": st.sampled_from([None, 5, 119, 120, 121, 900]),  # minutes after receipt (120: exactly 2 h)
        "closed": st.sampled_from([None, 1, 60, 200]),  # hours after receipt
        "satisfaction": st.sampled_from(["满意", "基本满意", "不满意", "未评价", "", "很好"]),
        "street": st.sampled_from(["北地街道", "高台子街道", ""]),
        "bad_time": st.booleans(),  # quarantined: 受理时间 is no time
    }
)


EXPORTS = itertools.count(1)  # each export its own ticket numbers: never a duplicate of an earlier one


def tally_export(path, tickets: list[dict], drop_column: str | None, export: int) -> None:
    stamp = "%Y-%m-%d %H:%M:%S"
    rows = []
    for i, t in enumerate(tickets, 1000 * export):
        received = RECEIVED + dt.timedelta(minutes=7 * i)
        reply = received + dt.timedelta(minutes=t["reply"]) if t["reply"] is not None else None
        closed = received + dt.timedelta(hours=t["closed"]) if t["closed"] is not None else None
        row = hotline_ticket(i, street=t["street"])
        row[1] = "2021-09-31 25:61" if t["bad_time"] else received.strftime(stamp)
        row[5] = reply.strftime(stamp) if reply else ""
        row[6] = closed.strftime(stamp) if closed else ""
        row[7] = t["satisfaction"]
        rows.append(row)
    if drop_column is not None:
        k = HOTLINE_HEADER.index(drop_column)
        rows = [r[:k] + r[k + 1 :] for r in rows]
    hotline_csv(path, rows)
    if drop_column is not None:  # the header without that column
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[1] = ",".join(h for h in HOTLINE_HEADER if h != drop_column) + "\r\n"
        path.write_text("".join(lines), encoding="utf-8")


@hypothesis_settings(max_examples=10)
@given(
    tickets=st.lists(TICKET, min_size=1, max_size=30),
    drop_column=st.sampled_from([None, None, "满意度", "办结时间", "首次答复时间"]),
    streamed=st.booleans(),
)
def test_a_loads_tally_is_what_the_warehouse_computes_from_its_facts(
    settings, monkeypatch, tickets, drop_column, streamed
):
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0 if streamed else 1 << 60)
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "CHUNK_ROWS", 7)
    monkeypatch.setitem(LiveCopy.STREAM, "statement_rows", 3)
    export = next(EXPORTS)
    tickets = [{**tickets[0], "bad_time": False, "satisfaction": "满意"}, *tickets[1:]]  # one at least is loaded
    tally_export(settings.inbox / "明山区" / f"明山区_12345_2021-09_{export}.csv", tickets, drop_column, export)
    (outcome,) = ingest(settings).values()
    if outcome.status not in ("accepted", "flagged"):
        pytest.fail(f"not loaded: {outcome.status} {outcome.reason_zh}")
    tallied = summary_tables(settings)
    with get_engine(settings.warehouse_url).begin() as conn:
        summaries.refresh(conn, summaries.HOTLINE, [outcome.load_id])
    assert summary_tables(settings) == tallied
