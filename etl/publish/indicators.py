"""Read the indicator views back for people: the table `make run` ends with.

One table per report type, as its contract publishes it (``Publication.printout``): the period the review
pack shows — the latest, or the busiest day of the latest month for per-day families such as the 2022-03-04
volunteer drive — per district with the city total, then the city's day-by-day series where the family has
one. Then what the stewards look at: late or missing reports, what awaits approval and the files' status."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.config import local_time
from etl.publish.review_pack import FamilyResult, family_results

STEWARD_SECTIONS = (
    (
        "报送情况：未按时报送 late or missing reports",
        "SELECT report_title, district_name, period, deadline, received_at, state_zh FROM mart_reporting_completeness "
        "WHERE on_time = 0 ORDER BY report_type, period, district_code",
    ),
    (
        "审核情况 steward approval (mart_approval_status; published = shown in the tables above)",
        "SELECT approval_state_zh, published, COUNT(*) AS reports FROM mart_approval_status "
        "GROUP BY approval_state_zh, published ORDER BY approval_state_zh",
    ),
    (
        "文件处理状态 file status",
        "SELECT status_zh, COUNT(*) AS files, SUM(rows_loaded) AS rows_loaded FROM mart_file_status "
        "GROUP BY status_zh ORDER BY status_zh",
    ),
)


def _family_tables(res: FamilyResult) -> list[tuple[str, pd.DataFrame]]:
    f = res.family
    columns = list(f.printout)
    title = f"{f.title_zh}（{res.period or '无数据'}，按区县）{f.title_en}"
    rows = [*res.districts, *([res.city] if res.city else [])]  # the city row is named 全市合计 by its view
    tables = [
        (
            title,
            pd.DataFrame(
                [
                    {"period": r["period"], "district_name": r["district_name"], **{c: r.get(c) for c in columns}}
                    for r in rows
                ],
                columns=["period", "district_name", *columns],
            ),
        )
    ]
    if res.series:
        tables.append(
            (
                f"{f.title_zh}（全市按日）{f.title_en}, city by day",
                pd.DataFrame(
                    [{"date": r["period"], **{c: r.get(c) for c in columns}} for r in res.series],
                    columns=["date", *columns],
                ),
            )
        )
    return tables


def indicator_tables(engine: Engine, as_of: str | None = None) -> list[tuple[str, pd.DataFrame]]:
    as_of_date = dt.date.fromisoformat(as_of) if as_of else local_time().date()
    with engine.connect() as conn:
        tables = [t for res in family_results(conn, as_of_date) if res.available for t in _family_tables(res)]
        tables += [(title, pd.read_sql(sa.text(sql), conn)) for title, sql in STEWARD_SECTIONS]
    return tables


def render(tables: list[tuple[str, pd.DataFrame]]) -> str:
    parts = []
    for title, frame in tables:
        body = frame.fillna("—").to_string(index=False) if len(frame) else "(无数据 no rows)"
        parts.append(f"\n== {title} ==\n{body}")
    return "\n".join(parts)
