"""The publish DAG end to end with dag.test(): once the steward adds the next year to the working-day
calendar, the next city_review_publish run fills the pending 12345 deadlines in place (no reload), the
rates equal a computation by hand and the review pack no longer says the month is provisional."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import yaml
from test_ingest_dag import task_states
from warehouse_helpers import ingest, query

NEXT = max(d.year for d in chinese_calendar.holidays) + 1  # the first year the package does not know
assert NEXT == 2027, "the weekdays below are 2027's"
HEADER = "工单编号,受理时间,区县,街道,诉求类别,首次答复时间,办结时间,满意度"


def run_publish_dag():
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(__import__("conftest").REPO / "dags")).get_dag("city_review_publish").test()


def test_the_next_publish_run_fills_pending_deadlines_once_the_calendar_has_the_year(
    airflow_db, sqlite_settings, monkeypatch
):
    settings = sqlite_settings
    calendar = settings.shared_dir.parent / "workdays.yaml"
    calendar.write_text("years: {}\n", encoding="utf-8")
    monkeypatch.setenv("WORKDAY_CALENDAR_FILE", str(calendar))
    # 2027 (the pinned package knows up to 2026): received Tuesday 5 January, the 3rd working day after is
    # Friday the 8th (deadline 24:00, stored as the 9th 00:00); received the 6th, Monday the 11th
    tickets = [
        ("MS1", dt.datetime(NEXT, 1, 5, 9), dt.datetime(NEXT, 1, 8, 18)),  # in time
        ("MS2", dt.datetime(NEXT, 1, 5, 9), dt.datetime(NEXT, 1, 9, 10)),  # late
        ("MS3", dt.datetime(NEXT, 1, 6, 9), None),
    ]  # open
    lines = [HEADER] + [
        f"{tid},{rec:%Y-%m-%d %H:%M:%S},明山区,,城市管理,,{'' if c is None else f'{c:%Y-%m-%d %H:%M:%S}'},"
        for tid, rec, c in tickets
    ]
    export = settings.inbox / "明山区" / f"明山区_12345热线工单_{NEXT}-01.csv"
    export.parent.mkdir(parents=True)
    export.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    assert ingest(settings)[f"明山区/{export.name}"].status == "flagged"  # loaded, 期限待定
    month = f"{NEXT}-01"

    def city():
        return query(
            settings,
            "SELECT tickets, deadline_pending, closed_within_3wd, closure_rate_pct, provisional "
            "FROM mart_hotline_by_district WHERE district_code IS NULL AND period = :p",
            p=month,
        )[0]

    assert city() == {
        "tickets": 3,
        "deadline_pending": 3,
        "closed_within_3wd": 0,
        "closure_rate_pct": None,
        "provisional": 1,
    }
    loads = query(settings, "SELECT load_id, status, is_current, rows_loaded FROM stg_file_load")

    # the steward adds the year (the State Council notice: 1-2 January off), then the scheduled run comes
    calendar.write_text(
        yaml.safe_dump(
            {
                "years": {
                    NEXT: {"notice": "测试", "days_off": [f"{NEXT}-01-01", f"{NEXT}-01-02"], "adjusted_workdays": []}
                }
            }
        ),
        encoding="utf-8",
    )
    dag_run = run_publish_dag()

    assert str(dag_run.state) == "success", task_states(dag_run)
    filled = city()
    assert {k: filled[k] for k in ("tickets", "deadline_pending", "closed_within_3wd", "provisional")} == {
        "tickets": 3,
        "deadline_pending": 0,
        "closed_within_3wd": 1,
        "provisional": 0,
    }
    assert round(float(filled["closure_rate_pct"]), 2) == 33.33  # 1 in time of 3 with a deadline
    deadlines = query(settings, "SELECT ticket_id, closure_deadline FROM fct_hotline_ticket ORDER BY ticket_id")
    assert [str(r["closure_deadline"])[:10] for r in deadlines] == [f"{NEXT}-01-09", f"{NEXT}-01-09", f"{NEXT}-01-12"]
    assert query(settings, "SELECT load_id, status, is_current, rows_loaded FROM stg_file_load") == loads  # no reload
    pages = list((settings.shared_dir / "published").rglob("*.html"))
    assert pages and all("【暂定】" not in page.read_text(encoding="utf-8") for page in pages)
