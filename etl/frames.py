"""Column access for derive functions: a column the file did not have reads as all-missing."""
from __future__ import annotations

import pandas as pd


def dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    return pd.to_datetime(frame[column], errors="coerce").astype("datetime64[us]")


def texts(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    return frame[column]
