"""Column access for derive functions: a column the file did not have reads as all-missing; datetime64
columns handed back as the parser has them."""

from __future__ import annotations

import pandas as pd


def dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    return pd.to_datetime(frame[column], errors="coerce").astype("datetime64[us]")


def datetime_objects(values: pd.Series) -> pd.Series:
    """datetime64 → object column of datetime.datetime / None, like the parser's datetime columns (and what
    the loader and the database drivers expect: NaT is not NULL to them)."""
    out = pd.Series(values.dt.to_pydatetime(), index=values.index, dtype=object)
    return out.where(values.notna(), None)


def texts(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    return frame[column]
