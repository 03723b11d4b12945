"""etl/ingest/parse/units.py with values.parse_number: a number written with a unit is read in its
column's unit, or is a problem when the unit measures something else — never the bare number of another
quantity (30车次 as 30 吨, 7874.97万元 as 78,749,700 万元)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
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
        ("3天", None, 3),  # a column without a unit takes any, as written
    ],
)
def test_a_unit_of_the_same_quantity_is_read_in_the_columns_unit(written, unit, value):
    assert parse_number(written, unit)[0] == pytest.approx(value, rel=1e-12)


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
