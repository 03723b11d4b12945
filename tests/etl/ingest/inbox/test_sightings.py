"""The received time is when the pipeline first saw the file (etl/ingest/inbox/sightings.py), not its modification
time: a copy that keeps an old mtime and arrives after the deadline is late, a clerk's clock set wrong
does not make a file late, and the first sight is kept while a file waits across runs."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from warehouse_helpers import query
from workbooks import write_xlsx

import etl.ingest.inbox.sightings
from etl.config import Settings, city_timezone, local_time
from etl.ingest.pipeline import discover, prepare, process_file
from etl.reference.calendar import expected_reports
from etl.warehouse.engine import get_engine
from etl.warehouse.schema import ensure_schema

HEADER = ["活动日期", "区县", "组织单位", "志愿服务队", "活动类型", "参与志愿者（人）"]
CALENDAR = """
report_types:
  volunteer_activity: {frequency: monthly, due: {days_after_period_end: 5}, units: [平山区], periods: {from: 2022-03, to: 2022-03}}
"""
DEADLINE = dt.datetime(2022, 4, 6)  # 2022-04-05 24:00


class Clock:
    """Our clock, set by the test: what etl.ingest.inbox.sightings takes as "now"."""

    def __init__(self, monkeypatch, start: dt.datetime):
        self.now = start
        monkeypatch.setattr(
            etl.ingest.inbox.sightings,
            "local_time",
            lambda moment=None: self.now if moment is None else local_time(moment),
        )


def volunteer_file(settings, name: str = "平山区_志愿服务_2022-03.xlsx", volunteers: int = 10):
    return write_xlsx(
        settings.inbox / "平山区" / name,
        [HEADER, ["2022-03-04", "平山区", "平山区文明办", "平山区1队", "创城", volunteers]],
    )


def set_mtime(path, moment: dt.datetime) -> float:
    """The file's mtime as a copy tool leaves it: ``moment`` on the city's clock."""
    stamp = moment.replace(tzinfo=city_timezone()).timestamp()
    os.utime(path, (stamp, stamp))
    return stamp


def completeness(settings) -> dict:
    return query(
        settings,
        "SELECT received_at, on_time, state_zh FROM mart_reporting_completeness "
        "WHERE report_type = 'volunteer_activity'",
    )[0]


def warehouse_with_calendar(settings, tmp_path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(CALENDAR, encoding="utf-8")
    prepare(settings)
    ensure_schema(get_engine(settings.warehouse_url), expected=expected_reports(path), force=True)


def as_datetime(value) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


@given(
    mtime_before=st.timedeltas(dt.timedelta(minutes=1), dt.timedelta(days=40)),
    dropped_after=st.timedeltas(dt.timedelta(seconds=1), dt.timedelta(days=20)),
    clock_ahead=st.booleans(),
)
def test_received_is_first_sight_whatever_the_mtime_says(
    make_settings, monkeypatch, tmp_path_factory, mtime_before, dropped_after, clock_ahead
):
    """A copy keeps its mtime from before the deadline but is dropped after it: late. The reverse — a
    clerk's clock ahead, dropped before the deadline — is on time."""
    settings = make_settings()
    warehouse_with_calendar(settings, tmp_path_factory.mktemp("calendar"))
    path = volunteer_file(settings)
    if clock_ahead:
        mtime, dropped = DEADLINE + dropped_after, DEADLINE - mtime_before
    else:
        mtime, dropped = DEADLINE - mtime_before, DEADLINE + dropped_after
    set_mtime(path, mtime)
    clock = Clock(monkeypatch, dropped)

    keys = discover(settings)
    clock.now = dropped + dt.timedelta(hours=3)  # processing later does not move the received time
    outcome = process_file(keys[0], settings)

    assert outcome.status == "accepted"
    row = completeness(settings)
    assert as_datetime(row["received_at"]) == dropped
    assert (row["on_time"], row["state_zh"]) == ((1, "按时报送") if clock_ahead else (0, "逾期报送"))
    load = query(settings, "SELECT received_at, file_modified_at FROM stg_file_load")[0]
    assert abs(as_datetime(load["file_modified_at"]) - mtime) < dt.timedelta(seconds=1)  # beside, for information
    assert query(settings, "SELECT COUNT(*) AS n FROM stg_inbox_sighting")[0]["n"] == 0  # filed away: forgotten


def test_the_first_sight_is_kept_while_a_file_waits_for_a_later_run(settings, monkeypatch):
    """Beyond the run's batch (or still being copied), a file waits; the run that takes it later still
    dates it from the first scan that saw it. A new file under a processed file's name is a new arrival."""
    settings = Settings(settings.shared_dir, settings.warehouse_url, 0.0, max_files_per_run=1)
    prepare(settings)
    first = volunteer_file(settings, "平山区_志愿服务_2022-03.xlsx", 10)
    second = volunteer_file(settings, "平山区_志愿服务_2022-03_更正.xlsx", 12)
    set_mtime(first, dt.datetime(2022, 4, 1, 8))
    set_mtime(second, dt.datetime(2022, 4, 1, 9))
    clock = Clock(monkeypatch, dt.datetime(2022, 4, 3, 10))

    taken = discover(settings)
    assert taken == ["平山区/平山区_志愿服务_2022-03.xlsx"]  # the older mtime of two seen at once
    assert process_file(taken[0], settings).status == "accepted"
    clock.now = dt.datetime(2022, 4, 9, 10)  # the next run, after the deadline
    taken = discover(settings)
    assert taken == ["平山区/平山区_志愿服务_2022-03_更正.xlsx"]
    assert process_file(taken[0], settings).status == "accepted"

    loads = query(settings, "SELECT file_name, received_at, is_current FROM stg_file_load ORDER BY load_id")
    assert [(r["file_name"], as_datetime(r["received_at"]), r["is_current"]) for r in loads] == [
        ("平山区_志愿服务_2022-03.xlsx", dt.datetime(2022, 4, 3, 10), 0),
        ("平山区_志愿服务_2022-03_更正.xlsx", dt.datetime(2022, 4, 3, 10), 1),
    ]

    clock.now = dt.datetime(2022, 4, 12, 10)
    again = volunteer_file(settings, "平山区_志愿服务_2022-03.xlsx", 14)  # the old name, a new file
    set_mtime(again, dt.datetime(2022, 4, 1, 8))
    assert process_file(discover(settings)[0], settings).status == "accepted"
    newest = query(settings, "SELECT received_at FROM stg_file_load ORDER BY load_id DESC LIMIT 1")[0]
    assert as_datetime(newest["received_at"]) == dt.datetime(2022, 4, 12, 10)


def test_a_file_no_scan_listed_is_received_when_the_run_takes_it(sqlite_settings):
    prepare(sqlite_settings)
    path = volunteer_file(sqlite_settings)
    set_mtime(path, dt.datetime(2022, 4, 1, 8))
    before = local_time()
    outcome = process_file("平山区/平山区_志愿服务_2022-03.xlsx", sqlite_settings)
    received = as_datetime(query(sqlite_settings, "SELECT received_at FROM stg_file_load")[0]["received_at"])
    assert outcome.status == "accepted" and before - dt.timedelta(seconds=1) <= received <= local_time()


@pytest.mark.parametrize("origin", [etl.ingest.inbox.sightings.DEMO, etl.ingest.inbox.sightings.REPROCESS])
def test_only_our_own_callers_preset_a_received_time(sqlite_settings, origin):
    """The demo and reprocess set a received time through etl.ingest.inbox.sightings.preset; a scan never overrides it."""
    prepare(sqlite_settings)
    path = volunteer_file(sqlite_settings)
    engine = get_engine(sqlite_settings.warehouse_url)
    etl.ingest.inbox.sightings.preset(engine, "平山区/平山区_志愿服务_2022-03.xlsx", dt.datetime(2022, 4, 2, 9), origin)
    process_file(discover(sqlite_settings)[0], sqlite_settings)
    assert as_datetime(completeness_any(sqlite_settings)) == dt.datetime(2022, 4, 2, 9)
    assert path.exists() is False


def completeness_any(settings):
    return query(settings, "SELECT received_at FROM stg_file_load")[0]["received_at"]
