"""XML Spreadsheet 2003 (SpreadsheetML): what many OA and reporting systems export as ".xls", and what Excel
saves as "XML 电子表格 2003". A text file, not a workbook container: python-calamine cannot read it and it
is no HTML table. Its sheets are read here into the same rows, merged ranges and facts as any workbook's:

* a row or cell without ``ss:Index`` is the one after the last; a cell's ``ss:MergeAcross``/``ss:MergeDown``
  is a merged range, whose covered cells the next cell's place skips;
* ``ss:Type`` gives the value: Number (float), DateTime (datetime), Boolean, String (rich text joined),
  Error (a ``CellError``); a cell with ``ss:Formula`` and no value is an ``UncachedFormula``, as in xlsx;
* a sheet whose options say ``SheetHidden``/``SheetVeryHidden`` is hidden.

The XML is parsed as it streams (defusedxml: no entity is expanded), each row dropped once read; every
place is checked against the limits before a row is grown to it.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re

from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import CellError, Sheet, UncachedFormula, UnreadableFile, put_cell, within_limits

NAMESPACE = "urn:schemas-microsoft-com:office:spreadsheet"
_SS = "{" + NAMESPACE + "}"
_EXCEL = "{urn:schemas-microsoft-com:office:excel}"
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DIGITS = re.compile(r"[0-9]{1,9}")
_NUMBER = re.compile(r"\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?\s*")


def is_spreadsheet_xml(head: str) -> bool:
    """Whether the text beginning with ``head`` is an XML Spreadsheet 2003 document."""
    return NAMESPACE in head and "<Workbook" in head


def spreadsheet_xml_sheets(text: str, limits: Limits) -> list[Sheet]:
    """The worksheets of the SpreadsheetML document ``text`` (decoded: its encoding declaration is dropped)."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, iterparse

    reader = _Reader(limits)
    source = io.BytesIO(_DECLARATION.sub("", text, count=1).encode("utf-8"))
    try:
        for event, element in iterparse(source, events=("start", "end")):
            (reader.start if event == "start" else reader.end)(element)
    except (ParseError, DefusedXmlException) as exc:
        raise UnreadableFile(
            "文件是 XML 电子表格，但内容无法解析（可能不完整或含有 XML 实体定义）；请用 Excel/WPS 打开后另存为 xlsx 重新提交",
            f"SpreadsheetML could not be parsed: {type(exc).__name__}: {exc}",
        ) from exc
    if not reader.sheets:
        raise UnreadableFile("XML 电子表格中没有工作表", "a SpreadsheetML document without a worksheet")
    return reader.sheets


class _Reader:
    """The iterparse handlers: places through ss:Index and merges, values by ss:Type."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.sheets: list[Sheet] = []
        self.sheet: Sheet | None = None
        self.table = None  # the Table element: its rows are dropped once read
        self.row = self.column = -1
        self.cells = self.merged_area = 0
        self.covered: dict[int, set[int]] = {}  # row → columns a MergeDown above covers

    def start(self, element) -> None:
        tag = element.tag
        if tag == _SS + "Worksheet":
            self.sheet = Sheet(element.get(_SS + "Name") or f"Sheet{len(self.sheets) + 1}", [])
            self.sheets.append(self.sheet)
            self.row, self.covered = -1, {}
        elif tag == _SS + "Table" and self.sheet is not None:
            self.table = element
        elif tag == _SS + "Row" and self.sheet is not None:
            self.row = _index(element, self.row)
            self.column = -1
            self._check(self.row, 0)  # before any cell of it is placed

    def end(self, element) -> None:
        tag = element.tag
        if tag == _SS + "Cell" and self.sheet is not None:
            self._cell(element)
        elif tag == _SS + "Row" and self.table is not None:
            self.table.clear()  # the rows read so far
        elif tag == _EXCEL + "Visible" and self.sheet is not None:
            self.sheet.visible = (element.text or "").strip() not in ("SheetHidden", "SheetVeryHidden")
        elif tag == _SS + "Worksheet":
            self.sheet = self.table = None

    def _cell(self, element) -> None:
        if self.row < 0:
            raise UnreadableFile(
                "XML 电子表格的结构异常（单元格不在任何行中）；请用 Excel/WPS 打开后另存为 xlsx 重新提交",
                "a SpreadsheetML Cell outside a Row",
            )
        column = _index(element, self.column)
        while column in self.covered.get(self.row, ()):
            column += 1  # a merged range from a row above covers it: the cell is the next one
        across = _count(element.get(_SS + "MergeAcross"))
        down = _count(element.get(_SS + "MergeDown"))
        self.cells += 1
        self._check(self.row + down, column + across)
        if across or down:
            self.merged_area += (across + 1) * (down + 1)
            if self.merged_area > self.limits.max_cells:
                raise UnreadableFile(
                    f"合并单元格的范围超过 {self.limits.max_cells} 个单元格的上限（max_cells），请检查后重新保存",
                    f"merged ranges cover more than max_cells={self.limits.max_cells} cells",
                )
            self.sheet.merged.append(((self.row, column), (self.row + down, column + across)))
            for row in range(self.row + 1, self.row + down + 1):
                self.covered.setdefault(row, set()).update(range(column, column + across + 1))
        self.column = column + across
        value = _value(element)
        if value is None and element.get(_SS + "Formula"):
            value = UncachedFormula(element.get(_SS + "Formula"))
        if isinstance(value, CellError):
            self.sheet.has_cell_errors = True
        if value is not None:
            put_cell(self.sheet, self.row, column, value)

    def _check(self, row: int, column: int) -> None:
        """The sheet grown to (row, column), 0-based, and the cells read so far, within the limits."""
        within_limits(self.sheet, row, column, self.limits, self.cells)


def _index(element, previous: int) -> int:
    """The 0-based place of a row or cell: its ss:Index (1-based), else the one after ``previous``."""
    index = _count(element.get(_SS + "Index"))
    return index - 1 if index > 0 else previous + 1


def _count(value: str | None) -> int:
    """A whole number attribute (ASCII digits only), else 0."""
    return int(value) if value and _DIGITS.fullmatch(value) else 0


def _value(cell) -> object:
    """The cell's value by its Data element's ss:Type; None when it has none."""
    data = next((child for child in cell if child.tag == _SS + "Data"), None)
    if data is None:
        return None
    text = "".join(data.itertext())
    kind = data.get(_SS + "Type", "String")
    if kind == "Number":  # a plain finite number; anything else stays text, which the parse reports
        number = float(text) if _NUMBER.fullmatch(text) else math.nan
        return number if math.isfinite(number) else text
    if kind == "DateTime":
        try:
            return dt.datetime.fromisoformat(text.strip().rstrip("Z"))
        except ValueError:
            return text
    if kind == "Boolean":
        return text.strip() in ("1", "true", "TRUE")
    if kind == "Error":
        return CellError(text.strip())
    return text
