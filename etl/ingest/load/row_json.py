"""Rows of a frame as JSON objects, column by column: what a quarantined row's ``row_json`` holds.

A row's JSON is exactly ``json.dumps(record, ensure_ascii=False, default=str)`` of the record
``DataFrame.to_dict("records")`` gives once missing values are None — the format every earlier load wrote.
Built row by row that is a dict and an encoder call per row, 40 s for a million held-back rows; here each
column's values are encoded once per distinct value (a whole-second datetime column by numpy) and the
rows are joined from the columns' pieces.
"""

from __future__ import annotations

import datetime as dt
import json
from json.encoder import encode_basestring

import numpy as np
import pandas as pd


def rows_as_json(frame: pd.DataFrame) -> list[str]:
    """``json.dumps(record, ensure_ascii=False, default=str)`` of each row's record (NA as None)."""
    if len(frame.columns) == 0:
        return ["{}"] * len(frame)
    last = {}  # a name written twice is one key of the record: where it first stood, with its last column
    for position, name in enumerate(frame.columns):
        last[name] = position
    pieces = []
    for name, position in last.items():
        key = json.dumps({name: 0}, ensure_ascii=False, default=str)[1:-4]  # the key as json.dumps writes it
        pieces.append(("{" if not pieces else "") + key + ": " + column_json(frame.iloc[:, position]))
    pieces[-1] = pieces[-1] + "}"  # object arrays: a str concatenation per value
    return [", ".join(parts) for parts in zip(*pieces)]


def column_json(column: pd.Series) -> np.ndarray:
    """Each value of ``column`` as JSON text, as the record would hold it (an object array of str)."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        whole = _whole_second_datetimes(column.to_numpy())
        if whole is not None:
            return whole
    if dtype == np.float64:  # by bit pattern: -0.0 is not 0.0
        data = column.to_numpy()
        codes, uniques = pd.factorize(data.view(np.int64))
        out = np.array([_encode(float(u)) for u in uniques.view(np.float64)], dtype=object)[codes]
        out[np.isnan(data)] = "null"
        return out
    values = column.astype(object).where(column.notna(), None).to_numpy()
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # text only: each distinct once
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return np.array([encode_basestring(text) for text in uniques] + ["null"], dtype=object)[codes]
    return _each(values)


def _whole_second_datetimes(values: np.ndarray) -> np.ndarray | None:
    """str(Timestamp) of naive datetimes with no fraction of a second — 'YYYY-MM-DD hh:mm:ss' — as JSON
    strings, NaT as null; None when a value has a fraction (str(Timestamp) then shows it)."""
    if not len(values):
        return np.empty(0, dtype=object)
    missing = np.isnat(values)
    seconds = values.astype("datetime64[s]")
    if (seconds[~missing] != values[~missing]).any():
        return None
    text = np.char.replace(np.datetime_as_string(seconds, unit="s"), "T", " ")
    out = ('"' + text.astype(object) + '"').astype(object)
    out[missing] = "null"
    return out


EXACT_KEYS = (str, int, bool, dt.date)  # types whose equal values write the same JSON: encoded once each


def _each(values: np.ndarray) -> np.ndarray:
    """Values of any type (an object array); 1, 1.0 and True are equal keys, so the cache is keyed by type."""
    cache: dict = {}
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        kind = value.__class__
        if kind in EXACT_KEYS:
            text = cache.get((kind, value))
            if text is None:
                text = cache[kind, value] = _encode(value)
        else:
            text = _encode(_native(value))
        out[i] = text
    return out


def _native(value: object) -> object:
    """The value as ``DataFrame.to_dict`` hands it over: numpy scalars as Python's, pd.NA as None."""
    if isinstance(value, np.datetime64):  # before the numbers: numpy's timedelta64 is an np.integer
        return pd.Timestamp(value)
    if isinstance(value, np.timedelta64):
        return pd.Timedelta(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return None if value is pd.NA else value


def _encode(value: object) -> str:
    if value.__class__ is str:
        return encode_basestring(value)  # what json.dumps(value, ensure_ascii=False) returns, without its set-up
    return json.dumps(value, ensure_ascii=False, default=str)
