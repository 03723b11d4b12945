"""Chinese working days (工作日) and the 12345 closure deadline.

Working days follow the State Council holiday notice of each year through the ``chinese_calendar``
package: weekends off, public holidays off, and the adjusted working weekends (调休) on. DOMAIN.md's rule:

    the closure deadline is 24:00 of the third working day strictly after the calendar day of receipt.

24:00 of day D is returned as the datetime of the following midnight (D + 1, 00:00), so "closed in time"
is simply ``closed_at <= deadline``. The time of day of receipt does not matter, nor does whether the
day of receipt was itself a working day:

* received Monday 2021-09-13 10:00 → Tue, Wed, Thu → 2021-09-17 00:00 (Thursday 24:00)
* received Saturday 2021-09-11 → Mon, Tue, Wed → 2021-09-16 00:00 (Wednesday 24:00)
* received Friday 2021-09-24 → Sun 09-26 (调休 working day), Mon, Tue → 2021-09-29 00:00 (09-28 24:00)

Out of range: ``chinese_calendar`` only knows the years the State Council has published (it raises
``NotImplementedError`` outside them, e.g. before 2004 or for a year whose notice the installed version
does not carry yet). For such receipts — including a receipt late in the last known year whose three
working days run into the unknown year — the functions here return ``None`` (scalar) or ``NaT``
(vectorised) instead of raising or guessing; the caller must flag those rows (the hotline_tickets GX suite
rejects them with a message on the 受理时间 cell). Upgrading ``chinese-calendar`` extends the range.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
import pandas as pd

CLOSURE_WORKING_DAYS = 3
_MAX_SCAN_DAYS = 60  # the longest run of days off in any notice is ~10 days; this only bounds the loop


@lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> bool:
    """True on a Chinese working day (adjusted weekends included). Raises NotImplementedError when the
    year is outside the calendar data the installed chinese_calendar carries."""
    return bool(chinese_calendar.is_workday(day))


@lru_cache(maxsize=4096)
def nth_workday_after(day: dt.date, n: int = CLOSURE_WORKING_DAYS) -> dt.date | None:
    """The n-th working day strictly after ``day``; None when the calendar does not cover the days needed."""
    current, found = day, 0
    try:
        for _ in range(_MAX_SCAN_DAYS):
            current += dt.timedelta(days=1)
            if is_workday(current):
                found += 1
                if found == n:
                    return current
    except NotImplementedError:
        return None
    raise RuntimeError(f"no {n} working days within {_MAX_SCAN_DAYS} days after {day}")  # pragma: no cover


def closure_deadline(received_at: dt.datetime | dt.date | None) -> dt.datetime | None:
    """24:00 of the third working day strictly after the calendar day of receipt, as the following
    midnight. None when ``received_at`` is None or outside the calendar's supported years."""
    if received_at is None or received_at is pd.NaT:
        return None
    day = received_at.date() if isinstance(received_at, dt.datetime) else received_at
    last = nth_workday_after(day, CLOSURE_WORKING_DAYS)
    if last is None:
        return None
    return dt.datetime.combine(last + dt.timedelta(days=1), dt.time())


def closure_deadlines(received_at: pd.Series) -> pd.Series:
    """``closure_deadline`` for a whole column, computed once per distinct calendar day (a month of
    tickets has at most 31), then mapped back to the rows. Input: datetimes, Timestamps or None/NaT;
    output: datetime64 with NaT where the receipt is missing or outside the calendar's range."""
    days = pd.to_datetime(received_at, errors="coerce").astype("datetime64[us]").dt.normalize()
    distinct = pd.DatetimeIndex(days.dropna().unique()).as_unit("us")
    per_day = pd.Series([closure_deadline(day.to_pydatetime()) for day in distinct], index=distinct,
                        dtype="datetime64[us]")  # None → NaT
    looked_up = per_day.reindex(pd.DatetimeIndex(days).as_unit("us"))  # an index lookup, no Python call per row
    return pd.Series(looked_up.to_numpy(), index=received_at.index, dtype="datetime64[us]")
