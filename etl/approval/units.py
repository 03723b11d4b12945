"""Which versions wait for a steward's decision, and which are approved (to withdraw an approval).

A version waits when it is the current version of its unit with no decision (or its approval was
withdrawn), or when it is a replacement held while its unit was locked. A rejected current version
waits for the clerk's corrected file, not for the steward.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.statuses import HELD
from etl.warehouse.engine import as_datetime, now

_VERSION_COLUMNS = (
    "l.load_id, l.report_type, r.title_zh AS report_title, l.district_code, "
    "CASE WHEN p.level = 'city' THEN '市本级' ELSE p.place_name END AS district_name, l.period, l.file_name, "
    "l.received_at, l.rows_read, l.rows_loaded, l.findings_critical, l.findings_error, l.findings_warning, "
    "l.reason_zh, l.receipt_path, l.docs_page"
)
_JOINS = (
    "LEFT JOIN dim_place p ON p.place_code = l.district_code "
    "LEFT JOIN dim_report_type r ON r.report_type = l.report_type"
)

_STATE = "(SELECT s.approval_state FROM mart_approval_status s WHERE s.load_id = l.load_id)"


@dataclass(frozen=True)
class Version:
    """One load put before a steward: what the decision form shows. ``replaces``: the approved version a
    held replacement would take over from (None for a current version)."""

    load_id: int
    report_type: str
    report_title: str | None
    district_code: str | None
    district_name: str | None
    period: str | None
    file_name: str
    received_at: dt.datetime | None
    rows_read: int | None
    rows_loaded: int
    findings_critical: int
    findings_error: int
    findings_warning: int
    reason_zh: str | None
    receipt_path: str | None
    docs_page: str | None
    replaces: int | None = None

    @property
    def unit_label(self) -> str:
        """How a steward names the unit: 区县 · 报表 · 期间."""
        return f"{self.district_name or self.district_code or '区县未识别'} · {self.report_title or self.report_type} · {self.period or '期间未识别'}"


def _versions(engine: Engine, where: str, params: dict | None = None) -> list[Version]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT {_VERSION_COLUMNS}, a.load_id AS replaces FROM stg_file_load l {_JOINS} "
                "LEFT JOIN stg_file_load a ON a.is_current = 1 AND l.status = :held "
                "AND a.report_type = l.report_type AND a.district_code = l.district_code AND a.period = l.period "
                f"WHERE {where} ORDER BY l.period, l.report_type, l.district_code, l.load_id"
            ),
            {"held": HELD, **(params or {})},
        ).mappings()
        return [Version(**{**row, "received_at": as_datetime(row["received_at"])}) for row in rows]


def awaiting_decision(engine: Engine) -> list[Version]:
    """Every version a steward has to decide on: current versions awaiting approval, then held replacements."""
    current = _versions(engine, f"l.is_current = 1 AND {_STATE} = 'awaiting_approval'")
    held = _versions(engine, "l.status = :held AND l.superseded_by IS NULL")
    return current + held


def approved(
    engine: Engine, report_type: str | None = None, district_code: str | None = None, period: str | None = None
) -> list[Version]:
    """Current approved versions (those an approval can be withdrawn from), optionally of one report type,
    district or period."""
    where = [f"l.is_current = 1 AND {_STATE} = 'approved'"]
    params = {}
    for column, value in (("report_type", report_type), ("district_code", district_code), ("period", period)):
        if value:
            where.append(f"l.{column} = :{column}")
            params[column] = value
    return _versions(engine, " AND ".join(where), params)


def to_request(engine: Engine, run_id: str, response_days: int) -> list[Version]:
    """The versions awaiting a decision that no open approval task asks about yet, recorded as asked by
    ``run_id``; a request older than ``response_days`` has timed out and is asked again."""
    expired = now() - dt.timedelta(days=response_days)
    with engine.begin() as conn:
        asked = {
            load_id: as_datetime(at)
            for load_id, at in conn.execute(sa.text("SELECT load_id, requested_at FROM stg_approval_request"))
        }
        pending = [v for v in awaiting_decision(engine) if v.load_id not in asked or asked[v.load_id] < expired]
        if pending:
            conn.execute(
                sa.text("DELETE FROM stg_approval_request WHERE load_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": [v.load_id for v in pending]},
            )
            conn.execute(
                sa.text("INSERT INTO stg_approval_request (load_id, run_id, requested_at) VALUES (:id, :run, :at)"),
                [{"id": v.load_id, "run": run_id, "at": now()} for v in pending],
            )
    return pending


def release_requests(engine: Engine, run_id: str) -> int:
    """Forget what ``run_id`` asked, once its approval tasks have all ended: a decided version's request is
    gone already (etl.approval.decisions), so what is left ended without a decision — the task failed or
    timed out — and the next run asks about it again. Returns how many were released."""
    with engine.begin() as conn:
        return conn.execute(sa.text("DELETE FROM stg_approval_request WHERE run_id = :run"), {"run": run_id}).rowcount


def previous_period(engine: Engine, version: Version) -> dict | None:
    """The current version of the same report type and district for the period before, if any (rows and
    findings, to show the change)."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text(
                    "SELECT period, rows_loaded, findings_error, findings_warning FROM stg_file_load "
                    "WHERE is_current = 1 AND report_type = :rt AND district_code = :d AND period < :p "
                    "ORDER BY period DESC LIMIT 1"
                ),
                {"rt": version.report_type, "d": version.district_code, "p": version.period},
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def version(engine: Engine, load_id: int) -> Version | None:
    found = _versions(engine, "l.load_id = :id", {"id": load_id})
    return found[0] if found else None
