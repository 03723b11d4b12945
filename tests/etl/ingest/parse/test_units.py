"""etl/ingest/parse/units.py with values.parse_number: a number written with a unit is read in its
column's unit, or is a problem when the unit measures something else — never the bare number of another
quantity (30车次 as 30 吨, 7874.97万元 as 78,749,700 万元)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hostile import VOLUNTEER_HEADER
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.contracts import CONTRACTS
from etl.ingest.parse.units import ACCEPTED, MULTIPLIERS, UNITS, column_scale
from etl.ingest.parse.values import ColumnConverter, ValueProblem, parse_number
from etl.reference.places import default_places

NUMERIC_COLUMNS = [
    column for contract in CONTRACTS.values() for column in contract.columns if column.kind in ("int", "decimal")
]


def test_every_unit_a_contract_column_names_is_known_with_what_a_clerk_may_write_for_it():
    """A column unit missing from ACCEPTED would take only itself: 人 for 人次 would be a problem."""
    for column in NUMERIC_COLUMNS:
        if column.unit is not None:
            base, _ = column_scale(column.unit)
            assert base in ACCEPTED, column
            assert base in UNITS, column
            assert set(ACCEPTED[base]) <= set(UNITS), column


@pytest.mark.parametrize(
    ("written", "unit", "value"),
    [
        ("7874.97万元", "万元", 7874.97),
        ("7874.97万", "万元", 7874.97),
        ("78749700元", "万元", 7874.97),
        ("0.57万元", "万元", 0.57),
        ("7874.97", "万元", 7874.97),
        ("30分钟", "小时", 0.5),
        ("90分钟", "小时", 1.5),
        ("50余人", "人次", 50),
        ("2辆", "台次", 2),
        ("1.2万吨", "吨", 12000),
        ("1.2万", "吨", 12000),
        ("20天", "工作日", 20),
        ("85幢", "栋", 85),
        ("50余车", "车次", 50),  # 清运垃圾50余车
        ("30车次", "台次", 30),
        ("5趟", "台次", 5),
        ("20个工作日", "工作日", 20),
        ("20日", "工作日", 20),
        ("2个小时", "小时", 2),
        ("3天", None, 3),  # a column without a unit takes any, as written
    ],
)
def test_a_unit_of_the_same_quantity_is_read_in_the_columns_unit(written, unit, value):
    assert parse_number(written, unit)[0] == value  # exactly: 7874.97万元 is 7874.97, not 7874.970000000001


@pytest.mark.parametrize(
    ("written", "unit"),
    [
        ("30车次", "吨"),
        ("2辆", "吨"),
        ("3天", "小时"),
        ("85户", "栋"),
        ("20小时", "工作日"),
        ("3辆", "人次"),
        ("5吨", "万元"),
        ("13处", "条"),  # places are not streets
    ],
)
def test_a_unit_of_another_quantity_is_a_problem_naming_both(written, unit):
    with pytest.raises(ValueProblem) as problem:
        parse_number(written, unit)
    assert f"本列的单位是“{unit}”" in problem.value.zh


@settings(max_examples=150, deadline=None)
@given(
    column=st.sampled_from([c for c in NUMERIC_COLUMNS if c.unit is not None]),
    cents=st.integers(0, 10**9),
    written=st.sampled_from(UNITS),
    mult=st.sampled_from(["", *MULTIPLIERS]),
)
def test_a_number_with_a_unit_is_in_the_columns_unit_or_a_problem_never_the_bare_number(column, cents, written, mult):
    """Any number, any unit clerks write, with or without 万/千/亿, in any column that names its unit:
    the value is the quantity converted to the column's unit when the unit is one ACCEPTED for it, and
    a problem on the cell otherwise."""
    number = Decimal(cents) / 100
    cell = f"{number}{mult}{written}"
    base, scale = column_scale(column.unit)
    per = ACCEPTED[base].get(written)
    converter = ColumnConverter(default_places())
    converted = converter.convert(column, pd.Series([cell], dtype=object))
    if per is None:
        assert list(converted.problems) == [0] and "不是同一种量" in converted.problems[0].zh
        return
    expected = number * MULTIPLIERS.get(mult, 1) * per.numerator / per.denominator / scale
    if column.kind == "int" and expected != expected.to_integral_value():
        assert list(converted.problems) == [0]  # 应为整数
        return
    assert not converted.problems
    assert float(converted.values.iat[0]) == pytest.approx(float(expected), rel=1e-12, abs=1e-9)


def volunteer_rows(hours: list) -> list[list]:
    return [
        [f"2022-03-{day:02d}", "南芬区", "文明办", f"队{day}", "创城", 10 + day, h, "平山路"]
        for day, h in enumerate(hours, start=1)
    ]


@pytest.mark.parametrize("form", ["xlsx", "csv", "csv in chunks"])
@pytest.mark.parametrize(
    ("header", "hours", "read"),
    [
        ("服务时长（分钟）", [90, "30", "2小时", "约45分钟"], [1.5, 0.5, 2.0, 0.75]),
        ("服务时长（小时）", [1.5, "0.5", "2小时", "约45分钟"], [1.5, 0.5, 2.0, 0.75]),
        ("服务时长(分钟)", [60, 120], [1.0, 2.0]),
    ],
)
def test_bare_numbers_are_in_the_unit_the_files_header_names(tmp_path, monkeypatch, form, header, hours, read):
    """A header naming another unit of the same quantity (服务时长（分钟） for the contract's hours): the bare
    numbers under it are in that unit, converted; a cell with its own unit is read in its own; a 合计 row
    stating the minutes of the rows agrees with them."""
    import csv
    import io

    from workbooks import write_xlsx

    import etl.ingest.read.csv_chunks
    from etl.ingest.check import check_in_chunks
    from etl.ingest.parse.tables import parse_file

    header_row = [*VOLUNTEER_HEADER[:6], header, VOLUNTEER_HEADER[7]]
    rows = [header_row, *volunteer_rows(hours)]
    folder = tmp_path / "inbox" / "南芬区"
    if form == "xlsx":
        report = parse_file(write_xlsx(folder / "志愿服务_2022-03.xlsx", rows), inbox=tmp_path / "inbox")
        values = report.frame["hours"].tolist()
    else:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        folder.mkdir(parents=True)
        path = folder / "志愿服务_2022-03.csv"
        path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
        if form == "csv":
            report = parse_file(path, inbox=tmp_path / "inbox")
            values = report.frame["hours"].tolist()
        else:
            monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0)
            report, sink, _ = check_in_chunks(path, tmp_path / "inbox", "utf-8-sig", chunk_rows=2)
            values = pd.concat(list(sink.frames()))["hours"].tolist()
            sink.close()
    assert values == read
    assert {f.rule for f in report.findings} <= {"approximate_value"}


def test_a_total_row_in_the_headers_unit_agrees_with_its_rows(tmp_path):
    from workbooks import write_xlsx

    from etl.ingest.parse.tables import parse_file

    header = [*VOLUNTEER_HEADER[:6], "服务时长（分钟）", VOLUNTEER_HEADER[7]]
    rows = [header, *volunteer_rows([90, 30]), ["合计", "", "", "", "", 23, 120, ""]]
    report = parse_file(
        write_xlsx(tmp_path / "inbox" / "南芬区" / "志愿服务_2022-03.xlsx", rows), inbox=tmp_path / "inbox"
    )
    assert report.findings == [] and report.frame["hours"].tolist() == [1.5, 0.5]


@pytest.mark.parametrize(
    ("header", "bare", "read"),
    [("总投资（元）", 78749700, 7874.97), ("总投资(万元)", 7874.97, 7874.97), ("总投资（亿元）", 0.5, 5000.0)],
)
def test_an_investment_header_in_yuan_or_yi_yuan_is_read_in_wan_yuan(header, bare, read):
    from etl.ingest.parse.layout import match_header
    from etl.ingest.parse.tables import bare_factors
    from etl.ingest.read.readers import Sheet

    contract = CONTRACTS["old_compound_renovation"]
    layout = match_header(contract, Sheet("s", [[header]]), (0,), {0: header})
    factors = bare_factors(layout)
    converter = ColumnConverter(default_places(), bare_factors=factors)
    column = contract.column("investment_10k_yuan")
    assert converter.convert(column, pd.Series([bare], dtype=object)).values.tolist() == [read]


def test_a_header_naming_a_unit_of_another_quantity_rejects_the_file_naming_the_header(tmp_path):
    from workbooks import write_xlsx

    from etl.ingest.parse.tables import parse_file

    header = [*VOLUNTEER_HEADER[:6], "服务时长（天）", VOLUNTEER_HEADER[7]]
    rows = [header, *volunteer_rows([1, 2])]
    report = parse_file(
        write_xlsx(tmp_path / "inbox" / "南芬区" / "志愿服务_2022-03.xlsx", rows), inbox=tmp_path / "inbox"
    )
    assert [(f.rule, f.severity, f.cell) for f in report.findings] == [("header_unit", "critical", "G1")]
    assert "“天”" in report.findings[0].message_zh and "“小时”" in report.findings[0].message_zh


WEIGHTS = {"吨": 1, "公斤": Decimal("0.001"), "千克": Decimal("0.001"), "kg": Decimal("0.001"), "万公斤": 10}


@given(header_unit=st.sampled_from(sorted(WEIGHTS)), cell_unit=st.sampled_from(["", *sorted(WEIGHTS)]),
       amount=st.integers(0, 99_999))  # fmt: skip
def test_garbage_in_any_unit_of_weight_is_read_in_tons(tmp_path_factory, header_unit, cell_unit, amount):
    """清运垃圾 heads both the tons and the trips: 清运垃圾（公斤） is the tons, written in 公斤 (it was an
    unknown column, and the file loaded with no tonnage at all); a cell in 公斤/千克/kg under any of them is
    read in tons too."""
    from workbooks import write_xlsx

    from etl.ingest.parse.tables import parse_file

    header = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", f"清运垃圾（{header_unit}）", "清运垃圾（车次）"]
    cell = f"{amount}{cell_unit}" if cell_unit else amount
    inbox = tmp_path_factory.mktemp("w") / "inbox"
    path = write_xlsx(
        inbox / "溪湖区" / "溪湖区防汛日报2021-07-29.xlsx", [header, ["2021-07-29", "溪湖区", "河西街道", 5, cell, 2]]
    )
    report = parse_file(path, inbox=inbox)
    tons = amount * (WEIGHTS[cell_unit] if cell_unit else WEIGHTS[header_unit])
    assert report.frame["garbage_tons"].tolist() == [pytest.approx(float(tons))]
    assert report.frame["garbage_trips"].tolist() == [2]
    assert [f.rule for f in report.findings] == []
