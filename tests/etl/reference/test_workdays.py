"""etl/reference/workdays.py: the 12345 closure deadline in Chinese working days (holidays off, 调休 weekends on)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pandas as pd
import pytest

from etl.reference import workdays
from etl.reference.workdays import closure_deadline, closure_deadlines, nth_workday_after

D = dt.datetime


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        # DOMAIN.md: received Monday 10:00 → Thursday 24:00
        (D(2021, 9, 13, 10, 0), D(2021, 9, 17, 0, 0)),
        # DOMAIN.md: received Saturday → Wednesday 24:00
        (D(2021, 9, 11, 15, 20), D(2021, 9, 16, 0, 0)),
        # DOMAIN.md: received Friday 2021-09-24 → Sunday 09-26 is an adjusted working day → 2021-09-28 24:00
        (D(2021, 9, 24, 9, 30), D(2021, 9, 29, 0, 0)),
    ],
)
def test_domain_examples(received, deadline):
    assert closure_deadline(received) == deadline


def test_the_time_of_receipt_does_not_matter():
    assert closure_deadline(D(2021, 9, 13, 0, 0)) == closure_deadline(D(2021, 9, 13, 23, 59, 59)) == D(2021, 9, 17)
    assert closure_deadline(dt.date(2021, 9, 13)) == D(2021, 9, 17)


def test_received_on_a_public_holiday():
    # National Day 2021: 10-01…10-07 off, Saturday 10-09 worked (调休), Sunday 10-10 off.
    assert not chinese_calendar.is_workday(dt.date(2021, 10, 1))
    assert chinese_calendar.is_workday(dt.date(2021, 10, 8))
    assert chinese_calendar.is_workday(dt.date(2021, 10, 9))
    assert not chinese_calendar.is_workday(dt.date(2021, 10, 10))
    assert chinese_calendar.is_workday(dt.date(2021, 10, 11))
    # third working day after 10-01 is Monday 10-11 → deadline 2021-10-11 24:00 = 2021-10-12 00:00
    assert nth_workday_after(dt.date(2021, 10, 1), 3) == dt.date(2021, 10, 11)
    assert closure_deadline(D(2021, 10, 1, 9, 0)) == D(2021, 10, 12, 0, 0)


def test_mid_autumn_holiday_and_its_adjusted_saturday():
    # Friday 09-17: Saturday 09-18 is worked (调休), 09-19…09-21 off → 09-18, 09-22, 09-23 → 09-23 24:00
    assert closure_deadline(D(2021, 9, 17, 16, 0)) == D(2021, 9, 24, 0, 0)


@pytest.mark.parametrize("received", [D(2003, 6, 2, 10, 0), D(2031, 9, 1, 10, 0)])
def test_outside_the_calendar_is_none_not_an_exception(received):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(received.date())
    assert closure_deadline(received) is None


def test_late_in_the_last_known_year_runs_into_the_unknown_year():
    last_year = max(day.year for day in chinese_calendar.holidays)
    assert closure_deadline(D(last_year, 12, 31, 10, 0)) is None


def test_none_is_none():
    assert closure_deadline(None) is None


def test_vectorised_matches_the_scalar_rule_for_every_day_of_2021():
    days = pd.Series([D(2021, 1, 1) + dt.timedelta(days=i, hours=i % 24) for i in range(365)], dtype=object)
    got = closure_deadlines(days)
    assert str(got.dtype) == "datetime64[us]"
    assert [t.to_pydatetime() for t in got] == [closure_deadline(d) for d in days]


def test_vectorised_missing_and_out_of_range_are_nat():
    got = closure_deadlines(pd.Series([D(2021, 9, 24, 9, 30), None, D(2031, 1, 1), pd.NaT], dtype=object))
    assert got.iloc[0] == pd.Timestamp(2021, 9, 29)
    assert got.iloc[1:].isna().all()


def test_vectorised_works_once_per_calendar_day(monkeypatch):
    calls = []
    real = workdays.closure_deadline
    monkeypatch.setattr(workdays, "closure_deadline", lambda day: calls.append(day) or real(day))
    start = D(2021, 9, 1)
    received = pd.Series([start + dt.timedelta(minutes=7 * i) for i in range(120_000)])  # ~583 days
    got = closure_deadlines(received)
    assert len(calls) == received.dt.normalize().nunique() == len(set(calls))
    # Wednesday 09-01 → Thu 09-02, Fri 09-03, Mon 09-06 → 09-06 24:00
    assert got.iloc[0] == pd.Timestamp(2021, 9, 7)
    assert got.iloc[-1] == pd.Timestamp(closure_deadline(received.iloc[-1]))
