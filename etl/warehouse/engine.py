"""The warehouse through SQLAlchemy: engines and bulk fact inserts (the schema is etl/warehouse/schema.py).

Every statement takes values as bound parameters; table and column names come only from the report
contracts, never from file content. On PostgreSQL facts are bulk-loaded with COPY.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from etl.config import local_time
from etl.contracts import ReportContract
from etl.warehouse.schema import SEARCH_PATH

LINEAGE_COLUMNS = ("load_id", "source_sha256", "source_sheet", "source_row")
_KIND_TYPES = {"int": sa.Integer, "decimal": sa.Float, "date": sa.Date, "datetime": sa.DateTime, "bool": sa.Boolean}


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if url.startswith("postgresql"):
        return sa.create_engine(
            url, pool_pre_ping=True, connect_args={"options": f"-c search_path={SEARCH_PATH.replace(' ', '')}"}
        )
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.close()

    return engine


def fact_table(contract: ReportContract) -> sa.TableClause:
    """A lightweight typed table construct for the contract's fact table (names from the contract only)."""
    columns = [
        sa.column("load_id", sa.BigInteger),
        sa.column("source_sha256", sa.String),
        sa.column("source_sheet", sa.String),
        sa.column("source_row", sa.Integer),
    ]
    columns += [sa.column(c.name, _KIND_TYPES.get(c.kind, sa.String)) for c in contract.fact_columns]
    columns.append(sa.column("approximate_cols", sa.String))
    return sa.table(contract.fact_table, *columns)


def fact_column_names(contract: ReportContract) -> list[str]:
    return [*LINEAGE_COLUMNS, *(c.name for c in contract.fact_columns), "approximate_cols"]


COPY_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")  # a character _COPY_ESCAPES rewrites


def copy_statement(contract: ReportContract, columns: list[str]):
    from psycopg import sql

    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(contract.fact_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )


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
        if _COPY_SPECIAL.search("\x00".join(present)):
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
    """'YYYY-MM-DD HH:MM:SS' for each datetime64[us] (as str(datetime) writes it), built from digit codes;
    None unless every value is a whole second in the years 1000-9999."""
    ticks = stamps.astype("int64")
    if len(ticks) == 0 or (ticks % 1_000_000 != 0).any():
        return None
    days = stamps.astype("datetime64[D]")
    years = stamps.astype("datetime64[Y]").astype("int64") + 1970
    if years.min() < 1000 or years.max() > 9999:
        return None
    months = stamps.astype("datetime64[M]")
    month = months.astype("int64") % 12 + 1
    day = (days - months.astype("datetime64[D]")).astype("int64") + 1
    seconds = (stamps - days).astype("timedelta64[s]").astype("int64")
    codes = np.empty((len(stamps), 19), dtype=np.uint32)
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
    return codes.view("U19").ravel().astype(object)


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


def insert_facts(conn: Connection, contract: ReportContract, columns: list[str], rows: list[tuple] | list[str]) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany elsewhere. Rows are plain Python tuples or, on
    PostgreSQL only, COPY text lines of all ``columns`` (``copy_texts`` fields joined by tabs)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        with (
            conn.connection.driver_connection.cursor() as cursor,
            cursor.copy(copy_statement(contract, columns)) as copy,
        ):
            if isinstance(rows[0], str):
                for start in range(0, len(rows), 50_000):
                    copy.write("\n".join(rows[start : start + 50_000]) + "\n")
            else:
                for row in rows:
                    copy.write_row(row)
        return
    table = fact_table(contract)
    conn.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def as_datetime(value: object) -> dt.datetime | None:
    """A TIMESTAMP read back: PostgreSQL gives a datetime, SQLite the ISO text it stored."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def now() -> dt.datetime:
    """Warehouse timestamps are the city's local time, like the reporting deadlines they are compared with."""
    return local_time()
