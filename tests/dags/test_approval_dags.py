"""Steward approval in Airflow, end to end with dag.test(): the human-in-the-loop tasks of
district_approval and district_unapprove are answered through Airflow's own REST API (PATCH …/hitlDetails,
as the Required Actions page does), while dag.test() runs the DAG: approve → a new file is held → reject
it (the clerk's note) → another file held → approve the replacement (figures change) → withdraw the approval."""

from __future__ import annotations

import threading
import time

import pytest
from warehouse_helpers import drop_hotline as drop
from warehouse_helpers import query

from etl.approval.choices import APPROVE, COMMENT, REASON, REJECT
from etl.approval.decisions import NOTE_SUFFIX

STEWARD = "steward.li"
ANSWER_WITHIN_SECONDS = 120


def get_dag(dag_id: str):
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(__import__("conftest").REPO / "dags")).get_dag(dag_id)


@pytest.fixture
def api(airflow_db):
    """Airflow's REST API in process, logged in as a steward (the simple auth manager of the test home)."""
    from airflow.api_fastapi.app import create_app, get_auth_manager, purge_cached_app
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.models import import_all_models
    from fastapi.testclient import TestClient

    import_all_models()  # in this thread, before the answering thread imports anything
    purge_cached_app()
    client = TestClient(create_app("core"))
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=STEWARD, role="op"))
    client.headers["Authorization"] = f"Bearer {token}"
    yield client
    purge_cached_app()


def run_answering(api, dag_id: str, answer) -> tuple[object, list[dict]]:
    """dag.test() of ``dag_id`` while a thread answers each waiting human-in-the-loop task with
    ``answer(detail) -> (chosen_options, params_input)`` through the REST API, or fails the task through
    the API when ``answer`` returns None (a task that ends without a decision). Returns the run and the
    details answered. A task nobody could answer is failed through the API, so dag.test() ends."""
    answered: list[dict] = []
    problems: list[str] = []
    done = threading.Event()

    def answer_all():
        deadline = time.monotonic() + ANSWER_WITHIN_SECONDS
        while not done.is_set() and time.monotonic() < deadline:
            listing = api.get(f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails")
            if listing.status_code != 200:
                problems.append(f"list: {listing.status_code} {listing.text[:300]}")
                return
            for detail in listing.json()["hitl_details"]:
                ti = detail["task_instance"]
                if detail["response_received"] or ti["state"] != "awaiting_input":
                    continue
                given = answer(detail)
                if given is None:
                    response = fail_task(api, dag_id, ti)
                else:
                    url = (
                        f"/api/v2/dags/{dag_id}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/"
                        f"{ti['map_index']}/hitlDetails"
                    )
                    response = api.patch(url, json={"chosen_options": given[0], "params_input": given[1]})
                if response.status_code != 200:
                    problems.append(f"answer: {response.status_code} {response.text[:300]}")
                answered.append(detail)
            time.sleep(0.5)
        if not done.is_set():
            problems.append("a human-in-the-loop task was still waiting")
            for ti in api.get(f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances").json()["task_instances"]:
                if ti["state"] == "awaiting_input":
                    fail_task(api, dag_id, ti)

    thread = threading.Thread(target=answer_all, daemon=True)
    thread.start()
    try:
        dag_run = get_dag(dag_id).test()
    finally:
        done.set()
        thread.join(timeout=30)
    assert not problems, problems
    return dag_run, answered


def fail_task(api, dag_id: str, ti: dict):
    return api.patch(
        f"/api/v2/dags/{dag_id}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}?map_index={ti['map_index']}",
        json={"new_state": "failed"},
    )


def figures(settings):
    return query(settings, "SELECT tickets, approved FROM mart_hotline_by_district WHERE district_code = '210504'")


def unit(settings) -> dict:
    (row,) = query(settings, "SELECT * FROM mart_approval_status WHERE report_type = 'hotline_tickets'")
    return row


def test_approve_hold_reject_approve_and_withdraw_in_airflow(airflow_db, api, settings, monkeypatch):
    monkeypatch.setenv("PUBLISH_UNAPPROVED", "0")
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    assert figures(settings) == []  # nothing approved: leaders see nothing

    run, answered = run_answering(api, "district_approval", lambda d: ([APPROVE], {COMMENT: "已核对"}))
    assert str(run.state) == "success" and len(answered) == 1
    asked = answered[0]
    assert asked["task_instance"]["rendered_map_index"] == asked["subject"]  # the UI lists tasks by unit
    assert asked["subject"] == "审核：明山区 · 12345便民服务热线工单 · 2021-09"
    assert asked["options"] == [APPROVE, REJECT] and "/district-submissions/loads/" in asked["body"]
    assert unit(settings)["approval_state"] == "approved"
    (decision,) = query(settings, "SELECT * FROM stg_approval")
    assert (decision["load_id"], decision["decided_by"], decision["decided_via"]) == (first.load_id, STEWARD, "airflow")
    assert decision["comment"] == "已核对" and decision["airflow_ref"].startswith("district_approval/")
    approved_figures = figures(settings)
    assert approved_figures[0]["approved"] == 1

    again, answered = run_answering(api, "district_approval", lambda d: ([APPROVE], {COMMENT: ""}))
    assert str(again.state) == "success" and answered == []  # nothing new to ask about

    held = drop(settings, "明山区_12345_2021-09_更正.csv", 80)
    assert held.status == "held_for_approval" and figures(settings) == approved_figures
    run, answered = run_answering(api, "district_approval", lambda d: ([REJECT], {COMMENT: "更正说明缺失"}))
    assert [d["subject"] for d in answered] == ["替换已审核数据：明山区 · 12345便民服务热线工单 · 2021-09"]
    assert "替换的已审核数据" in answered[0]["body"]
    assert figures(settings) == approved_figures
    notes = list((settings.receipts / "明山区").glob(f"*{NOTE_SUFFIX}"))
    assert len(notes) == 1 and "更正说明缺失" in notes[0].read_text(encoding="utf-8-sig")

    replacement = drop(settings, "明山区_12345_2021-09_再更正{{ 'ab' ~ 'cd' }}.csv", 70)
    run, answered = run_answering(api, "district_approval", lambda d: ([APPROVE], {COMMENT: "附更正说明"}))
    assert len(answered) == 1 and unit(settings)["load_id"] == replacement.load_id
    assert "abcd" not in answered[0]["body"] and "\\{\\{ \\'ab\\' \\~ \\'cd\\' \\}\\}" in answered[0]["body"]
    changed = figures(settings)
    assert changed[0]["approved"] == 1 and changed[0]["tickets"] < approved_figures[0]["tickets"]

    def withdraw(detail):
        assert detail["multiple"] is True and len(detail["options"]) == 1
        return detail["options"], {REASON: "区里报告统计口径有误"}

    run, answered = run_answering(api, "district_unapprove", withdraw)
    assert str(run.state) == "success" and len(answered) == 1
    assert unit(settings)["approval_state"] == "awaiting_approval" and figures(settings) == []
    last = query(settings, "SELECT decision, comment FROM stg_approval ORDER BY approval_id DESC")[0]
    assert last == {"decision": "unapproved", "comment": "区里报告统计口径有误"}


def test_a_task_that_ends_without_a_decision_is_asked_again_by_the_next_run(airflow_db, api, settings, monkeypatch):
    """An approval task that fails or times out without a decision (Airflow 3.3.2 can fail one whose answer
    raced its pause: apache/airflow#67287) leaves its version waiting, and the run says so (failed); the run's
    teardown releases what it asked, so the next run asks again at once, not after APPROVAL_RESPONSE_DAYS."""
    monkeypatch.setenv("PUBLISH_UNAPPROVED", "0")
    loaded = drop(settings, "明山区_12345_2021-09.csv", 60)
    run, answered = run_answering(api, "district_approval", lambda d: None)
    assert str(run.state) == "failed" and len(answered) == 1
    assert unit(settings)["approval_state"] == "awaiting_approval" and figures(settings) == []
    assert query(settings, "SELECT * FROM stg_approval") == []
    assert query(settings, "SELECT * FROM stg_approval_request") == []

    run, answered = run_answering(api, "district_approval", lambda d: ([APPROVE], {COMMENT: "已核对"}))
    assert str(run.state) == "success" and [d["subject"] for d in answered] == [
        "审核：明山区 · 12345便民服务热线工单 · 2021-09"
    ]
    assert unit(settings)["approval_state"] == "approved" and unit(settings)["load_id"] == loaded.load_id
