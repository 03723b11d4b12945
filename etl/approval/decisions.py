"""A steward's decision on one version of a unit, in one transaction, recorded in stg_approval:

  approve    a current version awaiting approval: published, the unit locked. A held replacement: it
             becomes the current version (the approved one it replaces stays as history) and is approved.
  reject     a current version: returned to the clerk (not published), who sends a corrected file; a held
             replacement: dropped (status rejected, its facts removed), the approved version stays. Either
             way the clerk gets a note beside the receipt and the stewards an alert.
  unapprove  an approved current version, with a reason: it awaits approval again and the unit is no
             longer locked — a replacement held meanwhile becomes current, as the newest file would have.

A decision on a version that is no longer the one asked about (a newer file arrived, another steward
decided first) changes nothing: ``StaleDecision`` says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl.approval.lock import APPROVED, DECISIONS, REJECTED, UNAPPROVED, latest_decision, lock_unit
from etl.approval.units import Version, version
from etl.config import Settings
from etl.contracts import CONTRACTS
from etl.statuses import HELD
from etl.statuses import REJECTED as FILE_REJECTED
from etl.warehouse import summaries
from etl.warehouse.engine import get_engine, now

log = logging.getLogger(__name__)

LABELS_ZH = {APPROVED: "审核通过", REJECTED: "退回修改", UNAPPROVED: "撤销审核"}
NOTE_SUFFIX = ".审核意见.txt"


class StaleDecision(Exception):
    """The version decided on is no longer awaiting this decision; nothing was changed."""


@dataclass(frozen=True)
class Decision:
    load_id: int
    decision: str  # approved | rejected | unapproved
    decided_by: str
    comment: str = ""
    decided_via: str = "cli"  # cli | airflow
    airflow_ref: str | None = None  # dag/run/task/map index of the human-in-the-loop task


@dataclass
class Outcome:
    decision: Decision
    version: Version
    made_current: int | None = None  # the load that became current through this decision
    clerk_note: Path | None = None

    def summary_zh(self) -> str:
        text = f"{self.version.unit_label}：{LABELS_ZH[self.decision.decision]}（文件「{self.version.file_name}」）"
        if self.made_current is not None:
            text += f"，第{self.made_current}号文件成为现行数据"
        return text


def decide(decision: Decision, settings: Settings | None = None) -> Outcome:
    """Apply ``decision`` (see the module doc); the clerk's note and the alert follow a rejection."""
    if decision.decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision.decision!r}: one of {DECISIONS}")
    if decision.decision in (REJECTED, UNAPPROVED) and not decision.comment.strip():
        raise ValueError("退回和撤销审核须写明原因 (a comment is required)")
    settings = settings or Settings.from_env()
    engine = get_engine(settings.warehouse_url)
    before = version(engine, decision.load_id)
    if before is None:
        raise StaleDecision(f"没有第{decision.load_id}号文件记录")
    with engine.begin() as conn:
        lock_unit(conn, before.report_type, before.district_code, before.period)
        row = _load_row(conn, decision.load_id)
        state = latest_decision(conn, decision.load_id)
        held = row["status"] == HELD and row["superseded_by"] is None
        awaiting = row["is_current"] == 1 and state in (None, UNAPPROVED)
        made_current = None
        if decision.decision == UNAPPROVED:
            if not (row["is_current"] == 1 and state == APPROVED):
                raise StaleDecision(
                    f"{before.unit_label}的第{decision.load_id}号文件不是已审核的现行数据，无法撤销审核"
                )
        elif not (held or awaiting):
            raise StaleDecision(_why_stale(row, state, before))
        _record(conn, decision, before)
        if decision.decision == APPROVED and held:
            made_current = _make_current(conn, row)
        elif decision.decision == REJECTED and held:
            _drop_held(conn, row, decision)
        elif decision.decision == UNAPPROVED:
            pending = _pending_replacement(conn, row)
            made_current = _make_current(conn, pending) if pending else None
    outcome = Outcome(decision, before, made_current)
    if decision.decision == REJECTED:
        outcome.clerk_note = _tell_the_clerk(outcome, settings)
    log.info("approval: %s by %s", outcome.summary_zh(), decision.decided_by)
    return outcome


def _load_row(conn: Connection, load_id: int) -> dict:
    return dict(
        conn.execute(
            sa.text(
                "SELECT load_id, report_type, district_code, period, status, checked_status, is_current, "
                "superseded_by FROM stg_file_load WHERE load_id = :id"
            ),
            {"id": load_id},
        )
        .mappings()
        .one()
    )


def _why_stale(row: dict, state: str | None, before: Version) -> str:
    if row["status"] == HELD or (row["superseded_by"] is not None and row["is_current"] == 0):
        return f"{before.unit_label}：第{row['load_id']}号文件已被更新的文件替换，请审核最新的文件"
    if state is not None:
        return f"{before.unit_label}：第{row['load_id']}号文件已有审核结果（{LABELS_ZH[state]}）"
    return f"{before.unit_label}：第{row['load_id']}号文件不是待审核的文件（状态 {row['status']}）"


def _record(conn: Connection, decision: Decision, about: Version) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO stg_approval (report_type, district_code, period, load_id, decision, decided_by, "
            "decided_at, comment, decided_via, airflow_ref) VALUES (:rt, :d, :p, :id, :decision, :by, :at, "
            ":comment, :via, :ref)"
        ),
        {
            "rt": about.report_type,
            "d": about.district_code,
            "p": about.period,
            "id": decision.load_id,
            "decision": decision.decision,
            "by": decision.decided_by,
            "at": now(),
            "comment": decision.comment.strip() or None,
            "via": decision.decided_via,
            "ref": decision.airflow_ref,
        },
    )
    conn.execute(sa.text("DELETE FROM stg_approval_request WHERE load_id = :id"), {"id": decision.load_id})


def _unit(row: dict) -> dict:
    return {"rt": row["report_type"], "d": row["district_code"], "p": row["period"]}


def _make_current(conn: Connection, held: dict) -> int:
    """A held replacement becomes the unit's current version, with the status validation gave it."""
    conn.execute(
        sa.text(
            "UPDATE stg_file_load SET is_current = 0, superseded_by = :id WHERE report_type = :rt "
            "AND district_code = :d AND period = :p AND is_current = 1"
        ),
        {**_unit(held), "id": held["load_id"]},
    )
    conn.execute(
        sa.text("UPDATE stg_file_load SET is_current = 1, status = checked_status WHERE load_id = :id"),
        {"id": held["load_id"]},
    )
    return held["load_id"]


def _drop_held(conn: Connection, held: dict, decision: Decision) -> None:
    """A rejected replacement: not loaded after all (its facts removed; the archive keeps its bytes)."""
    fact_table = CONTRACTS[held["report_type"]].fact_table  # a table name of ours, never file content
    summaries.forget(conn, [held["load_id"]])
    conn.execute(sa.text(f"DELETE FROM {fact_table} WHERE load_id = :id"), {"id": held["load_id"]})
    conn.execute(
        sa.text(
            "UPDATE stg_file_load SET status = :rejected, rows_loaded = 0, reason_zh = :zh, reason_en = :en "
            "WHERE load_id = :id"
        ),
        {
            "rejected": FILE_REJECTED,
            "zh": f"数据管理员审核未通过，原已审核数据继续有效：{decision.comment.strip()}",
            "en": "rejected by the steward as a replacement of approved data",
            "id": held["load_id"],
        },
    )


def _pending_replacement(conn: Connection, current: dict) -> dict | None:
    row = (
        conn.execute(
            sa.text(
                "SELECT load_id FROM stg_file_load WHERE report_type = :rt AND district_code = :d AND period = :p "
                "AND status = :held AND superseded_by IS NULL ORDER BY load_id DESC LIMIT 1"
            ),
            {**_unit(current), "held": HELD},
        )
        .mappings()
        .first()
    )
    return _load_row(conn, row["load_id"]) if row else None


def _tell_the_clerk(outcome: Outcome, settings: Settings) -> Path:
    """A note beside the file's receipt (receipts/<区县>/…审核意见.txt), and an alert for the stewards."""
    from etl.publish.alerts import send_alert
    from etl.shared_paths import write_unused

    about, decision = outcome.version, outcome.decision
    receipt = settings.shared_dir / about.receipt_path if about.receipt_path else None
    folder = receipt.parent if receipt else settings.receipts
    note_name = f"{receipt.name if receipt else about.file_name}{NOTE_SUFFIX}"
    lines = [
        f"文件：{about.file_name}",
        f"报表：{about.unit_label}",
        "审核结果：退回修改",
        f"审核意见：{decision.comment.strip()}",
        f"审核人：{decision.decided_by}",
        f"时间：{now():%Y-%m-%d %H:%M}",
        "",
        "请按审核意见修改后，将文件重新放入本区县的文件夹。"
        if about.replaces is None
        else "本文件未替换已审核的数据，原数据继续有效；如需更正，请修改后重新提交。",
    ]
    note = write_unused(folder, note_name, settings.shared_dir, ("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    send_alert(
        "approval_rejected",
        f"审核退回：{about.unit_label}",
        f"{decision.decided_by}退回了文件「{about.file_name}」：{decision.comment.strip()}",
        settings,
        details={"load_id": about.load_id, "note": str(note.relative_to(settings.shared_dir))},
    )
    return note
