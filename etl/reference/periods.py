"""Work out the reporting period of a file: from its data, its title, or its file name (in that order
of trust for dated reports; title then name for snapshots such as the quarterly register)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import numpy as np
import pandas as pd

from etl.text import fold

_CN_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4}
_QUARTER = (
    re.compile(r"(?P<y>(?:19|20)\d{2})[-_年]?[Qq](?P<q>[1-4])"),
    re.compile(r"(?P<y>(?:19|20)\d{2})年?第?(?P<q>[一二三四1-4])季度"),
)
_DAY = re.compile(r"(?P<y>(?:19|20)\d{2})[-_.年/](?P<m>\d{1,2})[-_.月/](?P<d>\d{1,2})")
_MONTH = re.compile(r"(?P<y>(?:19|20)\d{2})[-_.年/](?P<m>\d{1,2})(?!\d)")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# the day a ledger was filled in (填报日期：2022年1月4日 — written after its month ended): not its period. A
# day, not a month (报送时间：2021.12 states the month), and not 统计时间 (统计时间：2021年12月 is the period)
_FILED_ON = re.compile(
    r"(?:填报|报送|填表|制表|上报)(?:日期|时间)[:]?(?:19|20)\d{2}[-_.年/]\d{1,2}[-_.月/]\d{1,2}[日号]?"
    r"(?:\d{1,2}[:时]\d{1,2}(?:[:分]\d{1,2})?[分秒]?)?"  # and its time of day (folded: 2022-01-0410:30)
)


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def period_from_text(text: str, grain: str) -> str | None:
    text = fold(text)
    if grain != "day":  # a month's or a quarter's period is never the day its form was filled in
        text = _FILED_ON.sub(" ", text)
    if grain == "quarter":
        for pattern in _QUARTER:
            match = pattern.search(text)
            if match:
                q = match["q"]
                return f"{match['y']}Q{_CN_QUARTER.get(q, q)}"
        return None
    return _day_or_month(_DAY.search(text), _MONTH, text, grain, None)


def _day_or_month(day, month_pattern: re.Pattern, text: str, grain: str, year: int | None) -> str | None:
    """The day (grain day) or month (grain month) a match of a day pattern gives, else the month pattern's
    match; ``year``: when the patterns capture none."""
    if grain == "day" and day:
        try:
            return dt.date(year or int(day["y"]), int(day["m"]), int(day["d"])).isoformat()
        except ValueError:
            return None
    # A month report's month is its first mention of one — the title's 2022年12月 — not a full date that
    # comes later (the 填报日期 line's 2023年1月4日, written after the month ended).
    month = (month_pattern.search(text) or day) if grain == "month" else None
    if grain == "month" and month and 1 <= int(month["m"]) <= 12:
        return f"{year or month['y']}-{int(month['m']):02d}"
    return None


_SHEET_DAY = re.compile(r"^\s*(?P<m>\d{1,2})(?:月|[-.])(?P<d>\d{1,2})日?\s*$")
_SHEET_MONTH = re.compile(r"^\s*(?P<m>\d{1,2})月份?\s*$")  # matched from the start: search() anchors it too


def period_from_sheet_name(name: str, grain: str, year: int | None) -> str | None:
    """The period a sheet's name gives: a full date (2021-07-29, 2022年3月), or — with the year the title or
    file name gives — 7月29日 / 7.29 for a day and 3月 / 3月份 for a month (a sheet per day or per month)."""
    period = period_from_text(name, grain)
    if period is not None or year is None or grain == "quarter":
        return period
    text = fold(name)
    return _day_or_month(_SHEET_DAY.match(text), _SHEET_MONTH, text, grain, year)


def period_from_dates(dates: list[dt.date], grain: str) -> str | None:
    """The period most rows fall in (a daily report dated 7-29 may carry a late 7-28 row)."""
    return most_common_period(period_keys(pd.Series(list(dates), dtype=object), grain))


def period_keys(dates: pd.Series, grain: str) -> Counter:
    """The period of each date (no missing values), counted: vectorised for months and quarters, so that
    a table read in chunks adds up its chunks' counts."""
    if not len(dates):
        return Counter()
    if isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M":
        if grain == "day":  # the keys of datetime objects: their isoformat
            return Counter(d.isoformat() for d in dates.dt.to_pydatetime())
        stamps = dates
    elif grain == "day":
        return Counter(d.isoformat() for d in dates)
    else:
        try:
            stamps = pd.to_datetime(pd.Series(dates.to_numpy(dtype=object), dtype=object))
        except (ValueError, TypeError, OverflowError):
            stamps = None
    if stamps is None or not (isinstance(stamps.dtype, np.dtype) and stamps.dtype.kind == "M"):
        return Counter(f"{d.year}-{d.month:02d}" if grain == "month" else quarter_of(d) for d in dates)
    years, months = stamps.dt.year.to_numpy(), stamps.dt.month.to_numpy()
    if grain == "month":
        codes = pd.Series(years * 100 + months).value_counts()
        return Counter({f"{code // 100}-{code % 100:02d}": int(n) for code, n in codes.items()})
    codes = pd.Series(years * 10 + (months - 1) // 3 + 1).value_counts()
    return Counter({f"{code // 10}Q{code % 10}": int(n) for code, n in codes.items()})


def most_common_period(keys: Counter) -> str | None:
    """The period most rows fall in; a tie goes to the later one."""
    if not keys:
        return None
    return max(keys, key=lambda k: (keys[k], k))


def year_hint(*texts: str) -> int | None:
    """A year written in the title or file name, used for dates written as 7月28日."""
    for text in texts:
        match = _YEAR.search(fold(text))
        if match:
            return int(match.group(0))
    return None


def period_bounds(period: str | None) -> tuple[dt.date, dt.date] | None:
    """First and last day of 2021Q4, 2022-03 or 2021-07-29; None for anything else."""
    try:
        if period and re.fullmatch(r"\d{4}Q[1-4]", period):
            start, months = dt.date(int(period[:4]), 3 * int(period[-1]) - 2, 1), 3
        elif period and re.fullmatch(r"\d{4}-\d{2}", period):
            start, months = dt.date(int(period[:4]), int(period[5:7]), 1), 1
        elif period and re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
            day = dt.date.fromisoformat(period)
            return day, day
        else:
            return None
    except ValueError:
        return None
    index = start.month - 1 + months
    return start, dt.date(start.year + index // 12, index % 12 + 1, 1) - dt.timedelta(days=1)


def period_end(period: str | None) -> dt.date | None:
    bounds = period_bounds(period)
    return bounds[1] if bounds else None
