"""The approval cycle on SQLite and PostgreSQL, through the pipeline and etl.approval.decisions: ready →
approved → a new file is held → the replacement approved → figures change; reject; unapprove."""

from __future__ import annotations

import json

import pytest
from warehouse_helpers import drop_hotline as drop
from warehouse_helpers import query

from etl.approval.decisions import NOTE_SUFFIX, Decision, StaleDecision, decide
from etl.approval.units import approved, awaiting_decision
from etl.statuses import HELD

UNIT = "report_type = 'hotline_tickets' AND district_code = '210504' AND period = '2021-09'"


@pytest.fixture
def leaders_see_approved_only(monkeypatch):
    monkeypatch.setenv("PUBLISH_UNAPPROVED", "0")


def tickets(settings) -> int | None:
    rows = query(settings, "SELECT tickets, approved FROM mart_hotline_by_district WHERE district_code = '210504'")
    assert len(rows) <= 1
    return (rows[0]["tickets"], rows[0]["approved"]) if rows else None


def state(settings) -> dict:
    (row,) = query(settings, f"SELECT * FROM mart_approval_status WHERE {UNIT}")
    return row


def test_approve_lock_hold_and_approve_the_replacement(settings, leaders_see_approved_only):
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    assert first.status == "flagged"
    assert state(settings)["approval_state"] == "awaiting_approval" and state(settings)["published"] == 0
    assert tickets(settings) is None  # leaders see approved figures only
    assert [v.load_id for v in awaiting_decision(settings_engine(settings))] == [first.load_id]

    decide(Decision(first.load_id, "approved", "steward1", "核对无误"), settings)
    assert state(settings)["approval_state"] == "approved"
    approved_tickets = tickets(settings)
    assert approved_tickets[1] == 1 and approved_tickets[0] > 90

    second = drop(settings, "明山区_12345_2021-09_更正.csv", 80)
    assert second.status == HELD
    assert "锁定" in second.reason_zh and "暂存" in second.reason_zh
    assert tickets(settings) == approved_tickets  # the approved figures stay
    assert state(settings)["held_load_id"] == second.load_id
    (receipt_row,) = query(
        settings, "SELECT status_zh, receipt_path FROM mart_file_status WHERE load_id = :i", i=second.load_id
    )
    assert receipt_row["status_zh"] == "已暂存，待审核后替换"
    assert [v.load_id for v in awaiting_decision(settings_engine(settings))] == [second.load_id]

    copy = drop(settings, "明山区_12345_2021-09_更正(1).csv", 80)  # the same bytes again
    assert copy.status == "duplicate"

    decide(Decision(second.load_id, "approved", "steward2", "更正后数据"), settings)
    after = tickets(settings)
    assert after[1] == 1 and after[0] < approved_tickets[0]  # the replacement's figures
    assert state(settings)["load_id"] == second.load_id and state(settings)["held_load_id"] is None
    history = query(settings, "SELECT load_id, decision, decided_by FROM stg_approval ORDER BY approval_id")
    assert [(h["load_id"], h["decision"], h["decided_by"]) for h in history] == [
        (first.load_id, "approved", "steward1"),
        (second.load_id, "approved", "steward2"),
    ]
    (old,) = query(settings, "SELECT is_current, superseded_by FROM stg_file_load WHERE load_id = :i", i=first.load_id)
    assert (old["is_current"], old["superseded_by"]) == (0, second.load_id)


def test_reject_tells_the_clerk_and_a_corrected_file_replaces_it(settings, leaders_see_approved_only, monkeypatch):
    monkeypatch.setenv("PUBLISH_UNAPPROVED", "1")  # even then a rejected figure is not published
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    assert tickets(settings)[1] == 0  # published while awaiting, marked not approved
    with pytest.raises(ValueError, match="原因"):
        decide(Decision(first.load_id, "rejected", "steward1", "  "), settings)
    outcome = decide(Decision(first.load_id, "rejected", "steward1", '=HYPERLINK("x") 工单数偏少，请核对'), settings)
    assert state(settings)["approval_state"] == "rejected" and tickets(settings) is None
    note = outcome.clerk_note
    assert note.name.endswith(NOTE_SUFFIX) and note.parent == (settings.shared_dir / first.receipt).parent
    text = note.read_text(encoding="utf-8-sig")
    assert "退回修改" in text and "工单数偏少" in text and "steward1" in text
    alert = json.loads((settings.alerts / "alerts.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert alert["kind"] == "approval_rejected" and alert["details"]["load_id"] == first.load_id
    assert awaiting_decision(settings_engine(settings)) == []  # waits for the clerk, not the steward

    second = drop(settings, "明山区_12345_2021-09_更正.csv", 80)
    assert second.status == "flagged"  # not locked: the corrected file is current at once
    assert state(settings)["load_id"] == second.load_id and state(settings)["approval_state"] == "awaiting_approval"


def test_rejecting_a_held_replacement_keeps_the_approved_figures(settings, leaders_see_approved_only):
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    decide(Decision(first.load_id, "approved", "steward1"), settings)
    before = tickets(settings)
    second = drop(settings, "明山区_12345_2021-09_更正.csv", 80)
    outcome = decide(Decision(second.load_id, "rejected", "steward1", "更正理由不充分"), settings)
    assert tickets(settings) == before and state(settings)["load_id"] == first.load_id
    (row,) = query(
        settings, "SELECT status, rows_loaded, reason_zh FROM stg_file_load WHERE load_id = :i", i=second.load_id
    )
    assert row["status"] == "rejected" and row["rows_loaded"] == 0 and "更正理由不充分" in row["reason_zh"]
    assert (
        query(settings, "SELECT COUNT(*) AS n FROM fct_hotline_ticket WHERE load_id = :i", i=second.load_id)[0]["n"]
        == 0
    )
    assert "未替换已审核的数据" in outcome.clerk_note.read_text(encoding="utf-8-sig")
    with pytest.raises(StaleDecision):
        decide(Decision(second.load_id, "approved", "steward2"), settings)  # decided already


def test_unapprove_unlocks_and_the_held_file_becomes_current(settings, leaders_see_approved_only):
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    with pytest.raises(StaleDecision):
        decide(Decision(first.load_id, "unapproved", "steward1", "理由"), settings)  # not approved
    decide(Decision(first.load_id, "approved", "steward1"), settings)
    assert [v.load_id for v in approved(settings_engine(settings), district_code="210504")] == [first.load_id]
    second = drop(settings, "明山区_12345_2021-09_更正.csv", 80)
    with pytest.raises(ValueError):
        decide(Decision(first.load_id, "unapproved", "steward1", ""), settings)
    outcome = decide(Decision(first.load_id, "unapproved", "steward1", "区里说原数据有误"), settings)
    assert outcome.made_current == second.load_id
    assert state(settings)["load_id"] == second.load_id and state(settings)["approval_state"] == "awaiting_approval"
    assert tickets(settings) is None  # nothing approved now
    third = drop(settings, "明山区_12345_2021-09_再更正.csv", 70)
    assert third.status == "flagged"  # unlocked: the newest file is current


def test_a_decision_on_a_replaced_version_changes_nothing(settings, leaders_see_approved_only):
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    second = drop(settings, "明山区_12345_2021-09_更正.csv", 80)  # not locked: replaces the first
    with pytest.raises(StaleDecision, match="替换"):
        decide(Decision(first.load_id, "approved", "steward1"), settings)
    assert query(settings, "SELECT COUNT(*) AS n FROM stg_approval")[0]["n"] == 0
    assert state(settings)["load_id"] == second.load_id


def settings_engine(settings):
    from etl.warehouse.engine import get_engine

    return get_engine(settings.warehouse_url)


def test_the_command_line_lists_approves_and_refuses_a_reject_without_reason(sqlite_settings, capsys):
    from etl.__main__ import main

    settings = sqlite_settings
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    assert main(["approval", "list"]) == 0
    assert f"{first.load_id:>8}  明山区 · 12345便民服务热线工单 · 2021-09" in capsys.readouterr().out
    assert main(["approval", "reject", str(first.load_id)]) == 1
    assert "原因" in capsys.readouterr().err
    assert main(["approval", "approve", str(first.load_id), "--by", "steward1"]) == 0
    assert "审核通过" in capsys.readouterr().out
    assert state(settings)["decided_by"] == "steward1"
    assert main(["approval", "approve", str(first.load_id)]) == 1  # decided already
