"""Chinese working days (工作日) and the 12345 closure deadline.

DOMAIN.md's rule: the closure deadline is 24:00 of the third working day strictly after the calendar day
of receipt. 24:00 of day D is returned as the following midnight (D + 1, 00:00), so "closed in time" is
simply ``closed_at <= deadline``. The time of day of receipt does not matter, nor does whether the day of
receipt was itself a working day:

* received Monday 2021-09-13 10:00 → Tue, Wed, Thu → 2021-09-17 00:00 (Thursday 24:00)
* received Saturday 2021-09-11 → Mon, Tue, Wed → 2021-09-16 00:00 (Wednesday 24:00)
* received Friday 2021-09-24 → Sun 09-26 (调休 working day), Mon, Tue → 2021-09-29 00:00 (09-28 24:00)

Working days follow the State Council holiday notice of each year: weekends off, public holidays off,
adjusted working weekends (调休) on. The calendar is reference data (``etl/reference/workdays.yaml``, or
the file ``WORKDAY_CALENDAR_FILE`` names), seeded with the years the ``chinese_calendar`` package knows;
a year in the file replaces the package's. A day in a year neither has is *not configured*: a deadline
that needs it is ``None``/``NaT`` — pending (期限待定), never guessed — until a steward adds the year
(``python -m etl workdays fill`` then fills the pending deadlines in place, see ``etl.publish.pending_deadlines``).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar
import pandas as pd
import yaml

CLOSURE_WORKING_DAYS = 3
REFERENCE_FILE = Path(__file__).with_name("workdays.yaml")
_MAX_SCAN_DAYS = 60  # the longest run of days off in any notice is ~10 days; this only bounds the loop
WORKDAY, WEEKEND, HOLIDAY, ADJUSTED_WORKDAY = "workday", "weekend", "holiday", "adjusted_workday"


class CalendarError(ValueError):
    """The calendar file is not a valid calendar (a steward's typo must stop the run, not shift deadlines)."""


@dataclass(frozen=True)
class YearCalendar:
    """One year of the State Council notice: its days off and its worked weekend days."""

    year: int
    days_off: frozenset[dt.date]
    adjusted_workdays: frozenset[dt.date]
    source: str  # "package" (chinese_calendar) or "reference" (the steward's file)
    notice: str | None = None

    def kind(self, day: dt.date) -> str:
        if day in self.adjusted_workdays:
            return ADJUSTED_WORKDAY
        if day in self.days_off:
            return HOLIDAY
        return WEEKEND if day.weekday() >= 5 else WORKDAY


class WorkdayCalendar:
    """The working days of the configured years; anything outside them is unknown, never assumed."""

    def __init__(self, years: dict[int, YearCalendar]):
        self.years = dict(sorted(years.items()))
        self._nth: dict[tuple[dt.date, int], dt.date | None] = {}
        self._rows: list[dict] | None = None

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def is_workday(self, day: dt.date) -> bool | None:
        """True on a working day (adjusted weekends included); None when the year is not configured."""
        year = self.years.get(day.year)
        return None if year is None else year.kind(day) in (WORKDAY, ADJUSTED_WORKDAY)

    def covered_until(self, today: dt.date) -> dt.date | None:
        """The last day of the run of configured years that contains ``today`` (None when today's year
        itself is not configured)."""
        year = today.year
        if year not in self.years:
            return None
        while year + 1 in self.years:
            year += 1
        return dt.date(year, 12, 31)

    def nth_workday_after(self, day: dt.date, n: int = CLOSURE_WORKING_DAYS) -> dt.date | None:
        """The n-th working day strictly after ``day``; None when the calendar does not cover the days needed."""
        key = (day, n)
        if key not in self._nth:
            self._nth[key] = self._scan(day, n)
        return self._nth[key]

    def _scan(self, day: dt.date, n: int) -> dt.date | None:
        current, found = day, 0
        for _ in range(_MAX_SCAN_DAYS):
            current += dt.timedelta(days=1)
            working = self.is_workday(current)
            if working is None:
                return None
            if working:
                found += 1
                if found == n:
                    return current
        raise CalendarError(f"no {n} working days within {_MAX_SCAN_DAYS} days after {day}")

    def closure_deadline(self, received_at: dt.datetime | dt.date | None) -> dt.datetime | None:
        """24:00 of the third working day strictly after the calendar day of receipt, as the following
        midnight. None when ``received_at`` is None or the days needed are not configured (pending)."""
        if received_at is None or received_at is pd.NaT:
            return None
        day = received_at.date() if isinstance(received_at, dt.datetime) else received_at
        last = self.nth_workday_after(day, CLOSURE_WORKING_DAYS)
        return None if last is None else dt.datetime.combine(last + dt.timedelta(days=1), dt.time())

    def rows(self) -> list[dict]:
        """dim_workday: one row per day of every configured year (made once: every run's schema check
        fingerprints them)."""
        if self._rows is not None:
            return self._rows
        out = []
        for year in self.years.values():
            day = dt.date(year.year, 1, 1)
            while day.year == year.year:
                kind = year.kind(day)
                out.append(
                    {
                        "day": day,
                        "year": year.year,
                        "is_workday": int(kind in (WORKDAY, ADJUSTED_WORKDAY)),
                        "day_kind": kind,
                        "source": year.source,
                    }
                )
                day += dt.timedelta(days=1)
        self._rows = out
        return out


def package_years() -> dict[int, YearCalendar]:
    """The seed: every year the installed chinese_calendar carries."""
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    return {
        y: YearCalendar(
            y,
            frozenset(d for d in chinese_calendar.holidays if d.year == y),
            frozenset(d for d in chinese_calendar.workdays if d.year == y),
            "package",
        )
        for y in years
    }


def reference_years(path: Path) -> dict[int, YearCalendar]:
    """The steward's years from the calendar file, checked: every day inside its year, an adjusted working
    day on a weekend, no day both off and worked."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CalendarError(f"{path}: cannot read the working-day calendar: {exc}") from exc
    years = {}
    for year, entry in (config.get("years") or {}).items():
        if not isinstance(year, int) or not isinstance(entry, dict):
            raise CalendarError(f"{path}: year {year!r}: expected `YYYY:` with days_off and adjusted_workdays")
        days_off = _days(path, year, entry.get("days_off") or [])
        worked = _days(path, year, entry.get("adjusted_workdays") or [])
        if both := sorted(days_off & worked):
            raise CalendarError(f"{path}: {year}: {both[0]} is listed both as a day off and as a working day")
        if weekdays := sorted(d for d in worked if d.weekday() < 5):
            raise CalendarError(f"{path}: {year}: adjusted working day {weekdays[0]} is a weekday, not a weekend")
        years[year] = YearCalendar(year, frozenset(days_off), frozenset(worked), "reference", entry.get("notice"))
    return years


def _days(path: Path, year: int, items: list) -> set[dt.date]:
    days = set()
    for item in items:
        try:
            if isinstance(item, str) and ".." in item:
                first, last = (dt.date.fromisoformat(part.strip()) for part in item.split(".."))
            else:
                first = last = item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item))
        except ValueError as exc:
            raise CalendarError(f"{path}: {year}: {item!r} is not a date or a YYYY-MM-DD..YYYY-MM-DD range") from exc
        if first > last or first.year != year or last.year != year:
            raise CalendarError(f"{path}: {year}: {item!r} does not lie inside {year}")
        while first <= last:
            days.add(first)
            first += dt.timedelta(days=1)
    return days


def calendar_file() -> Path:
    return Path(os.environ.get("WORKDAY_CALENDAR_FILE") or REFERENCE_FILE)


_loaded: dict[tuple, WorkdayCalendar] = {}


def active_calendar() -> WorkdayCalendar:
    """The package's years overridden by the calendar file's, reloaded when the file changes."""
    path = calendar_file()
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = WorkdayCalendar({**package_years(), **reference_years(path)})
    return _loaded[key]


def is_workday(day: dt.date) -> bool | None:
    return active_calendar().is_workday(day)


def nth_workday_after(day: dt.date, n: int = CLOSURE_WORKING_DAYS) -> dt.date | None:
    return active_calendar().nth_workday_after(day, n)


def closure_deadline(received_at: dt.datetime | dt.date | None) -> dt.datetime | None:
    return active_calendar().closure_deadline(received_at)


def closure_deadlines(received_at: pd.Series) -> pd.Series:
    """``closure_deadline`` for a whole column, computed once per distinct calendar day (a month of
    tickets has at most 31), then mapped back to the rows. Input: datetimes, Timestamps or None/NaT;
    output: datetime64 with NaT where the receipt is missing or its deadline is pending."""
    days = pd.to_datetime(received_at, errors="coerce").astype("datetime64[us]").dt.normalize()
    distinct = pd.DatetimeIndex(days.dropna().unique()).as_unit("us")
    per_day = pd.Series(
        [closure_deadline(day.to_pydatetime()) for day in distinct], index=distinct, dtype="datetime64[us]"
    )  # None → NaT
    looked_up = per_day.reindex(pd.DatetimeIndex(days).as_unit("us"))  # an index lookup, no Python call per row
    return pd.Series(looked_up.to_numpy(), index=received_at.index, dtype="datetime64[us]")
