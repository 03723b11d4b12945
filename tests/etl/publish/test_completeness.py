"""Reporting completeness and timeliness on a calendar where one district is missing and one is late,
and the alerts that go out for reports missing past their deadline."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sqlalchemy as sa
from warehouse_helpers import first_seen_at
from workbooks import write_xlsx

from etl.ingest.pipeline import discover, process_file
from etl.publish.alerts import alert_missing_reports, send_alert, task_failed
from etl.reference.calendar import deadline_for, expected_reports
from etl.warehouse.engine import get_engine
from etl.warehouse.schema import ensure_schema

CALENDAR = """
report_types:
  volunteer_activity: {frequency: monthly, due: {days_after_period_end: 5}, units: [平山区, 溪湖区, 明山区], periods: {from: 2022-03, to: 2022-03}}
  flood_cleanup: {frequency: daily, due: {next_day_at: "10:00"}, units: flood_event}
flood_events:
  - {name: 测试, from: 2021-07-28, to: 2021-07-29, districts: [溪湖区]}
"""
HEADER = ["活动日期", "区县", "组织单位", "志愿服务队", "活动类型", "参与志愿者（人）"]


def submit(settings, district: str, when: dt.datetime) -> None:
    path = write_xlsx(
        settings.inbox / district / f"{district}_志愿服务_2022-03.xlsx",
        [HEADER, ["2022-03-04", district, f"{district}文明办", f"{district}1队", "创城", 10]],
    )
    first_seen_at(settings, path, when)


@pytest.fixture
def calendar(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text(CALENDAR, encoding="utf-8")
    return expected_reports(path)


def test_deadlines_follow_the_calendar_rules(calendar):
    assert deadline_for("2021Q4", {"days_after_period_end": 5}) == dt.datetime(2022, 1, 6)
    assert deadline_for("2022-03", {"days_after_period_end": 5}) == dt.datetime(2022, 4, 6)
    assert deadline_for("2021-07-28", {"next_day_at": "10:00"}) == dt.datetime(2021, 7, 29, 10)
    assert [(e.report_type, e.district_code, e.period) for e in calendar] == [
        ("volunteer_activity", "210502", "2022-03"),
        ("volunteer_activity", "210503", "2022-03"),
        ("volunteer_activity", "210504", "2022-03"),
        ("flood_cleanup", "210503", "2021-07-28"),
        ("flood_cleanup", "210503", "2021-07-29"),
    ]


def test_one_missing_one_late(settings, calendar):
    engine = get_engine(settings.warehouse_url)
    ensure_schema(engine, expected=calendar)
    submit(settings, "平山区", dt.datetime(2022, 4, 2, 9, 0))  # on time
    submit(settings, "溪湖区", dt.datetime(2022, 4, 8, 15, 0))  # late: the deadline is 2022-04-05 24:00
    for relative in discover(settings):  # 明山区 never reports
        assert process_file(relative, settings).status == "accepted"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT district_name, received, on_time, state_zh FROM mart_reporting_completeness "
                "WHERE report_type = 'volunteer_activity' ORDER BY district_code"
            )
        ).all()
        summary = conn.execute(
            sa.text(
                "SELECT SUM(expected), SUM(received), SUM(on_time) FROM mart_completeness_by_district "
                "WHERE report_type = 'volunteer_activity'"
            )
        ).one()
        missing = conn.execute(
            sa.text("SELECT report_type, district_name, period FROM mart_missing_reports ORDER BY report_type, period")
        ).all()
        rates = conn.execute(
            sa.text(
                "SELECT district_name, completeness_pct, timeliness_pct FROM "
                "mart_completeness_by_district WHERE report_type = 'volunteer_activity' "
                "ORDER BY district_code"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("平山区", 1, 1, "按时报送"),
        ("溪湖区", 1, 0, "逾期报送"),
        ("明山区", 0, 0, "未报送"),
    ]
    assert tuple(int(v) for v in summary) == (3, 2, 1)
    assert [(n, float(c), float(t)) for n, c, t in rates] == [
        ("平山区", 100.0, 100.0),
        ("溪湖区", 100.0, 0.0),
        ("明山区", 0.0, 0.0),
    ]
    assert [tuple(r) for r in missing] == [
        ("flood_cleanup", "溪湖区", "2021-07-28"),
        ("flood_cleanup", "溪湖区", "2021-07-29"),
        ("volunteer_activity", "明山区", "2022-03"),
    ]

    alerts = alert_missing_reports(engine, settings, now=dt.datetime(2022, 4, 10))
    assert len(alerts) == 1 and alerts[0]["subject"] == "3 份报表逾期未报送"
    assert "明山区 志愿服务活动统计 2022-03" in alerts[0]["body"]
    assert alert_missing_reports(engine, settings, now=dt.datetime(2022, 4, 11)) == []  # announced once
    logged = (settings.shared_dir / "alerts" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in logged] == ["missing_report"]


def test_nothing_is_overdue_before_the_deadline(sqlite_settings, calendar):
    engine = get_engine(sqlite_settings.warehouse_url)
    ensure_schema(engine, expected=calendar)
    assert alert_missing_reports(engine, sqlite_settings, now=dt.datetime(2021, 7, 1)) == []


def test_alert_goes_to_the_webhook_and_the_file(sqlite_settings, monkeypatch):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    send_alert("task_failed", "district_ingest.process_file 运行失败", "数据库连接中断", sqlite_settings)
    thread.join(timeout=10)
    server.server_close()
    assert received[0]["subject"] == "district_ingest.process_file 运行失败" and received[0]["kind"] == "task_failed"
    assert "数据库连接中断" in (sqlite_settings.shared_dir / "alerts" / "alerts.jsonl").read_text(encoding="utf-8")


def test_a_broken_channel_does_not_lose_the_alert(sqlite_settings, monkeypatch):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/unreachable")
    send_alert("task_failed", "x 运行失败", "y", sqlite_settings)
    assert "x 运行失败" in (sqlite_settings.shared_dir / "alerts" / "alerts.jsonl").read_text(encoding="utf-8")


class _TaskInstance:
    dag_id, task_id, map_index, try_number = "district_ingest", "process_file", 3, 2

    def __init__(self, state):
        self.state = state


@pytest.mark.parametrize("exception", [None, RuntimeError("数据库连接中断")])
def test_a_task_failure_alert_says_why_even_when_the_task_never_ran(sqlite_settings, exception):
    """A task killed or failed before running has no exception: the alert says what is known, never None."""
    task_failed({"task_instance": _TaskInstance("upstream_failed"), "exception": exception, "run_id": "r1"})
    alert = json.loads((sqlite_settings.alerts / "alerts.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert "None" not in alert["body"] and alert["details"]["map_index"] == 3
    expected = "RuntimeError: 数据库连接中断" if exception else "upstream_failed"
    assert expected in alert["body"]


def test_alerts_and_the_review_pack_are_never_written_through_a_link(sqlite_settings, tmp_path):
    """alerts/ and published/ are in the share: a link left at alerts/alerts.jsonl, or at published/ itself,
    must not make us append to or create files outside it."""
    from etl.publish.review_pack import publish

    settings = sqlite_settings
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (settings.shared_dir / "alerts").mkdir(parents=True, exist_ok=True)
    (settings.shared_dir / "alerts" / "alerts.jsonl").symlink_to(victim)
    settings.published.symlink_to(elsewhere, target_is_directory=True)

    send_alert("task_failed", "测试", "正文", settings)
    paths = publish(settings, "2023-12-31")

    assert victim.read_bytes() == b"precious" and list(elsewhere.iterdir()) == []
    assert "测试" in (settings.shared_dir / "alerts" / "alerts.jsonl").read_text(encoding="utf-8")
    assert paths["xlsx"].is_file() and not settings.published.is_symlink()
