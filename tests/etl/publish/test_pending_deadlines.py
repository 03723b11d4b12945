"""The working-day calendar as reference data (etl/reference/workdays.py, etl/publish/pending_deadlines.py): tickets whose
deadline falls in a year not configured are loaded as 期限待定, counted neither in nor out of time, the
month marked provisional; extending the calendar fills them in place; the calendar's end is alerted.

Every rate is checked against an independent computation: plain sets of days off and worked weekends,
counted day by day in this file, never the module under test."""

from __future__ import annotations

import datetime as dt
import json

import chinese_calendar
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from warehouse_helpers import ingest, query

from etl.__main__ import main
from etl.publish.pending_deadlines import alert_calendar_coverage, coverage_gap, fill_pending_deadlines
from etl.publish.review_pack import publish
from etl.reference.workdays import CalendarError, WorkdayCalendar, active_calendar, package_years, reference_years
from etl.warehouse.engine import get_engine
from etl.warehouse.schema import ensure_schema

D = dt.datetime
HEADER = "工单编号,受理时间,区县,街道,诉求类别,首次答复时间,办结时间,满意度"
LAST_PACKAGE_YEAR = max(d.year for d in chinese_calendar.holidays)
NEXT = LAST_PACKAGE_YEAR + 1
JAN_DAYS = [dt.date(NEXT, 1, d) for d in range(1, 32)]


def independent_deadline(received: D, days_off: set, worked: set, years: set) -> D | None:
    """24:00 of the 3rd working day strictly after the day of receipt, counted by hand; None if a day
    needed lies in a year not in ``years``."""
    day, found = received.date(), 0
    while found < 3:
        day += dt.timedelta(days=1)
        if day.year not in years:
            return None
        if day in worked or (day.weekday() < 5 and day not in days_off):
            found += 1
    return D.combine(day + dt.timedelta(days=1), dt.time())


def package_sets() -> tuple[set, set, set]:
    return set(chinese_calendar.holidays), set(chinese_calendar.workdays), {y for y in package_years()}


def write_calendar(path, years: dict[int, tuple[set, set]]) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "years": {
                    y: {"notice": f"{y}年节假日安排（测试）", "days_off": sorted(off), "adjusted_workdays": sorted(on)}
                    for y, (off, on) in years.items()
                }
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )


def write_export(inbox, district: str, month: str, tickets: list[tuple[str, D, D | None]]) -> None:
    lines = [HEADER] + [
        f"{tid},{rec:%Y-%m-%d %H:%M:%S},{district},,城市管理,,"
        f"{'' if closed is None else f'{closed:%Y-%m-%d %H:%M:%S}'},"
        for tid, rec, closed in tickets
    ]
    path = inbox / district / f"{district}_12345热线工单_{month}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


def expected_city(tickets, days_off, worked, years) -> dict:
    deadlines = [independent_deadline(rec, days_off, worked, years) for _tid, rec, _closed in tickets]
    pending = sum(d is None for d in deadlines)
    in_time = sum(
        d is not None and closed is not None and closed <= d
        for d, (_tid, _rec, closed) in zip(deadlines, tickets, strict=True)
    )
    known = len(tickets) - pending
    return {
        "tickets": len(tickets),
        "deadline_pending": pending,
        "closed_within_3wd": in_time,
        "closure_rate_pct": None if known == 0 else round(100.0 * in_time / known, 2),
        "provisional": int(pending > 0),
    }


def city_rows(settings) -> dict[str, dict]:
    rows = query(
        settings,
        "SELECT period, tickets, deadline_pending, closed_within_3wd, closure_rate_pct, provisional "
        "FROM mart_hotline_by_district WHERE district_code IS NULL",
    )
    return {
        r.pop("period"): {
            k: (None if v is None else round(float(v), 2) if k == "closure_rate_pct" else int(v)) for k, v in r.items()
        }
        for r in rows
    }


ticket_moment = st.builds(
    lambda day, minutes: D.combine(day, dt.time()) + dt.timedelta(minutes=minutes),
    st.dates(dt.date(LAST_PACKAGE_YEAR, 12, 1), dt.date(NEXT, 1, 31)),
    st.integers(0, 24 * 60 - 1),
)
tickets_strategy = st.lists(
    st.tuples(ticket_moment, st.one_of(st.none(), st.integers(0, 14 * 24 * 60))), min_size=1, max_size=40
)
next_year_calendar = st.tuples(
    st.sets(st.sampled_from([d for d in JAN_DAYS if d.weekday() < 5]), max_size=8),  # extra days off
    st.sets(st.sampled_from([d for d in JAN_DAYS if d.weekday() >= 5]), max_size=3),
)  # worked weekends


@given(generated=tickets_strategy, calendar=next_year_calendar)
def test_tickets_across_the_year_end_load_pending_then_fill_to_the_independent_rates(
    make_settings, monkeypatch, generated, calendar
):
    settings = make_settings()
    calendar_path = settings.shared_dir.parent / "workdays.yaml"
    settings.shared_dir.mkdir(parents=True)
    write_calendar(calendar_path, {})
    monkeypatch.setenv("WORKDAY_CALENDAR_FILE", str(calendar_path))
    tickets = [
        (f"MS{i:05d}", rec, None if close is None else rec + dt.timedelta(minutes=close))
        for i, (rec, close) in enumerate(generated)
    ]
    by_month = {}
    for t in tickets:
        by_month.setdefault(f"{t[1]:%Y-%m}", []).append(t)
    for month, rows in by_month.items():
        write_export(settings.inbox, "明山区", month, rows)

    outcomes = ingest(settings)

    # Every ticket is loaded, in the December export and in the January one, whatever the calendar knows.
    assert {o.status for o in outcomes.values()} <= {"accepted", "flagged"}, {
        k: o.reason_zh for k, o in outcomes.items()
    }
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_hotline_ticket")[0]["n"] == len(tickets)
    loads_before = query(settings, "SELECT load_id, status, is_current FROM stg_file_load ORDER BY load_id")
    assert all(r["is_current"] == 1 for r in loads_before)
    off, worked, years = package_sets()
    assert city_rows(settings) == {m: expected_city(rows, off, worked, years) for m, rows in by_month.items()}
    pending_files = {o.file for o in outcomes.values() if o.status == "flagged"}
    for month, rows in by_month.items():
        pending = expected_city(rows, off, worked, years)["deadline_pending"]
        assert (f"明山区/明山区_12345热线工单_{month}.csv" in pending_files) == (pending > 0)

    # The steward adds the next year; the fill command computes the pending deadlines in place.
    extra_off, extra_worked = calendar
    next_off = {dt.date(NEXT, 1, 1)} | extra_off
    write_calendar(calendar_path, {NEXT: (next_off, extra_worked)})
    assert main(["workdays", "fill"]) == 0

    assert query(settings, "SELECT load_id, status, is_current FROM stg_file_load ORDER BY load_id") == loads_before
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_hotline_ticket")[0]["n"] == len(tickets)
    full = (off | next_off, worked | extra_worked, years | {NEXT})
    assert city_rows(settings) == {m: expected_city(rows, *full) for m, rows in by_month.items()}
    assert all(r["provisional"] == 0 for r in city_rows(settings).values())


def test_a_january_export_before_the_year_is_configured_is_current_provisional_and_said_so(
    settings, tmp_path, monkeypatch
):
    calendar_path = tmp_path / "workdays.yaml"
    write_calendar(calendar_path, {})
    monkeypatch.setenv("WORKDAY_CALENDAR_FILE", str(calendar_path))
    january = [(f"J{i}", D(NEXT, 1, 4 + i, 9), D(NEXT, 1, 6 + i, 17)) for i in range(5)]
    december = [
        ("D1", D(LAST_PACKAGE_YEAR, 12, 1, 9), D(LAST_PACKAGE_YEAR, 12, 2, 9)),  # in time
        ("D2", D(LAST_PACKAGE_YEAR, 12, 30, 9), D(LAST_PACKAGE_YEAR, 12, 31, 9)),
    ]  # pending: runs into NEXT
    write_export(settings.inbox, "明山区", f"{NEXT}-01", january)
    write_export(settings.inbox, "明山区", f"{LAST_PACKAGE_YEAR}-12", december)

    outcomes = ingest(settings)

    jan = outcomes[f"明山区/明山区_12345热线工单_{NEXT}-01.csv"]
    assert (jan.status, jan.rows) == ("flagged", 5)
    assert "期限待定" in jan.reason_zh or any(
        "期限待定" in f["message_zh"]
        for f in query(settings, "SELECT message_zh FROM stg_finding WHERE rule = 'deadline_pending'")
    )
    assert city_rows(settings) == {
        f"{NEXT}-01": {
            "tickets": 5,
            "deadline_pending": 5,
            "closed_within_3wd": 0,
            "closure_rate_pct": None,
            "provisional": 1,
        },
        f"{LAST_PACKAGE_YEAR}-12": {
            "tickets": 2,
            "deadline_pending": 1,
            "closed_within_3wd": 1,
            "closure_rate_pct": 100.0,
            "provisional": 1,
        },
    }
    facts = query(
        settings, "SELECT ticket_id, closure_deadline, closed_within_3wd FROM fct_hotline_ticket WHERE ticket_id = 'D2'"
    )
    assert facts == [{"ticket_id": "D2", "closure_deadline": None, "closed_within_3wd": None}]
    html = publish(settings, as_of=f"{NEXT}-02-01")["html"].read_text(encoding="utf-8")
    assert f"【暂定】{NEXT}-01 有 5 张工单办结期限待定" in html

    write_calendar(calendar_path, {NEXT: ({dt.date(NEXT, 1, 1)}, set())})
    result = fill_pending_deadlines(get_engine(settings.warehouse_url), active_calendar())
    assert (result["filled"], result["still_pending"]) == (6, 0)
    off, worked, years = package_sets()
    full = (off | {dt.date(NEXT, 1, 1)}, worked, years | {NEXT})
    assert city_rows(settings) == {
        f"{NEXT}-01": expected_city(january, *full),
        f"{LAST_PACKAGE_YEAR}-12": expected_city(december, *full),
    }
    assert "【暂定】" not in publish(settings, as_of=f"{NEXT}-02-01")["html"].read_text(encoding="utf-8")
    # a second fill finds nothing to do
    assert fill_pending_deadlines(get_engine(settings.warehouse_url))["filled"] == 0


def test_the_calendar_file_overrides_a_package_year_and_fills_dim_workday(sqlite_settings, tmp_path, monkeypatch):
    calendar_path = tmp_path / "workdays.yaml"
    # 2021 as the package has it, but Monday 09-27 declared a day off (a steward's correction)
    off, worked, _ = package_sets()
    year_off = {d for d in off if d.year == 2021} | {dt.date(2021, 9, 27)}
    write_calendar(calendar_path, {2021: (year_off, {d for d in worked if d.year == 2021})})
    monkeypatch.setenv("WORKDAY_CALENDAR_FILE", str(calendar_path))
    calendar = active_calendar()
    # Friday 09-24 → Sun 09-26 (调休), [Mon 09-27 now off], Tue 09-28, Wed 09-29 → 09-29 24:00
    assert calendar.closure_deadline(D(2021, 9, 24, 9, 30)) == D(2021, 9, 30)
    assert calendar.years[2021].source == "reference" and calendar.years[2020].source == "package"
    engine = get_engine(sqlite_settings.warehouse_url)
    ensure_schema(engine)
    rows = {
        r["day"]: r
        for r in query(sqlite_settings, "SELECT day, is_workday, day_kind, source FROM dim_workday WHERE year = 2021")
    }
    assert len(rows) == 365
    assert rows["2021-09-26"]["day_kind"] == "adjusted_workday" and rows["2021-09-26"]["is_workday"] == 1
    assert rows["2021-09-27"]["day_kind"] == "holiday" and rows["2021-09-27"]["source"] == "reference"
    assert query(sqlite_settings, "SELECT COUNT(*) AS n FROM dim_workday WHERE year = :y", y=NEXT)[0]["n"] == 0
    write_calendar(calendar_path, {NEXT: (set(), set())})
    ensure_schema(engine)  # the calendar is part of the reference data's fingerprint
    assert query(sqlite_settings, "SELECT COUNT(*) AS n FROM dim_workday WHERE year = :y", y=NEXT)[0]["n"] in (365, 366)


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"days_off": ["2027-02-30"]}, "not a date"),
        ({"days_off": ["2026-12-31"]}, "does not lie inside 2027"),
        ({"days_off": ["2027-02-10..2027-02-01"]}, "does not lie inside"),
        ({"adjusted_workdays": ["2027-01-04"]}, "is a weekday, not a weekend"),
        ({"days_off": ["2027-01-09"], "adjusted_workdays": ["2027-01-09"]}, "both as a day off and as a working day"),
    ],
)
def test_a_malformed_calendar_stops_with_the_reason(tmp_path, entry, complaint):
    path = tmp_path / "workdays.yaml"
    path.write_text(yaml.safe_dump({"years": {2027: entry}}), encoding="utf-8")
    with pytest.raises(CalendarError, match=complaint):
        reference_years(path)


def test_ranges_and_the_shipped_file_parse():
    from etl.reference.workdays import REFERENCE_FILE

    assert reference_years(REFERENCE_FILE) == {}  # no year is invented: 2027 waits for the State Council
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.yaml"
        path.write_text(
            "years:\n  2027:\n    days_off: [2027-01-01, '2027-02-06..2027-02-12']\n"
            "    adjusted_workdays: [2027-02-14]\n",
            encoding="utf-8",
        )
        year = reference_years(path)[2027]
    assert len(year.days_off) == 8 and year.adjusted_workdays == {dt.date(2027, 2, 14)}


def test_coverage_alert_fires_weekly_under_60_days_and_stops_when_the_year_is_added(sqlite_settings, tmp_path):
    engine = get_engine(sqlite_settings.warehouse_url)
    ensure_schema(engine)
    seeded = WorkdayCalendar(package_years())
    extended = WorkdayCalendar({**package_years(), **{NEXT: reference_years_for(tmp_path, NEXT)}})
    autumn = dt.date(LAST_PACKAGE_YEAR, 10, 15)
    assert coverage_gap(autumn, seeded) is None  # 77 days left
    late = dt.date(LAST_PACKAGE_YEAR, 11, 2)  # 59 days to the end of the year
    assert coverage_gap(late, seeded) == dt.date(LAST_PACKAGE_YEAR, 12, 31)
    first = alert_calendar_coverage(engine, sqlite_settings, today=late, calendar=seeded)
    assert first is not None and f"{NEXT}" in first["subject"]
    assert alert_calendar_coverage(engine, sqlite_settings, today=late + dt.timedelta(days=1), calendar=seeded) is None
    assert alert_calendar_coverage(engine, sqlite_settings, today=late + dt.timedelta(days=7), calendar=seeded)
    assert (
        alert_calendar_coverage(engine, sqlite_settings, today=late + dt.timedelta(days=14), calendar=extended) is None
    )
    lines = (sqlite_settings.shared_dir / "alerts" / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["kind"] for line in lines] == ["workday_calendar", "workday_calendar"]
    # a year not configured at all (today in it): the gap is already open
    assert coverage_gap(dt.date(NEXT + 5, 3, 1), extended) == dt.date(NEXT + 5, 3, 1) - dt.timedelta(days=1)


def reference_years_for(tmp_path, year: int):
    path = tmp_path / f"{year}.yaml"
    write_calendar(path, {year: ({dt.date(year, 1, 1)}, set())})
    return reference_years(path)[year]
