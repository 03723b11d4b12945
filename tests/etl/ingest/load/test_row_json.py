"""A quarantined row's JSON built column by column is, byte for byte, what json.dumps of its record writes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from etl.ingest.load.row_json import rows_as_json

ROWS = st.integers(min_value=0, max_value=12)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6) | st.sampled_from(
    ['"', "\\", "\n", "\x00", "=1+1", "很满意", " ", "NA", "None"]
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 0.1, 1e16, 1e-5, 2.5])
DATETIMES = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 12, 31))
WHOLE_SECONDS = DATETIMES.map(lambda d: d.replace(microsecond=0))
ANY_VALUE = st.one_of(
    st.none(),
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    FLOATS,
    st.booleans(),
    st.dates(),
    DATETIMES,
    WHOLE_SECONDS.map(pd.Timestamp),
    WHOLE_SECONDS.map(lambda d: pd.Timestamp(d, tz="Asia/Shanghai")),
    st.sampled_from(
        [
            pd.NA,
            pd.NaT,
            np.nan,
            np.int64(7),
            np.float64(-0.0),
            np.float32(0.1),
            np.bool_(True),
            np.datetime64("2021-09-01T08:00:40"),
            np.timedelta64(5, "ns"),
            pd.Timedelta(minutes=30),
            Decimal("-0"),
            Decimal("1.50"),
        ]
    ),
)


def _column(kind: str, n: int) -> st.SearchStrategy[pd.Series]:
    """A column of ``n`` values of one of the dtypes a parsed frame holds, or of anything at all."""
    if kind == "object":
        return st.lists(ANY_VALUE, min_size=n, max_size=n).map(lambda v: pd.Series(v, dtype=object))
    if kind == "Int64":
        return st.lists(st.none() | st.integers(-(2**62), 2**62), min_size=n, max_size=n).map(
            lambda v: pd.Series(v, dtype="Int64")
        )
    if kind == "boolean":
        return st.lists(st.none() | st.booleans(), min_size=n, max_size=n).map(lambda v: pd.Series(v, dtype="boolean"))
    if kind in ("float64", "float32"):
        floats = FLOATS if kind == "float64" else st.floats(width=32)
        return st.lists(floats, min_size=n, max_size=n).map(lambda v, kind=kind: pd.Series(v, dtype=kind))
    if kind == "str":
        return st.lists(st.none() | TEXT, min_size=n, max_size=n).map(lambda v: pd.Series(v, dtype="str"))
    times = WHOLE_SECONDS if kind == "whole seconds" else DATETIMES
    return st.lists(st.none() | times, min_size=n, max_size=n).map(lambda v: pd.Series(v, dtype="datetime64[ns]"))


KINDS = ["object", "Int64", "boolean", "float64", "float32", "str", "whole seconds", "datetime64"]


@st.composite
def frames(draw) -> pd.DataFrame:
    n = draw(ROWS)
    names = draw(st.lists(TEXT | st.sampled_from(["工单编号", "受理时间", "满意度"]), max_size=5))  # repeats too
    columns = [draw(_column(draw(st.sampled_from(KINDS)), n)) for _ in names]
    frame = pd.concat(columns, axis=1, ignore_index=True) if columns else pd.DataFrame(index=range(n))
    frame.columns = names
    return frame


def as_records(frame: pd.DataFrame) -> list[str]:
    """How quarantined rows were written before: a record per row, json.dumps each."""
    records = frame.astype(object).where(frame.notna(), None)
    return [json.dumps(record, ensure_ascii=False, default=str) for record in records.to_dict("records")]


@settings(max_examples=300)  # a pure function: cheap enough for many more cases than the profile's
@given(frames())
@example(pd.DataFrame({"a": pd.Series([0.0, -0.0, np.nan], dtype="float64")}))
@example(pd.DataFrame({"a": pd.Series([1, 1.0, True, np.int64(1), Decimal("1")], dtype=object)}))
@example(
    pd.DataFrame({"受理时间": pd.to_datetime(["2021-09-01 08:00:40", None, "2021-09-01 08:00:40.5"], format="ISO8601")})
)
@example(pd.DataFrame({"受理时间": pd.to_datetime(["2021-09-01 08:00:40", None])}))
def test_each_row_is_what_json_dumps_of_its_record_writes(frame):
    assert rows_as_json(frame) == as_records(frame)
