"""Any sequence of new files and steward decisions on one unit keeps the promise, checked against a model
after every step: approved figures are never swapped silently (a new file for an approved period is held),
leaders see exactly the approved version's figures (PUBLISH_UNAPPROVED off), a decision on anything but
what awaits it changes nothing, and the history records every decision taken."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st
from warehouse_helpers import drop_hotline, query

from etl.approval.decisions import Decision, StaleDecision, decide

STEPS = ("file", "approve_current", "approve_held", "reject_current", "reject_held", "unapprove")


@dataclass
class Model:
    current: int | None = None
    state: str = "awaiting_approval"  # of the current version
    held: int | None = None
    tickets: dict[int, int] = field(default_factory=dict)  # load → its tickets
    decisions: int = 0


def drop(settings, n: int) -> tuple[int, str, int]:
    outcome = drop_hotline(settings, f"明山区_12345_2021-09_第{n}版.csv", 30 + 7 * n)
    (row,) = query(settings, "SELECT COUNT(*) AS n FROM fct_hotline_ticket WHERE load_id = :i", i=outcome.load_id)
    return outcome.load_id, outcome.status, row["n"]


def apply(step: str, settings, model: Model, n: int) -> None:
    if step == "file":
        load_id, status, tickets = drop(settings, n)
        model.tickets[load_id] = tickets
        if model.current is not None and model.state == "approved":
            assert status == "held_for_approval"
            model.held = load_id
        else:
            assert status in ("accepted", "flagged")
            model.current, model.state = load_id, "awaiting_approval"
        return
    target, decision, allowed = {
        "approve_current": (model.current, "approved", model.state == "awaiting_approval"),
        "approve_held": (model.held, "approved", model.held is not None),
        "reject_current": (model.current, "rejected", model.state == "awaiting_approval"),
        "reject_held": (model.held, "rejected", model.held is not None),
        "unapprove": (model.current, "unapproved", model.state == "approved"),
    }[step]
    if target is None:
        return
    if not allowed:
        with pytest.raises(StaleDecision):
            decide(Decision(target, decision, "steward", "原因"), settings)
        return
    outcome = decide(Decision(target, decision, "steward", "原因"), settings)
    model.decisions += 1
    if step == "approve_held":
        model.current, model.state, model.held = model.held, "approved", None
    elif step == "reject_held":
        model.held = None
    elif step == "unapprove":
        assert outcome.made_current == model.held
        model.current, model.state, model.held = model.held or model.current, "awaiting_approval", None
    else:
        model.state = decision


def check(settings, model: Model) -> None:
    current = query(settings, "SELECT load_id FROM stg_file_load WHERE is_current = 1")
    assert [r["load_id"] for r in current] == [model.current]
    (unit,) = query(settings, "SELECT approval_state, held_load_id FROM mart_approval_status")
    assert (unit["approval_state"], unit["held_load_id"]) == (model.state, model.held)
    shown = query(settings, "SELECT tickets, approved FROM mart_hotline_by_district WHERE district_code = '210504'")
    if model.state == "approved":
        assert shown == [{"tickets": model.tickets[model.current], "approved": 1}]
    else:
        assert shown == []
    assert query(settings, "SELECT COUNT(*) AS n FROM stg_approval")[0]["n"] == model.decisions


@given(st.lists(st.sampled_from(STEPS), min_size=2, max_size=7))
def test_any_sequence_of_files_and_decisions_keeps_the_promise(make_settings, monkeypatch, steps):
    monkeypatch.setenv("PUBLISH_UNAPPROVED", "0")
    settings = make_settings()
    model = Model()
    for n, step in enumerate(["file", *steps]):
        apply(step, settings, model, n)
        if model.current is not None:
            check(settings, model)
