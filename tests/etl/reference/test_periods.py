"""etl/reference/periods.py: the reporting period of a file from its data, title or file name."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.reference.periods import period_from_dates, period_from_text, quarter_of, year_hint

D = dt.date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021Q4", "2021Q4"),
        ("2021q4", "2021Q4"),
        ("2021-Q4", "2021Q4"),
        ("2021年Q4", "2021Q4"),
        ("2021年第四季度", "2021Q4"),
        ("2021年第4季度", "2021Q4"),
        ("2021年第一季度", "2021Q1"),
        ("2021年三季度", "2021Q3"),
        ("２０２１年第４季度", "2021Q4"),
        ("本溪县_政务服务事项清单_2021Q4.xlsx", "2021Q4"),
        ("本溪满族自治县政务服务事项清单（2022年第二季度）", "2022Q2"),
        ("政务服务事项清单", None),
        ("2022-03-15", None),  # a day is not a quarter unless written as one
    ],
)
def test_quarter_from_text(text, expected):
    assert period_from_text(text, "quarter") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03", "2022-03"),
        ("2022年3月", "2022-03"),
        ("2022年03月份", "2022-03"),
        ("2022.3", "2022-03"),
        ("2022/03", "2022-03"),
        ("2021年12月", "2021-12"),
        ("南芬区_志愿服务_2022-03.csv", "2022-03"),
        ("2022年3月4日", "2022-03"),  # a date in the title gives its month
        ("2022-13", None),
        ("志愿服务活动统计", None),
    ],
)
def test_month_from_text(text, expected):
    assert period_from_text(text, "month") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-07-29", "2021-07-29"),
        ("2021年7月29日", "2021-07-29"),
        ("2021/7/29", "2021-07-29"),
        ("2021.7.29", "2021-07-29"),
        ("2021_07_29", "2021-07-29"),
        ("溪湖区_防汛日报_2021-07-29.xlsx", "2021-07-29"),
        ("填报单位：溪湖区城市管理局 2021年7月29日", "2021-07-29"),
        ("2022年3月", None),  # a month is not a day
        ("2021-02-30", None),
    ],
)
def test_day_from_text(text, expected):
    assert period_from_text(text, "day") == expected


def test_period_from_dates_picks_the_majority():
    late_row = [D(2021, 7, 28), D(2021, 7, 29), D(2021, 7, 29), D(2021, 7, 29)]
    assert period_from_dates(late_row, "day") == "2021-07-29"
    assert period_from_dates([D(2022, 2, 28), D(2022, 3, 4), D(2022, 3, 5)], "month") == "2022-03"
    assert period_from_dates([D(2021, 9, 30), D(2021, 10, 1), D(2021, 12, 31)], "quarter") == "2021Q4"


def test_period_from_dates_tie_goes_to_the_later_period():
    assert period_from_dates([D(2021, 7, 28), D(2021, 7, 29)], "day") == "2021-07-29"


def test_period_from_dates_empty():
    assert period_from_dates([], "day") is None


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (D(2021, 1, 1), "2021Q1"),
        (D(2021, 3, 31), "2021Q1"),
        (D(2021, 4, 1), "2021Q2"),
        (D(2021, 9, 30), "2021Q3"),
        (D(2021, 12, 31), "2021Q4"),
    ],
)
def test_quarter_of(day, quarter):
    assert quarter_of(day) == quarter


def test_year_hint():
    assert year_hint("溪湖区防汛救灾清理情况统计表 2021年7月29日", "x.xlsx") == 2021
    assert year_hint("溪湖区防汛救灾清理情况统计表", "溪湖区_防汛日报_2021-07-29.xlsx") == 2021
    assert year_hint("２０２２年", "x_2021.xlsx") == 2022  # the title is tried first, full-width folded
    assert year_hint("统计表", "统计表.xlsx") is None
    assert year_hint() is None


def test_year_hint_ignores_digits_inside_longer_numbers():
    assert year_hint("填报单位：溪湖区城市管理局 联系人：张三 13941419200", "溪湖区_防汛日报_2021-07-29.xlsx") == 2021


# A month ledger's title names its month; the 填报日期 line after it names the day it was filled in, often
# in the next month. The month is the first one the text mentions, whatever full dates follow.


@given(
    month=st.dates(min_value=D(2000, 1, 1), max_value=D(2098, 12, 1)),
    filled_in=st.integers(min_value=0, max_value=120),
    title_style=st.sampled_from(["{y}年{m}月", "{y}年{m:02d}月份", "{y}-{m:02d}", "{y}.{m}"]),
    date_style=st.sampled_from(["{y}年{m}月{d}日", "{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}"]),
)
def test_a_month_titles_month_wins_over_a_later_fill_in_date(month, filled_in, title_style, date_style):
    first = month.replace(day=1)
    day = first + dt.timedelta(days=filled_in)
    title = "明山区老旧小区改造项目台账（" + title_style.format(y=first.year, m=first.month) + "）"
    line = "填报单位：明山区住建局 填报日期：" + date_style.format(y=day.year, m=day.month, d=day.day)
    assert period_from_text(f"{title} {line}", "month") == f"{first:%Y-%m}"


@given(
    day=st.dates(min_value=D(2000, 1, 1), max_value=D(2098, 12, 31)),
    label=st.sampled_from(["填报日期", "报送日期", "填表日期", "制表日期", "上报时间"]),
    colon=st.sampled_from(["：", ":", " ", ""]),
    date_style=st.sampled_from(["{y}年{m}月{d}日", "{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}.{m}.{d}"]),
    grain=st.sampled_from(["month", "quarter"]),
)
def test_the_day_a_ledger_was_filled_in_is_never_its_period(day, label, colon, date_style, grain):
    """A ledger titled without its month, with a 填报日期 line (filled in on 2022年1月4日 for December): no
    period from the text — the sheet's or the file's name gives it — rather than the month it was filled in."""
    line = f"明山区“我为群众办实事”项目台账 填报单位：明山区 {label}{colon}" + date_style.format(
        y=day.year, m=day.month, d=day.day
    )
    assert period_from_text(line, grain) is None
    assert period_from_text(f"{line} 明山区实事台账2021年12月", "month") == "2021-12"


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("统计时间：2021年12月", "2021-12"),
        ("统计日期：2021年12月31日", "2021-12"),
        ("报送时间：2021.12", "2021-12"),
        ("台账 填报时间：2022-01-04 10:30", None),  # a filing day with its time of day is still no period
        ("台账 填报日期：2022年1月4日 10时30分", None),
    ],
)
def test_a_line_stating_the_period_is_not_taken_for_a_filing_date(text, period):
    """统计时间：2021年12月 states the month; only a labelled filing day (填报日期：2022年1月4日) is set aside."""
    assert period_from_text(text, "month") == period
