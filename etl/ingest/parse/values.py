"""Normalise cell values the way clerks really write them.

Each column is converted as a whole: numbers take pandas' vectorised path, and only the cells that are
left (text like 30余, 1.2万, ３０, —) go through the Python parsers below, once per distinct value.
Every converter returns the typed Series, a mask of approximate values (30余 → 30, flagged) and the
rows it could not read, so the caller can tell the clerk which cell is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from etl.contracts import Column
from etl.ingest.parse.units import MULTIPLIERS, UNITS, in_column_units
from etl.ingest.read.readers import CellError, UncachedFormula
from etl.reference.places import Places
from etl.text import INVISIBLE, fold, holds_invisible, visible

BLANK_TOKENS = {"", "—", "——", "-", "--", "－", "/", "／", "无", "空", "nan", "None", "null", "NULL", "N/A"}
TRUE_TOKENS = {"是", "√", "✓", "✔", "Y", "y", "YES", "Yes", "yes", "1", "TRUE", "True", "true", "对", "有"}
# 无 is 否 where the column asks yes or no, as 有 is 是 (elsewhere it is blank: BLANK_TOKENS, checked after)
FALSE_TOKENS = {
    "否",
    "×",
    "✗",
    "✘",
    "X",
    "x",
    "N",
    "n",
    "NO",
    "No",
    "no",
    "0",
    "FALSE",
    "False",
    "false",
    "不是",
    "无",
    "没有",
}
_NUMBER = re.compile(
    r"^(?P<approx_pre>约|近|大约)?(?P<num>[+-]?\d+(?:\.\d+)?)(?P<mult>万|千|亿)?"
    r"(?P<approx_post>余|多|多个|左右|\+)?(?P<unit>" + "|".join(UNITS) + r")?(?P<approx_tail>余|多|左右)?(?P<pct>%)?$"
)
GROUPED_THOUSANDS = r"\d{1,3}(?:,\d{3})+"  # 1,234 and 12,345,678: the one place a comma stands in a number
_THOUSANDS = re.compile(rf"(?<![\d.,]){GROUPED_THOUSANDS}(?![\d,])")  # in 12,345,678.5; not in 2,5 or 1,2345
_DOT_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")  # 1.250, 12.345.678: thousands grouped by dots?
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_TIME = re.compile(r"(?<!\d)(?P<h>\d{1,2})[:时](?P<mi>\d{2})分?(?::?(?P<s>\d{2})(?:\.\d+)?秒?)?$")
# a time of day in words (8时5分, 8点30分, 8时5分6秒, 8点) and a half-day marker (下午3:05, 3:05 PM), as clerks
# write them and as Excel's Chinese formats (上午/下午 h:mm) export them: rewritten to h:mm[:ss] (_clock)
_CLOCK_IN_WORDS = re.compile(r"(?<!\d)(?P<h>\d{1,2})[时点](?:(?P<mi>\d{1,2})分(?:(?P<s>\d{1,2})秒)?|(?P<thirty>半))?$")
# a part of the day before (or, AM/PM, after) the hour — 上午8点, 晚8点, 中午1点, 3:05 PM — and the hours it
# may name, as the 24-hour clock; an hour it cannot name (下午15:00, 晚上3点) is a finding, not a guess
_MORNING = {h: h for h in range(1, 12)} | {12: 0}  # Excel's 上午12:30 is 0:30 (words: see _clock)
_AFTERNOON = {h: h + 12 for h in range(1, 12)} | {12: 12}
_EVENING = {h: h + 12 for h in range(5, 12)}
_PART_OF_DAY = {
    "凌晨": {h: h for h in range(0, 7)},
    "早上": {h: h for h in range(4, 12)},
    "早晨": {h: h for h in range(4, 12)},
    "早": {h: h for h in range(4, 12)},
    "上午": _MORNING,
    "AM": _MORNING,
    "中午": {11: 11, 12: 12, 1: 13, 2: 14},
    "下午": _AFTERNOON,
    "PM": _AFTERNOON,
    "傍晚": _EVENING,
    "晚上": _EVENING,
    "晚": _EVENING,
}
_HALF_DAY = re.compile(r"\s*(?P<half>" + "|".join(sorted(_PART_OF_DAY, key=len, reverse=True)) + r")\s*", re.IGNORECASE)


class ValueProblem(ValueError):
    """A cell that cannot be read as its column's kind; the message is for the clerk (zh) and logs (en)."""

    stage = 0  # order among a column's problems: 0 unreadable, 1 not a whole number, 2 formula error

    def __init__(self, zh: str, en: str, stage: int = 0):
        super().__init__(en)
        self.zh, self.en = zh, en
        if stage:
            self.stage = stage


@dataclass
class Converted:
    values: pd.Series
    approximate: pd.Series
    problems: dict[int, ValueProblem] = field(default_factory=dict)  # positional row → problem
    notes: dict[int, ValueProblem] = field(default_factory=dict)  # readable but worth a warning


def _number_is_dot_grouped(text: str) -> bool:
    """Whether the number written in ``text`` (bare, or with 约, a unit, 余…) has dots grouping digits in
    threes: 1.250, 12.345.678, 约1.250吨."""
    folded = fold(text)
    if _DOT_GROUPED.fullmatch(folded):
        return True
    match = _NUMBER.match(folded)
    return bool(match) and _DOT_GROUPED.fullmatch(match["num"]) is not None


def _dot_free(text: str) -> str:
    return fold(text).replace(".", "")


def is_blank(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and raw != raw:
        return True
    return isinstance(raw, str) and fold(raw) in BLANK_TOKENS


def parse_number(raw: object, unit: str | None = None, bare: Fraction | None = None) -> tuple[float | None, bool]:
    """(value, approximate) for one cell: 30余 → (30, True), 1.2万 → (12000, False), ３０ → 30, 97.8% → 0.978.
    ``unit``: the column's (etl.ingest.parse.units) — a number written with a unit or 万 is read in it
    (7874.97万元 in 万元 → 7874.97, 30分钟 in 小时 → 0.5), and a unit of another quantity is a problem.
    ``bare``: what a number written without unit or 万 is in ``unit`` (its header names another unit)."""
    if isinstance(raw, bool):
        raise ValueProblem(f"「{raw}」不是数字", f"{raw!r} is not a number")
    if isinstance(raw, (int, float)):
        return (float(raw) if bare is None else times(float(raw), bare)), False
    text = _THOUSANDS.sub(lambda grouped: grouped[0].replace(",", ""), fold(raw))  # ， folds to ,
    if "," in text:  # 2,5 is not 25: a comma that does not group thousands is a decimal comma, or a slip
        raise ValueProblem(
            f"「{raw}」不是有效的数字：逗号只能用作千位分隔符（如 1,234），小数请用小数点（如 2.5）",
            f"{raw!r} is not a valid number: a comma may only separate thousands",
        )
    if text in BLANK_TOKENS:
        return None, False
    if text.startswith("#"):
        raise ValueProblem(f"单元格是错误值「{text}」", f"cell holds the error value {text}")
    match = _NUMBER.match(text)
    if not match:
        raise ValueProblem(f"「{raw}」不是有效的数字", f"{raw!r} is not a valid number")
    exact = Decimal(match["num"]) * MULTIPLIERS.get(match["mult"] or "", 1)  # 0.57万 is 5700, not 5699.99…
    if unit is not None and (match["unit"] or match["mult"]):
        exact = _in_column_unit(raw, exact, match["unit"], unit)
    elif bare is not None:
        exact = times(exact, bare)
    value = float(exact / 100 if match["pct"] else exact)
    approximate = bool(match["approx_pre"] or match["approx_post"] or match["approx_tail"])
    return value, approximate


def _in_column_unit(raw: object, exact: Decimal, written: str | None, unit: str) -> Decimal:
    """``exact`` (with its 万 applied) in the column's ``unit``; ValueProblem when ``written`` is a unit of
    another quantity."""
    factor = in_column_units(written, unit)
    if factor is None:
        raise ValueProblem(
            f"「{raw}」的单位是“{written}”，本列的单位是“{unit}”，不是同一种量；请填写以“{unit}”计的数值",
            f"{raw!r} is in {written}, the column is in {unit}",
        )
    return times(exact, factor)


def times(value, factor: Fraction):
    """``value`` (a Decimal, a float or a Series of them) times ``factor``, as exact as its type allows:
    7874.97万 in 万元 stays 7874.97, 90 minutes are 1.5 hours."""
    return value * factor.numerator / factor.denominator


def parse_bool(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    text = fold(raw)
    if text in TRUE_TOKENS:
        return True
    if text in FALSE_TOKENS:
        return False
    if text in BLANK_TOKENS:
        return None
    raise ValueProblem(f"「{raw}」应填“是”或“否”", f"{raw!r} is not a yes/no value")


_DATE_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
    re.compile(r"^(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?$"),
    re.compile(r"^(?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$"),
)


def _clock(text: str) -> str:
    """``text`` with its time of day as h:mm[:ss]: 8时5分 → 8:05, 8点半 → 8:30, 下午3:05 → 15:05, 晚8点 →
    20:00, 中午1点 → 13:00, 上午12:30 → 0:30 (as Excel's 上午/下午 format writes midnight), 3:05 PM → 15:05.
    A part of the day before an hour it cannot name (下午15:00, 晚上3点), and 上午 before 12 written in words
    (上午12点: a clerk's noon as often as midnight), are left in, so that the cell is a finding rather than
    a guess."""
    words = _CLOCK_IN_WORDS.search(text)
    half = _HALF_DAY.search(text)
    if words and half and half["half"] == "上午" and int(words["h"]) == 12:
        return text
    if words:
        minutes = 30 if words["thirty"] else int(words["mi"] or 0)
        seconds = f":{int(words['s']):02d}" if words["s"] else ""
        text = f"{text[: words.start()]}{int(words['h'])}:{minutes:02d}{seconds}"
    half = _HALF_DAY.search(text)
    if half is None:
        return text
    rest = (text[: half.start()] + " " + text[half.end() :]).strip()
    time = _TIME.search(rest)
    hour = None if time is None else _PART_OF_DAY[half["half"].upper()].get(int(time["h"]))
    if hour is None:
        return text
    return f"{rest[: time.start()]}{hour}{rest[time.start() + len(time['h']) :]}"


# what a clerk can write instead of a value that is no date (30/7/2021: day and month cannot be told apart)
DATE_HINT = "，请写成 2021-07-30 或 2021年7月30日"
DATETIME_HINT = "，请写成 2021-09-24 10:05 这样的日期和时刻"


def _typed_day(number: float) -> bool:
    """Whether ``number`` may be a day typed as a number, 20210729: a whole number far above any Excel serial
    (80,000 is the year 2119)."""
    return 19_000_101 <= number <= 20_991_231 and float(number).is_integer()


def as_typed(value: object) -> object:
    """A number as a clerk typed it: 20210729, not the 20210729.0 the reader made of it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def parse_date(raw: object, default_year: int | None = None) -> dt.date | None:
    """Excel serials, date/datetime cells, 2021-07-28, 2021/7/28, 2021.7.28, 2021年7月28日, and 7月28日
    (year from the report period)."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if 20_000 <= raw <= 80_000:  # Excel serial day numbers 1954–2119
            return (EXCEL_EPOCH + dt.timedelta(days=int(raw))).date()
        if _typed_day(raw):  # 20210729 typed as a number
            return parse_date(str(int(raw)), default_year)
        raise ValueProblem(f"「{as_typed(raw)}」不是有效的日期{DATE_HINT}", f"{raw!r} is not a valid date")
    text = _clock(visible(unicodedata.normalize("NFKC", str(raw))).strip())
    time_of_day = _TIME.search(text)
    if time_of_day:  # a date written with its time: 2021-07-28 10:30
        text = text[: time_of_day.start()].rstrip("T ")
    text = fold(text)
    if text in BLANK_TOKENS:
        if time_of_day:  # a time of day and no date (8:05, 8时5分): not a blank cell
            raise ValueProblem(f"「{raw}」只有时刻，没有日期", f"{raw!r} is a time of day without a date")
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        year = int(match["y"]) if "y" in pattern.groupindex else default_year
        if year is None:
            raise ValueProblem(f"日期「{raw}」缺少年份，且无法从报表期间推断", f"date {raw!r} has no year")
        try:
            return dt.date(year, int(match["m"]), int(match["d"]))
        except ValueError:
            break
    raise ValueProblem(f"「{raw}」不是有效的日期{DATE_HINT}", f"{raw!r} is not a valid date")


def parse_datetime(raw: object, default_year: int | None = None) -> dt.datetime | None:
    """Datetime cells, Excel serials with a fraction, and text like 2021-09-24 10:05, 2021/9/24 10:05:00,
    2021年9月24日 10时05分, 8时5分, 8点, 下午3:05, 3:05 PM (``_clock``). A bare date means midnight."""
    if isinstance(raw, dt.datetime):
        return raw.replace(tzinfo=None)
    if isinstance(raw, dt.date):
        return dt.datetime.combine(raw, dt.time())
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if 20_000 <= raw <= 80_000:
            return (EXCEL_EPOCH + dt.timedelta(days=float(raw))).replace(microsecond=0)
        if _typed_day(raw):  # 20210924 typed as a number
            return dt.datetime.combine(parse_date(raw, default_year), dt.time())
        raise ValueProblem(f"「{as_typed(raw)}」不是有效的日期时间{DATETIME_HINT}", f"{raw!r} is not a valid datetime")
    text = _clock(visible(unicodedata.normalize("NFKC", str(raw))).strip())
    if fold(text) in BLANK_TOKENS:
        return None
    match = _TIME.search(text)
    try:
        day = parse_date(text, default_year)  # drops the time of day
        if match:
            return dt.datetime.combine(day, dt.time(int(match["h"]), int(match["mi"]), int(match["s"] or 0)))
        return dt.datetime.combine(day, dt.time())
    except (ValueProblem, ValueError, TypeError):
        raise ValueProblem(f"「{raw}」不是有效的日期时间{DATETIME_HINT}", f"{raw!r} is not a valid datetime") from None


def _text(raw: object) -> str | None:
    if is_blank(raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


# Layouts of date/time text the vectorised path reads: (length, separator positions → character). Every
# other character must be an ASCII digit; the moment is computed from the digits (_layout_moments).
_ISO_LAYOUTS = tuple(
    (len(example), {i: ch for i, ch in enumerate(example) if not ch.isdigit()})
    for sep in "-/"
    for example in (f"2021{sep}09{sep}24 10:05:00", f"2021{sep}09{sep}24 10:05", f"2021{sep}09{sep}24")
)


def _iso_datetimes(raw: pd.Series, dates: bool, stamps: bool = False) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(mask of the cells read, their values as datetime.datetime or, with ``dates``, datetime.date) for
    text cells written exactly in one of ``_ISO_LAYOUTS`` that name a real moment (a date column: the
    date layouts only); (None, None) when the column is not text or no cell qualifies."""
    values = raw.to_numpy(dtype=object)
    if len(values) < 64 or infer_dtype(values, skipna=True) != "string":
        return None, None  # few cells, or cells that are not all text: the per-value path
    # every text's characters as one byte each (ASCII; any other character as "?", which no layout has),
    # row i at starts[i]: the rows of one length are a matrix gathered from these bytes
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    data = np.frombuffer("".join(values).encode("ascii", errors="replace"), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    mask = np.zeros(len(values), dtype=bool)
    parsed = (
        np.full(len(values), np.datetime64("NaT"), dtype="datetime64[us]")
        if stamps
        else np.empty(len(values), dtype=object)
    )
    for length, separators in _ISO_LAYOUTS:
        if dates and length != 10:
            continue
        rows = np.flatnonzero((lengths == length) & ~mask)
        if not len(rows) or len(data) < length:
            continue
        codes = np.lib.stride_tricks.sliding_window_view(data, length)[starts[rows]]  # each row's bytes, one copy
        fits = np.ones(len(rows), dtype=bool)
        for i in range(length):  # a digit: code - 48 <= 9 (uint8: a code below "0" wraps round)
            fits &= (codes[:, i] == ord(separators[i])) if i in separators else (codes[:, i] - 48 <= 9)
        for tens in (14, 17):  # minutes and seconds 00-59
            if tens < length:
                fits &= codes[:, tens] <= ord("5")
        if not fits.any():
            continue
        moments, ok = _layout_moments(codes[fits], length)
        if not ok.any():
            continue
        where = rows[fits][ok]
        good = moments[ok].astype("datetime64[us]")
        parsed[where] = good if stamps else good.astype("datetime64[D]" if dates else "datetime64[us]").astype(object)
        mask[where] = True
    if not mask.any():
        return None, None
    return mask, parsed[mask]


def _layout_moments(codes: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[s] of each row, whether it names a real moment) for rows of character codes written in a
    layout of ``length`` (digits where the layout has digits, checked already): computed from the digits,
    year 1-9999, a day the month has, hours 00-23 (minutes and seconds 00-59 checked already)."""

    def number(start: int, width: int) -> np.ndarray:
        value = np.zeros(len(codes), dtype=np.int64)
        for k in range(start, start + width):
            value = value * 10 + (codes[:, k].astype(np.int64) - 48)
        return value

    year, month, day = number(0, 4), number(5, 2), number(8, 2)
    hour, minute = (number(11, 2), number(14, 2)) if length > 10 else (0, 0)
    second = number(17, 2) if length > 16 else 0
    ok = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (hour <= 23)
    first_of_month = (np.where(ok, year, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]")
    first_of_month = first_of_month + (np.where(ok, month, 1) - 1)
    month_days = ((first_of_month + 1).astype("datetime64[D]") - first_of_month.astype("datetime64[D]")).astype(
        np.int64
    )
    ok &= day <= month_days
    days = first_of_month.astype("datetime64[D]") + (np.where(ok, day, 1) - 1)
    return days.astype("datetime64[s]") + (hour * 3600 + minute * 60 + second), ok


# 2.02109E+12, 1E+15: how Excel and WPS write a long number they show so (one digit before the point, E+, two
# or more digits), and nothing a code is made of otherwise (2021E001 is a code)
_SCIENTIFIC = re.compile(r"-?\d(?:\.\d+)?E\+\d{2,}")


def _has_lost_digits(value: object) -> bool:
    """Whether a number cell holds 16 or more digits before its point: more than Excel keeps."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1e15


def _factorize_strings(raw: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """(codes, distinct values) when every non-missing cell is a plain ``str`` (missing: None/NaN, code
    -1), else None. Cells of other types (numbers, dates, bools) take the general path: factorizing would
    merge values that compare equal across types (1, 1.0 and True)."""
    values = raw.to_numpy(dtype=object)
    if len(values) == 0 or infer_dtype(values, skipna=True) != "string":
        return None
    codes, uniques = pd.factorize(values)
    if set(map(type, uniques)) != {str}:
        return None  # a str subclass (formula error values are masked before conversion anyway)
    return codes, uniques


def _nul_cells(raw: pd.Series) -> pd.Series | None:
    """Which text cells hold a NUL character (no database text column can store one), or None."""
    if raw.dtype != object and not pd.api.types.is_string_dtype(raw.dtype):
        return None
    try:
        found = raw.str.contains("\x00", regex=False, na=False)
    except (AttributeError, TypeError):  # no text in the column
        return None
    return found.astype(bool) if found.any() else None


def _cell_error_problem(value: CellError) -> ValueProblem:
    if isinstance(value, UncachedFormula):
        return ValueProblem(
            f"单元格是公式「{value}」，但文件中没有它的计算结果（文件可能由程序生成、未在 Excel/WPS 中保存过），"
            "数值未知；请用 Excel/WPS 打开、保存后重新提交，或直接填写数值",
            f"the formula {value} was saved without its result",
            stage=2,
        )
    return ValueProblem(
        f"单元格是公式错误值「{value}」，请检查公式或直接填写数值", f"the cell holds the formula error {value}", stage=2
    )


class ColumnConverter:
    """Converts one raw column to its contract kind."""

    def __init__(
        self,
        places: Places,
        default_year: int | None = None,
        district_code: str | None = None,
        cell_errors: bool = True,
        nul_check: bool = True,
        dots_may_group: bool = False,
        bare_factors: dict[str, Fraction] | None = None,
    ):
        self.places = places
        self.cell_errors = cell_errors  # False when the sheet is known to hold no formula errors: skip the scan
        self.nul_check = nul_check  # False when the reader knows no cell holds a NUL: skip that scan
        self.dots_may_group = dots_may_group  # a semicolon-separated file's: 1.250 is ambiguous (_dot_grouped)
        # column name → what a bare number is in the contract's unit, where the header names another (总投资（元）)
        self.bare_factors = bare_factors or {}
        # datetime columns as datetime64[us] (NaT for blanks) instead of datetime.datetime/None objects: for a
        # caller that hands them to a derive function that reads either the same way (etl.ingest.check, reading a large CSV in chunks)
        self.datetime64 = False
        self.default_year = default_year
        self.district_code = district_code  # for street lookup

    def convert(self, column: Column, raw: pd.Series) -> Converted:
        """Formula errors (#REF!, #DIV/0! …) are reported as such and read as empty; the rest by kind."""
        raw = raw.reset_index(drop=True)
        errors = raw.map(lambda v: isinstance(v, CellError)) if self.cell_errors else pd.Series(False, index=raw.index)
        nul = _nul_cells(raw) if self.nul_check else None
        unusable = errors | nul if nul is not None else errors
        converted = getattr(self, f"_convert_{column.kind}")(
            column, raw.mask(unusable, None) if unusable.any() else raw
        )
        for i in errors[errors].index:
            converted.problems[int(i)] = _cell_error_problem(raw.iat[i])
        if nul is not None:
            for i in nul[nul].index:
                converted.problems[int(i)] = ValueProblem(
                    "单元格中含有不可见的控制字符（NUL，常见于系统导出错误），请删除后重新填写该单元格",
                    "the cell contains a NUL character",
                )
        return converted

    def _by_unique(self, raw: pd.Series, parse) -> tuple[pd.Series, dict[int, ValueProblem], pd.Series]:
        """Apply ``parse`` once per distinct value (a register has 24,671 rows but two values of 是/否);
        returns values, problems by row label, approximate mask."""
        codes, uniques = pd.factorize(raw.to_numpy(dtype=object), use_na_sentinel=False)
        parsed, approx, problems_by_code = [], [], {}
        for code, value in enumerate(uniques):
            value = None if value is None or (isinstance(value, float) and value != value) else value
            try:
                result = parse(value)
                result, is_approx = result if isinstance(result, tuple) else (result, False)
            except ValueProblem as problem:
                result, is_approx, problems_by_code[code] = None, False, problem
            parsed.append(result)
            approx.append(is_approx)
        lookup = np.empty(len(parsed), dtype=object)
        lookup[:] = parsed
        values = pd.Series(lookup[codes], index=raw.index, dtype=object)
        approx_mask = pd.Series(np.array(approx, dtype=bool)[codes] if approx else False, index=raw.index)
        problems = {}
        if problems_by_code:
            for position in np.flatnonzero(np.isin(codes, list(problems_by_code))):
                problems[int(raw.index[position])] = problems_by_code[int(codes[position])]
        return values, problems, approx_mask

    def _convert_text(self, column: Column, raw: pd.Series) -> Converted:
        """Vectorised: strip text, blank tokens to None, whole floats (codes read as numbers) without ".0".
        A column of text cells only (the usual case) is cleaned once per distinct value."""
        distinct = _factorize_strings(raw)
        if distinct is not None:
            codes, uniques = distinct
            if holds_invisible("".join(uniques)):  # a copy from a web page or a phone: one search of all values
                uniques = [visible(text) for text in uniques]
            cleaned = np.empty(len(uniques) + 1, dtype=object)  # the last slot is for blanks (code -1)
            cleaned[:-1] = [None if text in BLANK_TOKENS else text for text in map(str.strip, uniques)]
            cleaned[-1] = None
            return Converted(
                pd.Series(cleaned[codes], index=raw.index, dtype=object), pd.Series(False, index=raw.index)
            )
        kinds = raw.map(type)
        numeric = kinds.isin((float, int))
        text = raw.where(~numeric, raw[numeric].map(_text)) if numeric.any() else raw
        values = text.astype("string").str.replace(f"[{INVISIBLE}]+", "", regex=True).str.strip()
        values = values.mask(values.isna() | values.isin(BLANK_TOKENS) | values.str.strip(" \u3000").eq(""))
        return Converted(values.astype(object).where(values.notna(), None), pd.Series(False, index=raw.index))

    def _convert_code(self, column: Column, raw: pd.Series) -> Converted:
        """A code or an ID as text (``_convert_text``), and the two ways Excel loses a long code's digits
        said on its cell, the value left empty: a number cell of 16 digits or more (Excel keeps 15
        significant digits; the rest became 0) and a code written in scientific notation (2.02109E+12: a
        CSV opened in Excel and saved again)."""
        converted = self._convert_text(column, raw)
        texts = converted.values
        candidates = (  # few codes hold E+: one search of them all first, a test of each only then, the pattern after
            np.flatnonzero(np.fromiter((t.__class__ is str and "E+" in t for t in texts.to_numpy()), bool, len(texts)))
            if "E+" in "\x00".join(texts.dropna().tolist())
            else ()
        )
        for i in (i for i in candidates if _SCIENTIFIC.fullmatch(texts.iat[i])):
            converted.problems[int(i)] = ValueProblem(
                f"编码「{texts.iat[i]}」是科学计数法：Excel 把长数字编码改写成了科学计数法，原编码的后几位已丢失；"
                "请在导出系统中重新导出（不要用 Excel 打开后另存为 CSV），或把该列设为文本格式后重新填写",
                f"the code {texts.iat[i]!r} is in scientific notation: its digits were lost by Excel",
            )
        values = raw.to_numpy(dtype=object)
        if infer_dtype(values, skipna=True) != "string":  # number cells (a workbook's): 16 digits or more lost some
            for i in np.flatnonzero([_has_lost_digits(v) for v in values]):
                shown = f"{int(Decimal(f'{values[i]:.15g}'))}"  # as Excel shows it: 15 digits, then zeros
                converted.problems[int(i)] = ValueProblem(
                    f"编码「{shown}」是超过15位的数字：Excel 的数字单元格只保留15位有效数字，第16位起已变为0；"
                    "请把该列设为文本格式后重新填写编码",
                    f"the code {shown} is a number of 16 or more digits: Excel kept 15 of them",
                )
        if converted.problems:
            converted.values = texts.mask(texts.index.isin(list(converted.problems)), None)
            converted.problems = dict(sorted(converted.problems.items()))
        return converted

    def _convert_number(self, column: Column, raw: pd.Series, integer: bool) -> Converted:
        grouped = self._dot_grouped(raw) if self.dots_may_group else {}
        if grouped:
            raw = raw.mask(raw.index.isin(list(grouped)), None)
        bare = self.bare_factors.get(column.name)
        fast = pd.to_numeric(raw, errors="coerce")
        slow_rows = fast.isna() & raw.notna()
        values = fast.astype("float64") if bare is None else times(fast.astype("float64"), bare)
        approx = pd.Series(False, index=raw.index)
        problems: dict[int, ValueProblem] = dict(grouped)
        if slow_rows.any():
            parsed, slow_problems, slow_approx = self._by_unique(
                raw[slow_rows], lambda v: parse_number(v, column.unit, bare)
            )
            problems.update(slow_problems)
            values.loc[slow_rows] = parsed.astype("float64")
            approx.loc[slow_rows] = slow_approx
        if column.blank_is_zero:
            values = values.where(values.notna() | raw.index.isin(list(problems)), 0.0)
        if integer:
            fractional = values.notna() & (values != values.round())
            for i in fractional[fractional].index:
                problems[int(i)] = ValueProblem(
                    f"「{raw.iat[i]}」应为整数", f"{raw.iat[i]!r} should be a whole number", stage=1
                )
            values = values.where(~fractional).round().astype("Int64")
        if grouped:  # by row, as the problems of each kind are everywhere else
            problems = dict(sorted(problems.items()))
        return Converted(values, approx, problems)

    @staticmethod
    def _dot_grouped(raw: pd.Series) -> dict[int, ValueProblem]:
        """The text cells whose number is written like 1.250 or 12.345.678 (约1.250吨 too): in a
        semicolon-separated file — Excel's CSV under a locale whose decimal mark is the comma, and whose
        thousands mark is the dot — 1.250 may be 1250 as well as 1.25, and neither may be guessed. Decided
        once per distinct value."""
        codes, uniques = pd.factorize(raw.to_numpy(dtype=object))  # blanks: -1
        grouped = np.array([isinstance(u, str) and _number_is_dot_grouped(u) for u in uniques] + [False], dtype=bool)
        return {
            int(i): ValueProblem(
                f"「{raw.iat[i]}」含义不明：以分号分隔的文件中，点可能是千位分隔符（{_dot_free(raw.iat[i])}），"
                f"也可能是小数点；请写成不带分隔符的数字，或另存为 xlsx 后重新提交",
                f"{raw.iat[i]!r} is ambiguous in a semicolon-separated file: the dot may group thousands",
            )
            for i in np.flatnonzero(grouped[codes])
        }

    def _convert_int(self, column: Column, raw: pd.Series) -> Converted:
        return self._convert_number(column, raw, integer=True)

    def _convert_decimal(self, column: Column, raw: pd.Series) -> Converted:
        return self._convert_number(column, raw, integer=False)

    def _convert_bool(self, column: Column, raw: pd.Series) -> Converted:
        values, problems, approx = self._by_unique(raw, parse_bool)
        return Converted(values.astype("boolean"), approx, problems)

    def _convert_date(self, column: Column, raw: pd.Series) -> Converted:
        return self._convert_temporal(raw, lambda v: parse_date(v, self.default_year), dates=True)

    def _convert_datetime(self, column: Column, raw: pd.Series) -> Converted:
        converted = self._convert_temporal(
            raw, lambda v: parse_datetime(v, self.default_year), dates=False, stamps=self.datetime64
        )
        if self.datetime64 and converted.values.dtype == object:
            converted.values = pd.Series(
                pd.to_datetime(converted.values.to_numpy(), errors="coerce"), index=raw.index
            ).astype("datetime64[us]")
        return converted

    def _convert_temporal(self, raw: pd.Series, parse, dates: bool, stamps: bool = False) -> Converted:
        """Text written exactly as 2021-09-24 10:05:00, 2021-09-24 10:05 or 2021-09-24 (also with "/") is
        parsed vectorised; everything else (and a date that does not exist) once per distinct value with
        ``parse``, which gives the same value for every text the fast path accepts. An export of a million
        tickets has about as many distinct times: one Python call each would take seconds per column."""
        fast, parsed = _iso_datetimes(raw, dates, stamps)
        if fast is None:
            values, problems, approx = self._by_unique(raw, parse)
            return Converted(values.astype(object), approx, problems)
        problems: dict[int, ValueProblem] = {}
        rest = ~fast
        if stamps:  # datetime64[us]: the per-value results (datetime or None) converted exactly
            out = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[us]")
            out[fast] = parsed
            if rest.any():
                slow, problems, _ = self._by_unique(raw[rest], parse)
                out[rest] = (
                    pd.to_datetime(slow.to_numpy(dtype=object), errors="coerce").to_numpy().astype("datetime64[us]")
                )
            return Converted(pd.Series(out, index=raw.index), pd.Series(False, index=raw.index), problems)
        out = np.empty(len(raw), dtype=object)
        out[fast] = parsed
        if rest.any():
            slow, problems, _ = self._by_unique(raw[rest], parse)
            out[rest] = slow.to_numpy(dtype=object)
        return Converted(pd.Series(out, index=raw.index, dtype=object), pd.Series(False, index=raw.index), problems)

    def _convert_district(self, column: Column, raw: pd.Series) -> Converted:
        def resolve(value: object) -> str | None:
            if is_blank(value):
                return None
            place = self.places.resolve_district(value)
            if place is None:
                raise ValueProblem(
                    f"区县「{as_typed(value)}」不在本市区县名录中", f"district {value!r} is not in the places reference"
                )
            return place.code

        values, problems, approx = self._by_unique(raw, resolve)
        return Converted(values.astype(object), approx, problems)

    def _convert_street(self, column: Column, raw: pd.Series) -> Converted:
        """A street in the district's reference is stored under its reference name (北地 → 北地街道); one not in
        the reference is kept as written (cleaned) and is a warning, not an error."""
        distinct = _factorize_strings(raw)
        if distinct is not None:  # text cells only: each distinct text folded once
            codes, uniques = distinct
            names = [None if is_blank(v) else fold(v) for v in uniques]
        else:  # cells of other types folded one by one; folded, they are all text and factorize safely
            codes, uniques = pd.factorize(raw.map(lambda v: None if is_blank(v) else fold(v)).to_numpy(dtype=object))
            names = list(uniques)
        notes: dict[int, ValueProblem] = {}
        unknown: set = set()
        if self.district_code:  # each distinct name resolved and renamed once
            present = {name for name in names if name is not None}
            resolved = {name: self.places.resolve_street(self.district_code, name) for name in present}
            unknown = {name for name, street in resolved.items() if street is None}
            renamed = {name: street.name for name, street in resolved.items() if street and street.name != name}
            names = [renamed.get(name, name) for name in names]
        folded = np.empty(len(names) + 1, dtype=object)
        folded[:-1], folded[-1] = names, None  # code -1 (a missing cell) is the last
        values = pd.Series(folded[codes], index=raw.index, dtype=object)
        if unknown:  # one note per name, shared by its rows: an export in another district's folder is all unknown
            said = {
                name: ValueProblem(
                    f"街道「{name}」不在本区县街道名录中", f"street {name!r} is not in the places reference"
                )
                for name in unknown
            }
            at = values.isin(unknown).to_numpy()
            notes = dict(zip(values.index[at].tolist(), map(said.__getitem__, values.to_numpy()[at]), strict=True))
        return Converted(values, pd.Series(False, index=raw.index), notes=notes)
