"""A file's status: the words the warehouse stores, and how each is said — defined here once for the
receipts, the stewards' page, the run summary and the warehouse views (``mart_file_status`` gets its
``CASE`` from ``status_label_sql``)."""

from __future__ import annotations

ACCEPTED, FLAGGED, REJECTED, DUPLICATE = "accepted", "flagged", "rejected", "duplicate"
# loaded, not current: its district × type × period is approved and locked (etl.approval)
HELD = "held_for_approval"
STATUSES = (ACCEPTED, FLAGGED, REJECTED, DUPLICATE, HELD)
LOADED_STATUSES = (ACCEPTED, FLAGGED, HELD)  # content in the fact tables

# status → (Chinese, English), as clerks, stewards and leaders read it
LABELS: dict[str, tuple[str, str]] = {
    ACCEPTED: ("已入库", "Accepted"),
    FLAGGED: ("已入库（有提示）", "Loaded with warnings"),
    REJECTED: ("已退回", "Rejected"),
    DUPLICATE: ("重复提交（未处理）", "Duplicate, not processed"),
    HELD: ("已暂存，待审核后替换", "Held for steward approval"),
}
# what the clerk is asked to do, after the label on the receipt
CLERK_ACTION_ZH = {REJECTED: "请修改后重新提交"}


def label_zh(status: str | None) -> str:
    return LABELS[status][0] if status in LABELS else status or "未知"


def receipt_label(status: str | None) -> str:
    """The status line of a receipt: the label, and what to do next when there is something to do."""
    action = CLERK_ACTION_ZH.get(status)
    return f"{label_zh(status)}，{action}" if action else label_zh(status)


def status_label_sql(column: str) -> str:
    """``CASE <column> WHEN 'accepted' THEN '已入库' … END`` for a view (our constants only, never file content)."""
    cases = " ".join(f"WHEN '{status}' THEN '{zh}'" for status, (zh, _en) in LABELS.items())
    return f"CASE {column} {cases} END"
