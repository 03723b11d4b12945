"""Pending 12345 deadlines (期限待定) filled in place once the working-day calendar covers them, and the
alert that the calendar runs out soon.

A ticket whose three working days run into a year the calendar does not cover is loaded with
``closure_deadline`` and ``closed_within_3wd`` NULL (etl.reference.workdays). When a steward adds that year, the
facts are not reloaded: this computes the deadline once per distinct day of receipt and updates the
pending rows of that day with bound parameters, in one transaction, on any load (current or history).
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from etl.reference.workdays import WorkdayCalendar, active_calendar
from etl.warehouse import summaries
from etl.warehouse.engine import as_datetime

log = logging.getLogger(__name__)
COVERAGE_ALERT_DAYS = 60  # DOMAIN.md: the notice comes in late autumn; two months' warning to add it


def pending_days(conn: Connection) -> list[dt.date]:
    """Distinct calendar days of receipt of the tickets whose deadline is pending."""
    moments = (
        conn.execute(
            sa.text(
                "SELECT DISTINCT received_at FROM fct_hotline_ticket WHERE closure_deadline IS NULL "
                "AND received_at IS NOT NULL"
            )
        )
        .scalars()
        .all()
    )
    return sorted({as_datetime(m).date() for m in moments})


def fill_pending_deadlines(engine: Engine, calendar: WorkdayCalendar | None = None) -> dict:
    """Set closure_deadline and closed_within_3wd of every pending ticket the calendar now covers.
    Returns {"filled": tickets filled, "still_pending": tickets left pending, "days": days filled}."""
    calendar = calendar or active_calendar()
    filled_days, filled, loads = [], 0, set()
    with engine.begin() as conn:
        for day in pending_days(conn):  # read in the transaction that fills them
            deadline = calendar.closure_deadline(day)
            if deadline is None:
                continue
            params = {
                "deadline": deadline,
                "start": dt.datetime.combine(day, dt.time()),
                "end": dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
            }
            loads.update(
                conn.execute(
                    sa.text(
                        "SELECT DISTINCT load_id FROM fct_hotline_ticket WHERE closure_deadline IS NULL "
                        "AND received_at >= :start AND received_at < :end"
                    ),
                    params,
                ).scalars()
            )
            result = conn.execute(
                sa.text(
                    "UPDATE fct_hotline_ticket SET closure_deadline = :deadline, "
                    "closed_within_3wd = CASE WHEN closed_at IS NOT NULL AND closed_at <= :deadline THEN TRUE ELSE FALSE END "
                    "WHERE closure_deadline IS NULL AND received_at >= :start AND received_at < :end"
                ),
                params,
            )
            filled += result.rowcount
            filled_days.append(day)
        summaries.refresh(conn, summaries.HOTLINE, sorted(loads))  # the view's counts follow the fill
        still = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM fct_hotline_ticket WHERE closure_deadline IS NULL AND received_at IS NOT NULL"
            )
        ).scalar()
    if filled:
        log.info(
            "filled %d pending 12345 deadlines (%d days of receipt); %d still pending", filled, len(filled_days), still
        )
    return {"filled": filled, "still_pending": int(still), "days": [d.isoformat() for d in filled_days]}


def coverage_gap(
    today: dt.date, calendar: WorkdayCalendar | None = None, days: int = COVERAGE_ALERT_DAYS
) -> dt.date | None:
    """The last configured day when the calendar covers less than the next ``days`` days, else None."""
    calendar = calendar or active_calendar()
    until = calendar.covered_until(today)
    if until is not None and until >= today + dt.timedelta(days=days):
        return None
    return until or today - dt.timedelta(days=1)


def alert_calendar_coverage(
    engine: Engine, settings=None, today: dt.date | None = None, calendar: WorkdayCalendar | None = None
) -> dict | None:
    """Alert once a week (ISO week) while the calendar covers less than the next 60 days."""
    from etl.config import local_time
    from etl.publish.alerts import send_alert_once

    today = today or local_time().date()
    until = coverage_gap(today, calendar)
    if until is None:
        return None
    next_year = until.year + 1
    return send_alert_once(
        engine,
        "workday_calendar",
        f"{until.isoformat()}|{today.isocalendar().year}-W{today.isocalendar().week:02d}",
        f"节假日日历只配置到 {until}，请补充 {next_year} 年",
        (
            f"12345 工单办结期限按工作日计算，节假日（工作日）日历只配置到 {until}，不足今后 {COVERAGE_ALERT_DAYS} 天。"
            f"请按国务院办公厅 {next_year} 年部分节假日安排的通知，在 etl/reference/workdays.yaml 中补充 {next_year} 年"
            f"（见 README“Adding a year to the working-day calendar”）。在此之前，期限落入 {next_year} 年的工单计为“期限待定”。"
        ),
        settings,
        details={"covered_until": until.isoformat(), "year_needed": next_year},
    )
