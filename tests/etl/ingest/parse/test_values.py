"""etl/ingest/parse/values.py: cell values the way clerks really write them (DOMAIN.md, "How values really arrive")."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.contracts import CONTRACTS, Column
from etl.ingest.parse.values import (
    ColumnConverter,
    ValueProblem,
    is_blank,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_number,
)
from etl.reference.places import default_places

SERVICE_ITEMS = CONTRACTS["service_items"]
FLOOD_CLEANUP = CONTRACTS["flood_cleanup"]
VOLUNTEER_ACTIVITY = CONTRACTS["volunteer_activity"]

D = dt.date


# ---------------------------------------------------------------- parse_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30余", (30.0, True)),
        ("700余名", (700.0, True)),
        ("30余吨", (30.0, True)),
        ("约30吨", (30.0, True)),
        ("30多人", (30.0, True)),
        ("50左右", (50.0, True)),
        ("30+", (30.0, True)),
        ("5万", (50000.0, False)),
        ("1.2万", (12000.0, False)),
        ("1.5千", (1500.0, False)),
        ("３０", (30.0, False)),
        ("３０余", (30.0, True)),
        ("1,234", (1234.0, False)),
        ("１，２３４", (1234.0, False)),
        ("1，234", (1234.0, False)),
        (" 42 ", (42.0, False)),
        ("2.5", (2.5, False)),
        ("-5", (-5.0, False)),
        ("97.8%", (0.978, False)),
        ("50%", (0.5, False)),
        (30, (30.0, False)),
        (7.5, (7.5, False)),
    ],
)
def test_parse_number(raw, expected):
    value, approximate = parse_number(raw)
    assert (value, approximate) == expected
    assert type(value) is float


@pytest.mark.parametrize("raw", ["—", "——", "-", "--", "－", "/", "／", "无", "", " ", "　", "nan", "N/A"])
def test_parse_number_blank_tokens_are_none(raw):
    assert parse_number(raw) == (None, False)


@pytest.mark.parametrize(
    ("raw", "zh"),
    [
        ("#DIV/0!", "单元格是错误值「#DIV/0!」"),
        ("#REF!", "单元格是错误值「#REF!」"),
        ("abc", "「abc」不是有效的数字"),
        ("30吨多点", "「30吨多点」不是有效的数字"),
        ("1.2.3", "「1.2.3」不是有效的数字"),
    ],
)
def test_parse_number_rejects(raw, zh):
    with pytest.raises(ValueProblem) as info:
        parse_number(raw)
    assert info.value.zh == zh
    assert str(info.value) == info.value.en


@settings(max_examples=200)
@given(
    number=st.integers(0, 10**13),
    commas=st.sets(st.integers(1, 13)),
    full_width=st.booleans(),
    sign=st.sampled_from(["", "-", "约"]),
    tail=st.sampled_from(["", ".5", "吨", "万", "%"]),
)
def test_a_comma_in_a_number_only_ever_groups_thousands(number, commas, full_width, sign, tail):
    """Commas anywhere in a number: grouped in threes from the decimal point (1,234 and 12,345,678) the number
    is read as written; anywhere else (2,5 — a decimal comma — 1,2345, 12,34) the cell is a problem for
    the clerk, never a value read with its comma dropped."""
    digits = str(number)
    at = sorted(c for c in commas if c < len(digits))
    text = ",".join(digits[start:end] for start, end in zip([0, *at], [*at, len(digits)], strict=True))
    raw = sign + (text.replace(",", "，") if full_width else text) + tail
    grouped = {len(digits) - 3 * k for k in range(1, len(digits)) if len(digits) - 3 * k > 0}
    if at and set(at) != grouped:
        with pytest.raises(ValueProblem) as info:
            parse_number(raw)
        assert "逗号只能用作千位分隔符" in info.value.zh
        return
    value, _ = parse_number(raw)
    expected = float(number) + (0.5 if tail == ".5" else 0)
    expected *= {"万": 10_000, "%": 0.01}.get(tail, 1)
    assert value == pytest.approx(-expected if sign == "-" else expected)


def test_parse_number_rejects_booleans():
    with pytest.raises(ValueProblem):
        parse_number(True)


def test_parse_number_wan_with_two_decimals_is_exact():
    assert parse_number("0.57万") == (5700.0, False)
    assert parse_number("1.12万") == (11200.0, False)


# ---------------------------------------------------------------- parse_bool


@pytest.mark.parametrize("raw", ["是", "√", "✓", "Y", "y", "1", 1, 1.0, True, " 是 ", "ｙ", "对"])
def test_parse_bool_true(raw):
    assert parse_bool(raw) is True


@pytest.mark.parametrize("raw", ["否", "×", "N", "n", "0", 0, 0.0, False, "不是", "X", "无", " 无 ", "没有"])
def test_parse_bool_false(raw):
    """无 in a yes/no column is 否, as 有 is 是: read as blank, a required 是否进厅 of 无 was 必填项为空."""
    assert parse_bool(raw) is False


@pytest.mark.parametrize("raw", [None, "", " ", "—", "-", "/", float("nan")])
def test_parse_bool_blank_is_none(raw):
    assert parse_bool(raw) is None


@pytest.mark.parametrize("raw", ["maybe", "是的吧", 2, "2"])
def test_parse_bool_rejects(raw):
    with pytest.raises(ValueProblem) as info:
        parse_bool(raw)
    assert info.value.zh == f"「{raw}」应填“是”或“否”"


# ---------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (44405, D(2021, 7, 28)),
        (44405.0, D(2021, 7, 28)),
        (44405.75, D(2021, 7, 28)),  # serial with a time of day
        (dt.datetime(2021, 7, 28, 10, 30), D(2021, 7, 28)),
        (D(2021, 7, 28), D(2021, 7, 28)),
        ("2021-07-28", D(2021, 7, 28)),
        ("2021-7-28", D(2021, 7, 28)),
        ("2021/7/28", D(2021, 7, 28)),
        ("2021.7.28", D(2021, 7, 28)),
        ("2021年7月28日", D(2021, 7, 28)),
        ("2021年7月28号", D(2021, 7, 28)),
        ("２０２１年７月２８日", D(2021, 7, 28)),
        ("20210728", D(2021, 7, 28)),
        ("2021-07-28T10:30", D(2021, 7, 28)),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@given(day=st.dates(min_value=D(1900, 1, 1), max_value=D(2099, 12, 31)), as_float=st.booleans())
def test_a_day_typed_as_a_number_is_that_day(day, as_float):
    """20210729 typed into a number cell (the reader gives 20210729.0): the day, as the same text is; never
    mistaken for an Excel serial (those end at 80,000)."""
    number = int(day.strftime("%Y%m%d"))
    raw = float(number) if as_float else number
    assert parse_date(raw) == day == parse_date(str(number))
    assert parse_datetime(raw) == dt.datetime.combine(day, dt.time())


@pytest.mark.parametrize("raw", [20211332.0, 20210230, 123456.0])
def test_a_number_that_is_no_day_is_said_as_typed(raw):
    with pytest.raises(ValueProblem) as info:
        parse_date(raw)
    assert info.value.zh == f"「{int(raw)}」不是有效的日期，请写成 2021-07-30 或 2021年7月30日"  # not 20211332.0


def test_parse_date_without_year_uses_default_year():
    assert parse_date("7月28日", default_year=2021) == D(2021, 7, 28)
    assert parse_date("7/28", default_year=2022) == D(2022, 7, 28)
    # an explicit year wins over the default
    assert parse_date("2020年7月28日", default_year=2021) == D(2020, 7, 28)


def test_parse_date_without_year_and_no_default_raises():
    with pytest.raises(ValueProblem) as info:
        parse_date("7月28日")
    assert info.value.zh == "日期「7月28日」缺少年份，且无法从报表期间推断"


@pytest.mark.parametrize("raw", ["2021-02-30", "2021-13-01", "7月32日", "明天", 5, 99999])
def test_parse_date_rejects(raw):
    with pytest.raises(ValueProblem) as info:
        parse_date(raw, default_year=2021)
    assert info.value.zh == f"「{raw}」不是有效的日期，请写成 2021-07-30 或 2021年7月30日"


@pytest.mark.parametrize("raw", [None, "", "—", "/", "无"])
def test_parse_date_blank_is_none(raw):
    assert parse_date(raw) is None


def test_parse_date_text_with_time_of_day():
    assert parse_date("2021-07-28 10:30") == D(2021, 7, 28)
    assert parse_date("2022-03-04 00:00:00") == D(2022, 3, 4)


def test_is_blank():
    assert [is_blank(v) for v in (None, float("nan"), "", " — ", "无", 0, "0", "a")] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]


# ---------------------------------------------------------------- ColumnConverter


@pytest.fixture(scope="module")
def places():
    return default_places()


@pytest.fixture
def converter(places):
    return ColumnConverter(places, default_year=2021, district_code="210503")


def series(*values, index=None) -> pd.Series:
    return pd.Series(list(values), dtype=object, index=index)


def zh(problems: dict) -> dict[int, str]:
    return {i: p.zh for i, p in problems.items()}


def test_int_without_blank_is_zero(converter):
    column = SERVICE_ITEMS.column("legal_days")
    assert column.kind == "int" and not column.blank_is_zero
    out = converter.convert(column, series(3, "３", "30余", "5万", "—", None, "", 2.5, "abc", 7.0))
    assert out.values.dtype == "Int64"
    assert out.values.tolist() == [3, 3, 30, 50000, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, 7]
    assert out.approximate.tolist() == [False, False, True, False, False, False, False, False, False, False]
    assert zh(out.problems) == {7: "「2.5」应为整数", 8: "「abc」不是有效的数字"}
    assert out.notes == {}


def test_int_blank_is_zero(converter):
    column = FLOOD_CLEANUP.column("disinfected_toilets")
    assert column.blank_is_zero
    out = converter.convert(column, series("—", "-", "/", "无", None, "", 6, "#DIV/0!", "2.5"))
    # blanks become 0, but a cell that could not be read stays empty (it is reported, not zeroed)
    assert out.values.tolist() == [0, 0, 0, 0, 0, 0, 6, pd.NA, pd.NA]
    assert zh(out.problems) == {7: "单元格是错误值「#DIV/0!」", 8: "「2.5」应为整数"}


def test_int_whole_number_written_with_wan(converter):
    out = converter.convert(FLOOD_CLEANUP.column("personnel"), series("1.2万", "1.15万", "700余名"))
    assert out.values.tolist() == [12000, 11500, 700]
    assert out.approximate.tolist() == [False, False, True]
    assert out.problems == {}


def test_int_wan_with_two_decimals_is_a_whole_number(converter):
    out = converter.convert(FLOOD_CLEANUP.column("personnel"), series("1.12万", "0.57万"))
    assert out.problems == {}
    assert out.values.tolist() == [11200, 5700]


def test_problems_are_keyed_by_position_not_label(converter):
    column = SERVICE_ITEMS.column("max_visits")
    out = converter.convert(column, series(1, "x", 2.5, index=[10, 11, 12]))
    assert zh(out.problems) == {1: "「x」不是有效的数字", 2: "「2.5」应为整数"}
    assert list(out.values.index) == [0, 1, 2]
    assert out.values.tolist() == [1, pd.NA, pd.NA]


def test_decimal(converter):
    column = FLOOD_CLEANUP.column("garbage_tons")
    out = converter.convert(column, series("30余吨", "1.2万", "—", None, 7.5, "#DIV/0!", "97.8%", "1,234.5"))
    assert out.values.dtype == "float64"
    values = out.values.tolist()
    assert values[:5] == [30.0, 12000.0, 0.0, 0.0, 7.5]
    assert pd.isna(values[5])
    assert values[6:] == [0.978, 1234.5]
    assert out.approximate.tolist() == [True, False, False, False, False, False, False, False]
    assert zh(out.problems) == {5: "单元格是错误值「#DIV/0!」"}


@pytest.mark.parametrize("kind", ["decimal", "int"])
def test_a_dot_grouped_number_in_a_semicolon_file_is_ambiguous_and_elsewhere_a_decimal(converter, kind):
    """1.250 (or 约1.250吨) in a semicolon-separated file (Excel's CSV where the comma is the decimal mark and
    the dot groups thousands) may be 1250 or 1.25: a problem on its cell, in an int column or a decimal one
    (where 1.25 would pass unseen). 2.5, 0.500 and numbers read as numbers are not in doubt; in any other
    file 1.250 is 1.25."""
    column = Column("tons", "吨数", kind, blank_is_zero=True)
    cells = series("1.250", "2", "0.500", " 12.345.678 ", 1.25, "-3.000", "—", "约1.250吨", "1.250")
    converter.dots_may_group = True
    out = converter.convert(column, cells)
    ambiguous = {i for i, problem in out.problems.items() if "含义不明" in problem.zh}
    assert ambiguous == {0, 3, 5, 7, 8}
    assert "（约1250吨）" in out.problems[7].zh
    assert set(out.problems) - ambiguous == (set() if kind == "decimal" else {2, 4})  # 0.5 and 1.25: not whole
    assert out.problems[0].zh.startswith("「1.250」含义不明：以分号分隔的文件中，点可能是千位分隔符（1250）")
    assert out.values.iat[1] == 2 and out.values.iat[6] == 0
    assert all(pd.isna(out.values.iat[i]) for i in (0, 3, 5, 7, 8))
    if kind == "decimal":
        assert (out.values.iat[2], out.values.iat[4]) == (0.5, 1.25)
    converter.dots_may_group = False
    assert converter.convert(Column("tons", "吨数", "decimal"), cells).values.iat[0] == 1.25


def test_decimal_without_blank_is_zero_keeps_blank_empty(converter):
    column = Column("ratio", "比率", "decimal")
    out = converter.convert(column, series("—", None, "2.5"))
    assert pd.isna(out.values.iat[0]) and pd.isna(out.values.iat[1])
    assert out.values.iat[2] == 2.5


def test_bool(converter):
    column = SERVICE_ITEMS.column("online")
    out = converter.convert(column, series("是", "√", "Y", 1, "1", "否", "×", "N", 0, "0", "", None, "—", "maybe"))
    assert out.values.dtype == "boolean"
    assert out.values.tolist() == [True] * 5 + [False] * 5 + [pd.NA] * 4
    assert zh(out.problems) == {13: "「maybe」应填“是”或“否”"}
    assert not out.approximate.any()


def test_bool_repeated_bad_value_reports_every_row(converter):
    out = converter.convert(SERVICE_ITEMS.column("is_application"), series("maybe", "是", "maybe"))
    assert sorted(out.problems) == [0, 2]


def test_date(converter):
    column = FLOOD_CLEANUP.column("date")
    out = converter.convert(
        column,
        series(
            44405,
            dt.datetime(2021, 7, 28, 10, 0),
            "2021-07-28",
            "2021/7/28",
            "2021.7.28",
            "2021年7月28日",
            "7月28日",
            "2021-02-30",
            None,
        ),
    )
    assert out.values.tolist()[:7] == [D(2021, 7, 28)] * 7
    assert pd.isna(out.values.iat[7]) and pd.isna(out.values.iat[8])
    assert zh(out.problems) == {7: "「2021-02-30」不是有效的日期，请写成 2021-07-30 或 2021年7月30日"}


def test_date_without_default_year(places):
    converter = ColumnConverter(places)
    out = converter.convert(VOLUNTEER_ACTIVITY.column("date"), series("2022-03-04", "3月4日"))
    assert out.values.iat[0] == D(2022, 3, 4)
    assert zh(out.problems) == {1: "日期「3月4日」缺少年份，且无法从报表期间推断"}


def test_district(converter):
    column = FLOOD_CLEANUP.column("district")
    out = converter.convert(
        column,
        series(
            "本溪县", " 明山 ", "市本级", "溪湖区", "朝阳区", None, "明山区", "桓仁", "本溪满族自治县", "　平山区　"
        ),
    )
    values = out.values.tolist()
    assert values[:4] == ["210521", "210504", "210500", "210503"]
    assert pd.isna(values[4]) and pd.isna(values[5])
    assert values[6:] == ["210504", "210522", "210521", "210502"]
    assert zh(out.problems) == {4: "区县「朝阳区」不在本市区县名录中"}


def test_street_unknown_is_a_note_not_a_problem(converter):
    column = FLOOD_CLEANUP.column("street")
    out = converter.convert(column, series("河西街道", " 彩屯 街道", "不存在街道", None, "不存在街道", "—"))
    values = out.values.tolist()
    assert values[:3] == ["河西街道", "彩屯街道", "不存在街道"]
    assert pd.isna(values[3]) and values[4] == "不存在街道" and pd.isna(values[5])
    assert out.problems == {}
    assert zh(out.notes) == {2: "街道「不存在街道」不在本区县街道名录中", 4: "街道「不存在街道」不在本区县街道名录中"}


def test_streets_of_text_cells_and_of_mixed_cells_come_out_alike(converter):
    """Text cells take the path that folds, resolves and renames each distinct name once; a column with a
    cell of another type folds cell by cell first: both give the same names and notes."""
    column = FLOOD_CLEANUP.column("street")
    cells = ["河西", " 彩屯 ", "不存在街道", None, "河西", "彩屯街道", "不存在街道", ""]
    text = converter.convert(column, series(*cells))
    mixed = converter.convert(column, series(*cells, 7))

    assert text.values.tolist() == mixed.values.tolist()[:-1]  # a missing name is None on both paths
    assert {i: n.zh for i, n in text.notes.items()} == {i: n.zh for i, n in mixed.notes.items() if i < len(cells)}
    assert text.values.tolist()[:3] == ["河西街道", "彩屯街道", "不存在街道"]
    assert sorted(text.notes) == [2, 6]


def test_street_known_has_no_note(converter):
    out = converter.convert(FLOOD_CLEANUP.column("street"), series("河西街道", "彩屯街道", "石桥子街道"))
    assert out.notes == {} and out.problems == {}


def test_street_of_another_district_is_a_note(places):
    converter = ColumnConverter(places, district_code="210504")  # 明山区
    out = converter.convert(FLOOD_CLEANUP.column("street"), series("明山街道", "河西街道"))
    assert zh(out.notes) == {1: "街道「河西街道」不在本区县街道名录中"}


def test_names_written_with_the_places_above_them_are_stored_by_their_reference_names(places):
    """The 12345 platform writes 本溪市明山区 and 明山区北地街道办事处: the district's code and the street's
    reference name, no finding; a street after another district's name is a note, not a guess."""
    district = ColumnConverter(places).convert(
        FLOOD_CLEANUP.column("district"), series("本溪市明山区", "辽宁省本溪市平山区")
    )
    assert district.values.tolist() == ["210504", "210502"] and district.problems == {}
    street = ColumnConverter(places, district_code="210504").convert(
        FLOOD_CLEANUP.column("street"), series("明山区北地街道", "北地街道办事处", "平山区北地街道")
    )
    assert street.values.tolist() == ["北地街道", "北地街道", "平山区北地街道"]
    assert zh(street.notes) == {2: "街道「平山区北地街道」不在本区县街道名录中"}


def test_street_without_district_has_no_notes(places):
    out = ColumnConverter(places).convert(FLOOD_CLEANUP.column("street"), series("不存在街道"))
    assert out.values.tolist() == ["不存在街道"] and out.notes == {}


def test_text_and_code(converter):
    out = converter.convert(SERVICE_ITEMS.column("item_code"), series("1121052100000000", 12345.0, " abc ", None, "—"))
    values = out.values.tolist()
    assert values[:3] == ["1121052100000000", "12345", "abc"]
    assert pd.isna(values[3]) and pd.isna(values[4])
    out = converter.convert(SERVICE_ITEMS.column("item_name"), series(" 本溪县事项0 ", 2.5))
    assert out.values.tolist() == ["本溪县事项0", "2.5"]


CODE = Column("ticket_id", "工单编号", "code")


@pytest.mark.parametrize(
    ("cell", "kept", "lost"),
    [
        ("MS2109000012", "MS2109000012", False),
        ("2021E001", "2021E001", False),  # a code with an E in it
        ("110101199001011234", "110101199001011234", False),  # eighteen digits written as text: all kept
        (2021090100012.0, "2021090100012", False),  # a number cell of 13 digits: exact
        ("2.02109E+12", None, True),  # a CSV saved again by Excel
        ("1E+15", None, True),
        (110101199001011234.0, None, True),  # typed into a number cell: 110101199001011000
    ],
)
def test_a_code_whose_digits_excel_lost_is_a_problem_on_its_cell(converter, cell, kept, lost):
    converted = converter.convert(CODE, series("MS1", cell, "MS2"))
    assert converted.values.tolist() == ["MS1", kept, "MS2"]
    assert list(converted.problems) == ([1] if lost else [])
    if lost:
        assert "Excel" in converted.problems[1].zh and "编码" in converted.problems[1].zh
    if cell == 110101199001011234.0:  # named as Excel shows it, not as the float's exact value (…1008)
        assert "「110101199001011000」" in converted.problems[1].zh


@settings(max_examples=80, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=20).filter(lambda d: d[0] != "0"))
def test_a_numeric_code_is_kept_as_text_and_flagged_exactly_where_excel_loses_digits(digits):
    """Written as text, any code is kept as written; in a number cell, one of 16 digits or more is a
    problem (Excel keeps 15 significant digits); as Excel writes a number in scientific notation, always."""
    converter = ColumnConverter(default_places())
    as_text = converter.convert(CODE, series(digits))
    assert as_text.values.tolist() == [digits] and not as_text.problems
    as_number = converter.convert(CODE, series(float(digits)))
    assert bool(as_number.problems) == (len(digits) >= 16)
    if len(digits) < 16:
        assert as_number.values.tolist() == [digits]
    scientific = f"{float(digits):.5E}"  # 2.02109E+12, as Excel's General writes it
    if "E+" in scientific and int(scientific.split("E+")[1]) >= 10:
        assert list(converter.convert(CODE, series(scientific)).problems) == [0]


@settings(max_examples=120, deadline=None)
@given(
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    second=st.integers(0, 59),
    day=st.sampled_from(["2021-09-24", "2021/9/24", "2021年9月24日"]),
    space=st.sampled_from(["", " "]),
)
def test_a_time_of_day_in_words_or_with_a_half_day_reads_as_the_clock_does(hour, minute, second, day, space):
    """8时5分6秒, 8点30分, 8点, 下午3:05 and 3:05 PM are the clock times they name, in a datetime column and
    (time dropped) a date column. (Digits run together — 2021-09-248时 — are not split: a finding.)"""
    from etl.ingest.parse.values import parse_datetime

    space = space or ("" if day.endswith("日") else " ")

    expected = dt.datetime(2021, 9, 24, hour, minute, second)
    twelve = hour % 12 or 12
    half_zh, half_en = ("下午", "PM") if hour >= 12 else ("上午", "AM")
    written = [
        f"{day}{space}{hour}时{minute}分{second}秒",
        f"{day}{space}{half_zh}{space}{twelve}:{minute:02d}:{second:02d}",
        f"{day}{space}{twelve}:{minute:02d}:{second:02d} {half_en}",
    ]
    for text in written:
        assert parse_datetime(text) == expected, text
        assert parse_date(text) == expected.date(), text
    assert parse_datetime(f"{day}{space}{hour}点{minute}分") == expected.replace(second=0)
    assert parse_datetime(f"{day}{space}{hour}点") == expected.replace(minute=0, second=0)
    assert parse_datetime(f"{day}{space}{hour}点半") == expected.replace(minute=30, second=0)
    # the parts of the day a clerk writes before an hour: 晚8点 is 20:00, 中午1点 13:00, 凌晨2点 2:00
    parts = {"凌晨": range(0, 7), "早": range(4, 12), "早上": range(4, 12), "中午": range(11, 15)}
    parts |= {"晚": range(17, 24), "晚上": range(17, 24), "傍晚": range(17, 24)}
    for part, hours in parts.items():
        if hour in hours:
            clock = hour - 12 if hour > 12 else hour
            assert parse_datetime(f"{day}{space}{part}{clock}点") == expected.replace(minute=0, second=0), part


@pytest.mark.parametrize(
    "text",
    [
        "2021/9/24 下午 15:00",
        "2021/9/24 上午 0:30",
        "2021/9/24 下午",
        "2021/9/24 25时",
        "2021-09-248时",
        "2021-09-24 上午12点",  # a clerk's noon as often as midnight: not guessed
        "2021-09-24 晚上3点",  # an hour the part of the day cannot name
        "2021-09-24 凌晨9点",
        "2021-09-24 中午5点",
        "2021-09-24 上午12时30分",
    ],
)
def test_a_half_day_or_clock_that_cannot_be_is_a_problem_not_a_guess(text):
    from etl.ingest.parse.values import parse_datetime

    with pytest.raises(ValueProblem):
        parse_datetime(text)


INVISIBLE_CHARACTERS = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202c", "\u202d", "\u2060", "\ufeff", "\u00ad"]  # fmt: skip
CLEAN_CELLS = {  # a column of each kind, and cells a clerk sees as they are written here
    ("flood_cleanup", "street"): ["河西街道", "彩屯", "不存在街道"],
    ("flood_cleanup", "district"): ["溪湖区", "溪湖"],
    ("flood_cleanup", "personnel"): ["30", "50余人", "1,200", "1.2万"],
    ("flood_cleanup", "garbage_tons"): ["30.5", "约30吨", "-", "97.8%"],
    ("flood_cleanup", "date"): ["2021-07-28", "2021年7月28日", "7月28日"],
    ("hotline_tickets", "received_at"): [
        "2021-09-01 08:05",
        "2021/9/1 8:05:06",
        "2021年9月1日 8时5分",
        "2021/9/1 下午3:05",
    ],
    ("hotline_tickets", "ticket_id"): ["MS2109000012", "2021090100012"],
    ("service_items", "in_service_hall"): ["是", "否", "√", "Y"],
    ("volunteer_activity", "team"): ["南芬志愿1队", "平山路 1 号"],
}


@settings(max_examples=150, deadline=None)
@given(
    column=st.sampled_from(sorted(CLEAN_CELLS)),
    inserts=st.lists(st.tuples(st.integers(0, 40), st.sampled_from(INVISIBLE_CHARACTERS)), min_size=1, max_size=4),
)
def test_invisible_characters_a_copy_leaves_in_a_cell_change_nothing(column, inserts):
    """Zero-width spaces, direction marks (a number copied on a phone comes wrapped in U+202D … U+202C),
    word joiners, soft hyphens and byte-order marks anywhere in a cell: the cell reads as the clerk sees
    it — same value, same findings — in every kind of column."""
    report_type, name = column
    spec = CONTRACTS[report_type].column(name)
    cells = CLEAN_CELLS[column]
    dirty = []
    for cell in cells:
        for position, character in inserts:
            position = position % (len(cell) + 1)
            cell = cell[:position] + character + cell[position:]
        dirty.append(cell)
    converter = ColumnConverter(default_places(), default_year=2021, district_code="210503")
    clean, seen = converter.convert(spec, series(*cells)), converter.convert(spec, series(*dirty))
    assert seen.values.tolist() == clean.values.tolist() or (
        pd.isna(seen.values).tolist() == pd.isna(clean.values).tolist()
        and seen.values.dropna().tolist() == clean.values.dropna().tolist()
    )
    assert zh(seen.problems) == zh(clean.problems) == {}
    assert sorted(seen.notes) == sorted(clean.notes)


def test_excels_own_half_day_format_writes_midnight_as_am_twelve():
    from etl.ingest.parse.values import parse_datetime

    assert parse_datetime("2021/9/24 上午12:30") == dt.datetime(2021, 9, 24, 0, 30)
    assert parse_datetime("2021/9/24 下午12:30") == dt.datetime(2021, 9, 24, 12, 30)


@pytest.mark.parametrize("text", ["8时5分", "下午3:05", "10:30", "8点", "2021-09-248:05", "2021-09-241:05"])
def test_a_date_cell_holding_a_time_only_or_digits_run_together_is_a_problem_not_a_blank_or_another_day(text):
    with pytest.raises(ValueProblem):
        parse_date(text)
