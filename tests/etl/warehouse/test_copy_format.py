"""COPY text formatting (etl/warehouse/copy_format.py): the column-wise forms equal the per-value form, and
the byte-matrix block equals the line form byte for byte, on columns hypothesis generates of every kind a
fact frame holds (integers, masked integers, booleans, floats, datetime64 with NaT, text with escapes,
NULs and other scripts, objects of mixed kinds), at every cardinality; and on PostgreSQL the server reads
back what was meant."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.warehouse import copy_format
from etl.warehouse.copy_format import copy_block, copy_text, copy_text_lines, copy_texts


def line_form(columns: list[pd.Series], lead: str | None) -> bytes:
    """What copy_block must equal: copy_texts' fields joined by tabs, lines by newlines."""
    return ("\n".join(copy_text_lines([copy_texts(c) for c in columns], lead=lead)) + "\n").encode()


TEXT = st.text(
    alphabet=st.sampled_from(["a", "Z", "7", " ", "\\", "\t", "\n", "\r", "\x00", "街", "道", "é", "😀", "N"]),
    max_size=6,
)
WHEN = st.datetimes(min_value=dt.datetime(900, 1, 1), max_value=dt.datetime(9999, 12, 31))


@st.composite
def columns(draw, n: int) -> pd.Series:
    kind = draw(
        st.sampled_from(
            ["int", "Int64", "boolean", "float", "whole float", "datetime64", "text", "few texts", "object", "none"]
        )
    )
    if kind == "int":
        bound = draw(st.sampled_from([9, 10**6, 2**63 - 1]))
        return pd.Series(draw(st.lists(st.integers(-bound - 1, bound), min_size=n, max_size=n)), dtype="int64")
    if kind == "Int64":
        values = st.one_of(st.none(), st.integers(-(2**40), 2**40))
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype="Int64")
    if kind == "boolean":
        return pd.Series(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), dtype="boolean")
    if kind == "float":
        values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([-0.0, 1e15, 1e16, 0.1]))
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype="float64")
    if kind == "whole float":
        values = st.one_of(st.just(float("nan")), st.integers(0, 10**15).map(float))
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype="float64")
    if kind == "datetime64":
        stamps = st.one_of(st.none(), WHEN, WHEN.map(lambda d: d.replace(microsecond=0)))
        values = draw(st.lists(stamps, min_size=n, max_size=n))
        if draw(st.booleans()):  # one month of whole seconds, as a 12345 export holds
            start = draw(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2030, 1, 1)))
            offsets = draw(st.lists(st.one_of(st.none(), st.integers(0, 31 * 86_400)), min_size=n, max_size=n))
            values = [None if o is None else start.replace(microsecond=0) + dt.timedelta(seconds=o) for o in offsets]
        series = pd.Series(values, dtype=object)
        return series.astype("datetime64[us]")
    if kind == "text":
        return pd.Series(draw(st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n)), dtype=object)
    if kind == "few texts":
        palette = draw(st.lists(TEXT, min_size=1, max_size=3))
        values = st.one_of(st.none(), st.just(float("nan")), st.sampled_from(palette))
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype=object)
    if kind == "object":  # what a workbook's cells can be
        values = st.one_of(
            st.none(),
            TEXT,
            st.integers(-(10**6), 10**6),
            st.booleans(),
            st.floats(),
            WHEN,
            st.dates(),
            st.decimals(allow_nan=False),
        )
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype=object)
    return pd.Series([None] * n, dtype=object)


@st.composite
def frames(draw) -> tuple[list[pd.Series], str | None]:
    n = draw(st.integers(1, 40))
    lead = draw(st.one_of(st.none(), st.just("17\tabc123\t填报表"), st.just("3\tx\t\\N")))
    return draw(st.lists(columns(n), min_size=1, max_size=6)), lead


@pytest.fixture
def matrix_always(monkeypatch):
    """The byte matrix for frames of any size (a small frame takes the line form: MATRIX_MIN_ROWS)."""
    monkeypatch.setattr(copy_format, "MATRIX_MIN_ROWS", 0)


@settings(max_examples=200)  # milliseconds each
@given(frames())
def test_the_byte_block_equals_the_line_form(matrix_always, frame):
    columns, lead = frame
    assert copy_block(columns, lead) == line_form(columns, lead)


@settings(max_examples=100)
@given(frames())
def test_the_column_forms_equal_the_per_value_form(frame):
    for column in frame[0]:
        assert list(copy_texts(column)) == [copy_text(v) for v in column.astype(object)], column.dtype


def test_a_month_of_tickets_takes_the_table_path_and_equals_the_line_form():
    """Large enough for the matrix and every fast path (few distinct texts, a month of datetimes, whole floats)."""
    n = 5_000
    rng = np.random.default_rng(7)
    stamps = np.datetime64("2021-09-01T00:00:00", "us") + rng.integers(0, 30 * 86_400, n).astype("timedelta64[s]")
    received = pd.Series(stamps).where(rng.random(n) > 0.01)
    columns = [
        pd.Series(np.arange(2, n + 2), dtype="int64"),
        pd.Series([f"BX{i:09d}" for i in range(n)], dtype=object),
        received,
        pd.Series(rng.choice(["高台子街道", "金山街道", None, "a\tb"], n), dtype=object),
        pd.Series(np.where(rng.random(n) > 0.1, rng.integers(0, 900, n).astype(float), np.nan)),
        pd.Series(rng.choice([True, False, None], n), dtype="boolean"),
    ]
    block = copy_block(columns, "9\tsha\tsheet")
    assert block == line_form(columns, "9\tsha\tsheet")
    assert block.count(b"\n") == n and b"\x00" not in block


def test_a_nul_is_never_dropped(matrix_always):
    """The padding pass drops NUL bytes: a value holding one goes out in the line form, for the server to
    refuse, never silently shortened."""
    for values in (["ok", "a\x00b", None], ["a\x00"] * 300, ["x"] * 300 + ["y\x00"]):
        column = pd.Series(values, dtype=object)
        assert copy_block([column]) == line_form([column], None)
        assert b"\x00" in copy_block([column])
    assert b"\x00" in copy_block([pd.Series([1])], lead="1\tbad\x00sheet")


def test_known_forms(matrix_always):
    when = [dt.datetime(2021, 9, 1, 13, 40, 43), None, dt.datetime(1999, 12, 31, 23, 59, 59)]
    columns = [
        pd.Series([1, 2, 3], dtype="int64"),
        pd.Series([1, None, 3], dtype="Int64"),
        pd.Series([True, None, False], dtype="boolean"),
        pd.Series([0.1, np.nan, 1e16], dtype="float64"),
        pd.Series(["a\tb", None, "c\\d\ne"], dtype=object),
        pd.Series(when, dtype=object),
        pd.Series(when, dtype=object).astype("datetime64[us]"),  # the streamed 12345 columns: NaT for NULL
        pd.Series([dt.date(2021, 9, 1), None, dt.date(2022, 1, 5)], dtype=object),
        pd.Series([None, None, None], dtype=object),
        pd.Series([dt.datetime(2021, 9, 1, 1, 2, 3, 4), None, "x"], dtype=object),
    ]
    assert (
        copy_block(columns, "7")
        == (
            "7\t1\t1\tt\t0.1\ta\\tb\t2021-09-01 13:40:43\t2021-09-01 13:40:43\t2021-09-01\t\\N\t2021-09-01 01:02:03.000004\n"
            "7\t2\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
            "7\t3\t3\tf\t1e+16\tc\\\\d\\ne\t1999-12-31 23:59:59\t1999-12-31 23:59:59\t2022-01-05\t\\N\tx\n"
        ).encode()
    )
    assert list(copy_texts(columns[6].iloc[1:2])) == ["\\N"]
    assert copy_block([pd.Series([], dtype="int64")]) == b""


@pytest.mark.postgres
def test_postgresql_reads_back_what_was_meant(pg_admin, matrix_always):
    """The block through COPY into typed columns: the server parses every field as the value it stands for."""
    import psycopg

    n = 2_000
    stamps = pd.Series(np.datetime64("2021-09-01T08:00:00", "us") + np.arange(n).astype("timedelta64[m]"))
    columns = [
        pd.Series(np.arange(n), dtype="int64"),
        stamps.where(np.arange(n) % 7 > 0),
        pd.Series(np.where(np.arange(n) % 5 > 0, np.arange(n) * 1.0, np.nan)),
        pd.Series(np.array(["满意", "a\\b\tc", None, "x\ny"], dtype=object)[np.arange(n) % 4], dtype=object),
        pd.Series((np.arange(n) % 3 == 0), dtype="boolean").where(np.arange(n) % 11 > 0),
    ]
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE t (i bigint, at timestamp, m numeric, s text, b boolean)")
        with conn.cursor().copy("COPY t FROM STDIN") as copy:
            copy.write(copy_block(columns))
        rows = conn.execute("SELECT i, at, m, s, b FROM t ORDER BY i").fetchall()
    assert len(rows) == n
    for i, at, m, s, b in rows:
        assert at == (None if i % 7 == 0 else dt.datetime(2021, 9, 1, 8) + dt.timedelta(minutes=i))
        assert m == (None if i % 5 == 0 else i)
        assert s == ["满意", "a\\b\tc", None, "x\ny"][i % 4]
        assert b == (None if i % 11 == 0 else i % 3 == 0)
