"""An approved unit is locked: a new file for the same report type × district × period is loaded but
held (status held_for_approval) until a steward approves it; the approved figures stay current."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

APPROVED, REJECTED, UNAPPROVED = "approved", "rejected", "unapproved"
DECISIONS = (APPROVED, REJECTED, UNAPPROVED)


def lock_unit(conn: Connection, report_type: str | None, district_code: str | None, period: str | None) -> None:
    """Serialise work on one unit for the rest of the transaction: a load deciding whether the unit is
    locked and a steward's decision on it never interleave (PostgreSQL; SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"approval|{report_type}|{district_code}|{period}"},
        )


def latest_decision(conn: Connection, load_id: int) -> str | None:
    """The last steward decision on this load (approved | rejected | unapproved), or None."""
    return conn.execute(
        sa.text("SELECT decision FROM stg_approval WHERE load_id = :id ORDER BY approval_id DESC LIMIT 1"),
        {"id": load_id},
    ).scalar()


def is_locked(conn: Connection, current_load_id: int) -> bool:
    return latest_decision(conn, current_load_id) == APPROVED


def held_reason(reason_zh: str, period: str | None) -> str:
    """The reason a clerk reads on the receipt of a held file: what validation said (its rows are read,
    not yet in the figures), then why it waits."""
    checked = reason_zh.replace("已入库", "已读入", 1)
    return (
        f"{checked}；{period or '本期'}数据已经审核通过并锁定，本文件已暂存，"
        "数据管理员审核通过后替换原数据（无需重新提交）"
    )
