"""The summaries written beside the facts (etl.warehouse.summaries) say what the facts say: after loads,
a resubmission, a file held for approval and a held file dropped, mart_hotline_by_district equals the
same figures added up over every ticket (the view's definition before the summaries), mart_lineage's rows
per load equal a count of the facts, and ``rebuild`` from the facts gives the same summaries."""

from __future__ import annotations

from hostile import hotline_csv, hotline_ticket
from warehouse_helpers import drop_hotline, ingest, query

from etl.approval.decisions import Decision, decide
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
