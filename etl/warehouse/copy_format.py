"""Facts as PostgreSQL COPY text, built column-wise: what ``COPY … FROM STDIN`` is sent.

Two forms of the same text. ``copy_texts`` formats one column as an array of ``str`` fields (NULL as
``\\N``, text escaped, everything else as psycopg's text dumpers write it) and ``copy_text_lines`` joins
them by tabs: general, one Python string per field and per line. ``copy_block`` builds the same bytes
without those: each column becomes a matrix of UTF-8 bytes, one row per fact and NUL-padded to the
column's widest field; the matrices are laid side by side with a tab or newline column between them and
the padding is dropped in one pass: a million-row 12345 export takes about a third of the time to
format that it took line by line. No value may hold a NUL (PostgreSQL text cannot, and the parser turns
a NUL cell into a finding); where one does, ``copy_block`` falls back to the line form so that the server
refuses it as before rather than the padding pass dropping it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_TAB, _NEWLINE = 9, 10
# Below this many rows the line form is faster: the matrix costs a few dozen numpy calls a column (about
# 15 ms for a 12345 frame of any size), the lines about 4 µs a row.
MATRIX_MIN_ROWS = 4_096
_NULL_BYTES = COPY_NULL.encode()


def copy_block(columns: Sequence[pd.Series], lead: str | None = None) -> bytes:
    """COPY text of the rows whose fields are ``columns``' values, each line starting with the fields
    ``lead`` (formatted and tab-separated already): exactly ``"\\n".join(copy_text_lines(...)) + "\\n"`` as
    UTF-8, built as one byte matrix."""
    n = len(columns[0]) if columns else 0
    if n == 0:
        return b""
    if n < MATRIX_MIN_ROWS:
        return _line_block(columns, lead)
    parts = []
    if lead is not None:
        if "\x00" in lead:
            return _line_block(columns, lead)
        parts.append(np.broadcast_to(np.frombuffer(lead.encode(), dtype=np.uint8), (n, len(lead.encode()))))
    for values in columns:
        matrix = _field_bytes(values)
        if matrix is None:
            return _line_block(columns, lead)
        parts.append(matrix)
    width = sum(part.shape[1] for part in parts) + len(parts)
    out = np.empty((n, width), dtype=np.uint8)
    position = 0
    for part in parts:
        out[:, position : position + part.shape[1]] = part
        position += part.shape[1]
        out[:, position] = _TAB
        position += 1
    out[:, -1] = _NEWLINE
    flat = out.reshape(-1)
    return flat[flat != 0].tobytes()


def _line_block(columns: Sequence[pd.Series], lead: str | None) -> bytes:
    return ("\n".join(copy_text_lines([copy_texts(c) for c in columns], lead=lead)) + "\n").encode()


def _field_bytes(values: pd.Series) -> np.ndarray | None:
    """One column's COPY fields as a (rows, width) uint8 matrix, NUL-padded anywhere in a row (the padding
    pass drops every NUL); None when a field holds a NUL."""
    dtype = values.dtype
    numpy_dtype = isinstance(dtype, np.dtype)
    if numpy_dtype and dtype.kind in "iu":
        return _int_bytes(values.to_numpy(), None)
    if isinstance(dtype, pd.BooleanDtype):
        flags = values.to_numpy(dtype=bool, na_value=False)
        return _matrix(np.where(values.isna().to_numpy(), _NULL_BYTES, np.where(flags, b"t", b"f")))
    if not numpy_dtype and pd.api.types.is_integer_dtype(dtype):  # Int64: masked integers
        return _int_bytes(values.to_numpy(dtype="int64", na_value=0), values.isna().to_numpy())
    if numpy_dtype and dtype.kind == "M":  # datetime64 (NaT for NULL)
        array = values.to_numpy().astype("datetime64[us]")
        missing = np.isnat(array)
        codes = _datetime_codes(array[~missing]) if not missing.all() else np.empty((0, 19), dtype=np.uint8)
        if codes is not None:
            return _with_nulls(codes, missing, 19)
    if numpy_dtype and dtype.kind == "f":
        whole = _whole_float_bytes(values.to_numpy())
        if whole is not None:
            return whole
    if numpy_dtype and dtype.kind == "O":
        array = values.to_numpy()
        kind = pd.api.types.infer_dtype(array, skipna=True)
        if kind == "string":
            return _string_bytes(array)
        if kind == "empty":
            return np.broadcast_to(np.frombuffer(_NULL_BYTES, dtype=np.uint8), (len(array), 2))
    return _text_bytes(copy_texts(values))


def _with_nulls(present: np.ndarray, missing: np.ndarray, width: int) -> np.ndarray:
    """Rows of ``present`` codes, with \\N where ``missing``."""
    out = np.zeros((len(missing), max(width, 2)), dtype=np.uint8)
    out[missing, :2] = np.frombuffer(_NULL_BYTES, dtype=np.uint8)
    out[~missing, :width] = present
    return out


def _int_bytes(array: np.ndarray, missing: np.ndarray | None) -> np.ndarray:
    """Integers as decimal digits (as str(int) writes them), \\N where ``missing``."""
    present = array if missing is None else array[~missing]
    if len(present) and (present.min() < 0 or present.max() > 2**62):  # signs and the extremes: numpy writes them
        digits = _matrix(present.astype("S"))
    else:
        digits = _digit_codes(present.astype(np.int64))
    return digits if missing is None else _with_nulls(digits, missing, digits.shape[1])


def _digit_codes(values: np.ndarray) -> np.ndarray:
    """Non-negative int64 as ASCII digits, right-aligned with NUL in front."""
    width = len(str(int(values.max()))) if len(values) else 1
    codes = np.empty((len(values), width), dtype=np.uint8)
    rest = values.copy()
    for k in range(width - 1, -1, -1):
        codes[:, k] = 48 + rest % 10
        rest //= 10
    for k in range(width - 1):  # leading zeros are padding
        codes[values < 10 ** (width - 1 - k), k] = 0
    return codes


def _whole_float_bytes(array: np.ndarray) -> np.ndarray | None:
    """Floats that are all whole numbers below 10¹⁵ (or NaN), as repr writes them ('51.0'); None otherwise."""
    missing = np.isnan(array)
    present = array[~missing]
    if len(present) and (
        (present != np.trunc(present)).any()
        or np.abs(present).max() >= 1e15
        or (np.signbit(present) & (present == 0)).any()  # -0.0
    ):
        return None
    digits = _int_bytes(present.astype(np.int64), None)
    point_zero = np.empty((len(present), digits.shape[1] + 2), dtype=np.uint8)
    point_zero[:, :-2] = digits
    point_zero[:, -2:] = np.frombuffer(b".0", dtype=np.uint8)
    return _with_nulls(point_zero, missing, point_zero.shape[1])


def _string_bytes(array: np.ndarray) -> np.ndarray | None:
    """An object column of text and NULLs, escaped where it must be, as UTF-8: a column of few distinct
    values (districts, categories) encoded once per value, a column of many (ticket numbers) value by value."""
    sample = array[:: max(1, len(array) // 256)]
    if len(set(sample)) <= len(sample) // 2:
        codes, uniques = pd.factorize(array)
        fields = _escaped(np.asarray(uniques, dtype=object))
        if fields is None:
            return None
        return _matrix(_utf8(np.append(fields, COPY_NULL))[codes])  # NULL: code -1, the table's last entry
    missing = pd.isna(array)
    if not missing.any():
        escaped = _escaped(array)
        return None if escaped is None else _matrix(_utf8(escaped))
    texts = array.copy()
    texts[missing] = COPY_NULL
    escaped = _escaped(texts[~missing])
    if escaped is None:
        return None
    texts[~missing] = escaped
    return _matrix(_utf8(texts))


def _escaped(texts: np.ndarray) -> np.ndarray | None:
    """str values COPY-escaped; None when one holds a NUL."""
    joined = "".join(texts)
    if "\x00" in joined:
        return None
    if _needs_escapes(joined):
        return np.array([text.translate(_COPY_ESCAPES) for text in texts], dtype=object)
    return texts


def _needs_escapes(text: str) -> bool:
    """Whether ``text`` holds a character _COPY_ESCAPES rewrites (str.find per character: faster than a regex)."""
    return any(special in text for special in "\\\t\n\r")


def _text_bytes(texts: np.ndarray) -> np.ndarray | None:
    """Fields formatted by copy_texts as UTF-8; None when one holds a NUL."""
    if "\x00" in "".join(texts):
        return None
    return _matrix(_utf8(texts))


def _utf8(texts: np.ndarray) -> np.ndarray:
    """An object array of str (no NUL) as a bytes ('S') array: ASCII converted by numpy, other text
    value by value."""
    try:
        return texts.astype("S")
    except UnicodeEncodeError:
        return np.array([text.encode() for text in texts], dtype="S")


def _matrix(fields: np.ndarray) -> np.ndarray:
    """A bytes array ('S' dtype) as its (rows, width) uint8 matrix."""
    fields = np.ascontiguousarray(fields)
    return fields.view(np.uint8).reshape(len(fields), fields.dtype.itemsize)


def copy_text_lines(columns: list[np.ndarray], lead: str | None = None) -> list[str]:
    """PostgreSQL COPY text lines (without the newline) for columns already formatted by ``copy_texts``,
    each starting with the fields ``lead`` (formatted and tab-separated already) when it is given."""
    if lead is not None and columns:
        columns = [itertools.repeat(lead, len(columns[0])), *columns]
    return list(map("\t".join, zip(*columns, strict=True)))


def copy_texts(values: pd.Series) -> np.ndarray:
    """One column as COPY text fields (object array of str): NULL as \\N, text escaped, the rest as psycopg
    would send it (its text dumpers), vectorised per dtype. A value of a kind this does not know is sent
    as psycopg's own text form, one by one."""
    if len(values) == 0:
        return np.empty(0, dtype=object)
    typed = _typed_copy_texts(values)
    return typed if typed is not None else _object_copy_texts(values.to_numpy(dtype=object))


def _typed_copy_texts(values: pd.Series) -> np.ndarray | None:
    """copy_texts for the columns whose dtype says what they hold (None for object columns)."""
    n, dtype = len(values), values.dtype
    numpy_dtype = isinstance(dtype, np.dtype)
    if numpy_dtype and dtype.kind in "iu":
        return values.to_numpy().astype(str).astype(object)
    if isinstance(dtype, pd.BooleanDtype):
        out = np.where(values.to_numpy(dtype=bool, na_value=False), "t", "f").astype(object)
        out[values.isna().to_numpy()] = COPY_NULL
        return out
    if not numpy_dtype and pd.api.types.is_integer_dtype(dtype):  # Int64: masked integers
        out = values.to_numpy(dtype="int64", na_value=0).astype(str).astype(object)
        out[values.isna().to_numpy()] = COPY_NULL
        return out
    if numpy_dtype and dtype.kind == "M":  # datetime64 (NaT for NULL)
        array = values.to_numpy().astype("datetime64[us]")
        missing = np.isnat(array)
        text = _datetime_texts(array[~missing])
        if text is not None:
            out = np.full(n, COPY_NULL, dtype=object)
            out[~missing] = text
            return out
        return _copy_texts_slow(values.to_numpy(dtype=object))
    if numpy_dtype and dtype.kind == "f":
        array = values.to_numpy()
        if np.isinf(array).any():
            return _copy_texts_slow(values.to_numpy(dtype=object))
        out = array.astype(str).astype(object)  # the shortest repr, as Python's
        out[np.isnan(array)] = COPY_NULL
        return out
    return None


def _object_copy_texts(array: np.ndarray) -> np.ndarray:
    """copy_texts for an object column: strings, datetimes, or values of any kind sent one by one."""
    n = len(array)
    kind = pd.api.types.infer_dtype(array, skipna=True)
    missing = pd.isna(array)
    if kind == "empty":
        return np.full(n, COPY_NULL, dtype=object)
    if kind == "string":
        out = array.copy()
        out[missing] = COPY_NULL
        present = out[~missing]
        if _needs_escapes("".join(present)):
            out[~missing] = [v.translate(_COPY_ESCAPES) for v in present]
        return out
    if kind == "datetime":  # datetime.datetime cells, as str(datetime) writes them when whole seconds
        try:
            stamps = pd.to_datetime(pd.Series(array[~missing], dtype=object))
        except (ValueError, TypeError, OverflowError):
            return _copy_texts_slow(array)
        if isinstance(stamps.dtype, np.dtype) and stamps.dtype.kind == "M":
            text = _datetime_texts(stamps.to_numpy().astype("datetime64[us]"))
            if text is not None:
                out = np.full(n, COPY_NULL, dtype=object)
                out[~missing] = text
                return out
    return _copy_texts_slow(array)


def _datetime_texts(stamps: np.ndarray) -> np.ndarray | None:
    """'YYYY-MM-DD HH:MM:SS' for each datetime64[us] (as str(datetime) writes it); None unless every value is
    a whole second in the years 1000-9999."""
    codes = _datetime_codes(stamps)
    return None if codes is None else codes.astype(np.uint32).view("U19").ravel().astype(object)


def _datetime_codes(stamps: np.ndarray) -> np.ndarray | None:
    """_datetime_texts as UTF-8 bytes, one row of 19 for each value: a day's 10 bytes and a second's 8 looked
    up in tables built from digit codes (a month's export spans a few dozen days)."""
    ticks = stamps.astype("int64")
    if len(ticks) == 0 or (ticks % 1_000_000 != 0).any():
        return None
    seconds = ticks // 1_000_000
    days = seconds // 86_400
    first, last = int(days.min()), int(days.max())
    if not (_YEAR_1000 <= first and last < _YEAR_10000):
        return None
    if last - first > len(days):  # few values over many years: no table
        return _datetime_digits(stamps)
    day_table = np.zeros((last - first + 1, 16), dtype=np.uint8)  # 'YYYY-MM-DD ' padded: one 16-byte item a day
    day_table[:, :11] = _datetime_digits(np.arange(first, last + 1).astype("datetime64[D]").astype("datetime64[us]"))[
        :, :11
    ]
    codes = np.empty((len(stamps), 19), dtype=np.uint8)  # rows gathered as single items, not byte by byte
    codes[:, :11] = day_table.view("V16").ravel()[days - first].view(np.uint8).reshape(-1, 16)[:, :11]
    codes[:, 11:] = _time_of_day_table().view(np.uint64).ravel()[seconds - days * 86_400].view(np.uint8).reshape(-1, 8)
    return codes


_YEAR_1000 = int(np.datetime64("1000-01-01", "D").astype("int64"))
_YEAR_10000 = int(np.datetime64("9999-12-31", "D").astype("int64")) + 1


@lru_cache(maxsize=1)
def _time_of_day_table() -> np.ndarray:
    """'HH:MM:SS' of each second of a day, as 8 bytes."""
    return np.ascontiguousarray(
        _datetime_digits(np.arange(86_400).astype("datetime64[s]").astype("datetime64[us]"))[:, 11:]
    )


def _datetime_digits(stamps: np.ndarray) -> np.ndarray:
    """The 19 bytes of each datetime64[us] (whole seconds, years 1000-9999), computed digit by digit."""
    days = stamps.astype("datetime64[D]")
    years = stamps.astype("datetime64[Y]").astype("int64") + 1970
    months = stamps.astype("datetime64[M]")
    month = months.astype("int64") % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype("int64") + 1
    seconds = (stamps - days).astype("timedelta64[s]").astype("int64")
    codes = np.empty((len(stamps), 19), dtype=np.uint8)
    for start, value, width in (
        (0, years, 4),
        (5, month, 2),
        (8, day, 2),
        (11, seconds // 3600, 2),
        (14, seconds // 60 % 60, 2),
        (17, seconds % 60, 2),
    ):
        for k in range(width):
            codes[:, start + k] = 48 + value // 10 ** (width - 1 - k) % 10
    for position, char in ((4, "-"), (7, "-"), (10, " "), (13, ":"), (16, ":")):
        codes[:, position] = ord(char)
    return codes


def _copy_texts_slow(array: np.ndarray) -> np.ndarray:
    out = np.empty(len(array), dtype=object)
    out[:] = [copy_text(v) for v in array]
    return out


def copy_text(value: object) -> str:
    """psycopg's text form of one value (str, bool, int, float, date, datetime, numpy scalars)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return COPY_NULL
    if hasattr(value, "item") and not isinstance(value, (str, dt.date)):
        value = value.item()
        if isinstance(value, float) and value != value:
            return COPY_NULL
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return "Infinity" if value == float("inf") else "-Infinity" if value == float("-inf") else repr(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return str(value).translate(_COPY_ESCAPES)
