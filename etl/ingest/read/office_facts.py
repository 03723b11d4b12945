"""What python-calamine does not tell about .ods and .xls workbooks, read from the container itself, so
that every format gives the same Sheet facts as .xlsx (issue 13, class 5: "layout rules hold in one
format only").

python-calamine 0.9.1 reads the cell values and sheet visibility of every format, and the merged ranges
of xlsx/xlsm/xls, but:

* .ods: no merged ranges (``merged_cell_ranges`` is None) and formula error cells come back as blanks
  (LibreOffice writes them as ``office:value-type="string" office:string-value=""
  calcext:value-type="error"`` with the error text in ``<text:p>``). ``ods_facts`` streams content.xml
  through expat (never a tree, never more than one block of it in memory; about 0.8 s for the 10 MB
  content.xml of a 5,000-row register, and skipped when content.xml holds no span, formula or error
  at all) and gives, per table, the
  merged ranges (``table:number-columns-spanned`` / ``table:number-rows-spanned``, positions counted
  through ``number-rows-repeated`` / ``number-columns-repeated`` and covered cells) and the error cells.
* .xls: formula error cells come back as blanks. ``xls_error_cells`` walks the BIFF8 records of the
  Workbook stream (olefile opens the compound file): a FORMULA record whose cached result is an error,
  or a BOOLERR record holding an error.

Both run in the reader child (``etl.ingest.read.isolated``) under its memory and time limits, after calamine
has read the file (so its limits on rows, columns and cells already hold); what they return is clipped
to the rectangle calamine read, and merged areas count against ``Limits.max_cells`` like an HTML
table's spans do.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

from etl.ingest.read.container_guard import MAX_UNCACHED_FORMULAS
from etl.ingest.read.limits import Limits

# Excel's error values and LibreOffice's own (Err:502 …), as a cell's cached text shows them
ERROR_LITERALS = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#CONNECT!",
        "#BUSY!",
        "#UNKNOWN!",
    }
)
LIBREOFFICE_ERROR_PREFIX = "Err:"  # LibreOffice shows its errors as Err:502 and the like
_LIBREOFFICE_ERROR = re.compile(r"^Err:\d{3}$")


def is_error_text(text: object) -> bool:
    """A cell text that is a formula error value as Excel, WPS or LibreOffice display it."""
    return isinstance(text, str) and (
        text in ERROR_LITERALS or (text.startswith(LIBREOFFICE_ERROR_PREFIX) and bool(_LIBREOFFICE_ERROR.match(text)))
    )


class ContainerUnreadable(Exception):
    """The extra facts cannot be read (a DTD in the XML, a broken record): ``zh`` tells the clerk."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass
class TableFacts:
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based, inclusive
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, error text)
    # formula cells saved without their result (no value, no text): (row, column, formula as "=…")
    uncached: list[tuple[int, int, str]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ ods

_NAMESPACES = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
}
# what makes the expat pass worth running: no span and no formula in content.xml, nothing to find
_FORMULA_NAMESPACE = re.compile(r"^[A-Za-z]+:(?==)")  # of:=…, oooc:=…, msoxl:=…: the formula is what follows
_ODS_MARKERS = (b"-spanned=", b'value-type="error"', b":formula=")
_BLOCK = 1 << 20


def _count(value: str | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


class _OdsScanner:
    """expat handlers: the position of every cell through repeats, spans and covered cells.

    The parser runs without namespace processing (it halves expat's own time on a 10 MB content.xml):
    the prefixes are taken from the document element's declarations (table:, text:, office:, calcext: as
    every writer names them, unless it declares others there)."""

    def __init__(self, parser, extents: dict[str, tuple[int, int]]):
        self.parser = parser
        self.extents = extents  # table name → (rows, columns) calamine read: nothing outside is kept
        self.tables: dict[str, TableFacts] = {}
        self.depth = 0  # table:table nesting (a table inside a cell is not a sheet)
        self.name: str | None = None
        self.row = self.column = 0
        self.row_repeat = self.cell_repeat = 1
        self.error: tuple[int, int, int, bool] | None = None  # (row, column, repeat, certain) of an error cell
        self.formula: str | None = None  # that cell's formula when it says no result at all (no value type)
        self.text: list[str] = []
        self.text_depth = 0
        self.in_cell = False
        self.root = True
        self._names({})

    def _names(self, declarations: dict[str, str]) -> None:
        prefix = {short: short for short in _NAMESPACES}
        for attribute, uri in declarations.items():
            for short, namespace in _NAMESPACES.items():
                if uri == namespace and attribute.startswith("xmlns:"):
                    prefix[short] = attribute[6:]
        t, o, x, c = prefix["table"] + ":", prefix["office"] + ":", prefix["text"] + ":", prefix["calcext"] + ":"
        self.TABLE, self.ROW, self.CELL, self.COVERED = (
            t + "table",
            t + "table-row",
            t + "table-cell",
            t + "covered-table-cell",
        )
        self.NAME, self.ROWS_REPEATED, self.COLUMNS_REPEATED = (
            t + "name",
            t + "number-rows-repeated",
            t + "number-columns-repeated",
        )
        self.ROWS_SPANNED, self.COLUMNS_SPANNED, self.FORMULA = (
            t + "number-rows-spanned",
            t + "number-columns-spanned",
            t + "formula",
        )
        self.CALC_VALUE_TYPE, self.VALUE_TYPE, self.TEXT_P = c + "value-type", o + "value-type", x + "p"

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.root:
            self.root = False
            self._names(attrs)
        if tag == self.CELL or tag == self.COVERED:
            if self.depth != 1 or self.in_cell:
                return
            self.in_cell = True
            repeat = self.cell_repeat = _count(attrs.get(self.COLUMNS_REPEATED)) if attrs else 1
            if tag == self.CELL and attrs:
                if self.ROWS_SPANNED in attrs or self.COLUMNS_SPANNED in attrs:
                    self._spans(attrs)
                calc_type = attrs.get(self.CALC_VALUE_TYPE)
                if calc_type == "error" or (
                    calc_type is None and self.FORMULA in attrs and attrs.get(self.VALUE_TYPE, "string") == "string"
                ):
                    # LibreOffice says so (calcext); another writer's formula cell is one if its text is
                    self.error = (self.row, self.column, repeat, calc_type == "error")
                    self.formula = attrs.get(self.FORMULA) if self.VALUE_TYPE not in attrs else None
                    self.text = []
                    self.parser.CharacterDataHandler = self.data  # text is read only here
        elif tag == self.TEXT_P:
            if self.error is not None:
                self.text_depth += 1
                if self.text:
                    self.text.append("\n")
        elif tag == self.ROW:
            if self.depth == 1 and not self.in_cell:
                self.row_repeat = _count(attrs.get(self.ROWS_REPEATED)) if attrs else 1
                self.column = 0
        elif tag == self.TABLE:
            self.depth += 1
            if self.depth == 1:
                self.name = attrs.get(self.NAME, "")
                self.tables.setdefault(self.name, TableFacts())
                self.row = 0

    def _spans(self, attrs: dict[str, str]) -> None:
        rows, columns = _count(attrs.get(self.ROWS_SPANNED)), _count(attrs.get(self.COLUMNS_SPANNED))
        if rows == 1 and columns == 1:
            return
        height, width = self.extents.get(self.name, (0, 0))
        if self.row >= height or self.column >= width:
            return
        last_row = min(self.row + rows - 1, height - 1)
        last_column = min(self.column + columns - 1, width - 1)
        facts = self.tables[self.name]
        for offset in range(min(self.row_repeat, height - self.row)):  # a repeated row repeats its spans
            facts.merged.append(((self.row + offset, self.column), (min(last_row + offset, height - 1), last_column)))

    def end(self, tag: str) -> None:
        if tag == self.CELL or tag == self.COVERED:
            if self.depth == 1 and self.in_cell:
                self.in_cell = False
                if self.error is not None:
                    self.parser.CharacterDataHandler = None
                    self._error_cell("".join(self.text).strip())
                self.column += self.cell_repeat
        elif tag == self.TEXT_P:
            if self.error is not None:
                self.text_depth -= 1
        elif tag == self.ROW:
            if self.depth == 1 and not self.in_cell:
                self.row += self.row_repeat
        elif tag == self.TABLE:
            self.depth -= 1

    def _error_cell(self, text: str) -> None:
        row, column, repeat, certain = self.error
        self.error = None
        if self.formula is not None and not text:
            self._uncached(row, column, repeat, self.formula)
            return
        if not (is_error_text(text) or (certain and text)):
            return
        height, width = self.extents.get(self.name, (0, 0))
        facts = self.tables[self.name]
        for r in range(row, min(row + self.row_repeat, height)):
            for c in range(column, min(column + repeat, width)):
                facts.errors.append((r, c, text))

    def _uncached(self, row: int, column: int, repeat: int, formula: str) -> None:
        """A formula cell with neither a value nor a text (a program wrote the formula alone, as openpyxl does
        in xlsx): its result is unknown, wherever it stands (also beyond what calamine read: it read a blank)."""
        facts = self.tables[self.name]
        formula = _FORMULA_NAMESPACE.sub("", formula)
        formula = formula if formula.startswith("=") else "=" + formula
        if len(facts.uncached) + self.row_repeat * repeat > MAX_UNCACHED_FORMULAS:
            raise ContainerUnreadable(
                f"工作表「{self.name}」中有超过 {MAX_UNCACHED_FORMULAS} 个公式没有计算结果（文件可能由程序生成、"
                "从未在表格软件中保存过）；请用 Excel/WPS/LibreOffice 打开、保存后重新提交",
                f"table {self.name!r} holds more than {MAX_UNCACHED_FORMULAS} formula cells without a result",
            )
        for r in range(row, row + self.row_repeat):
            for c in range(column, column + repeat):
                facts.uncached.append((r, c, formula))

    def data(self, text: str) -> None:
        if self.text_depth > 0:
            self.text.append(text)


def _refuse_dtd(*_args) -> None:
    raise ContainerUnreadable(
        "文件中含有 XML 定义（DTD），无法核对合并单元格和公式错误值；请用 Excel/WPS/LibreOffice 另存后重新提交",
        "content.xml declares a DTD",
    )


def ods_facts(data: bytes, extents: dict[str, tuple[int, int]], limits: Limits) -> dict[str, TableFacts]:
    """Merged ranges and formula error cells of each table of the ods in ``data`` (table name → facts),
    streamed from content.xml in blocks; ``extents``: each table's (rows, columns) as calamine read it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if not _has_markers(archive, limits):
            return {}
        parser = expat.ParserCreate()
        scanner = _OdsScanner(parser, extents)
        parser.StartDoctypeDeclHandler = _refuse_dtd
        parser.EntityDeclHandler = _refuse_dtd
        parser.StartElementHandler = scanner.start
        parser.EndElementHandler = scanner.end
        parser.buffer_text = True
        try:
            with archive.open("content.xml") as member:
                for block in _blocks(member, limits):
                    parser.Parse(block, False)
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise ContainerUnreadable(
                "文件内容（content.xml）无法解析，请用 Excel/WPS/LibreOffice 另存后重新提交", f"content.xml: {exc}"
            ) from exc
    area = 0
    for facts in scanner.tables.values():
        for (r1, c1), (r2, c2) in facts.merged:
            area += (r2 - r1 + 1) * (c2 - c1 + 1)
        if area > limits.max_cells:
            raise ContainerUnreadable(
                f"合并单元格的范围超过 {limits.max_cells} 个单元格的上限（max_cells），请检查后重新保存",
                f"merged ranges cover more than max_cells={limits.max_cells} cells",
            )
    return scanner.tables


def _blocks(member, limits: Limits):
    """content.xml in blocks of 1 MiB, never more than ``max_member_bytes`` in all."""
    total = 0
    while True:
        block = member.read(_BLOCK)
        if not block:
            return
        total += len(block)
        if total > limits.max_member_bytes:
            raise ContainerUnreadable(
                "文件内部的 content.xml 解压后超过上限（max_member_bytes），未读取",
                "content.xml unpacks to more than max_member_bytes",
            )
        yield block


def _has_markers(archive: zipfile.ZipFile, limits: Limits) -> bool:
    """Whether content.xml holds a span, an error or a formula at all: inflating is far cheaper than
    parsing, and a large register has none of them."""
    tail = b""
    with archive.open("content.xml") as member:
        for block in _blocks(member, limits):
            window = tail + block
            if any(marker in window for marker in _ODS_MARKERS):
                return True
            tail = block[-32:]
    return False


# ------------------------------------------------------------------------------------------------ xls

_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
    0x2B: "#GETTING_DATA",
}
_RECORD = struct.Struct("<HH")
_CELL_HEAD = struct.Struct("<HHH")
_BOF, _EOF, _BOUNDSHEET, _BIFF_FORMULA, _BOOLERR = 0x0809, 0x000A, 0x0085, 0x0006, 0x0205


def xls_error_cells(data: bytes) -> dict[str, list[tuple[int, int, str]]]:
    """Formula error cells of each worksheet of the BIFF8 workbook in ``data`` (sheet name → (row,
    column, error text)); {} for a workbook without a BIFF8 Workbook stream (BIFF5 and older: calamine's
    blanks stay)."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            if not ole.exists("Workbook"):
                return {}
            stream = ole.openstream("Workbook").read()
    except Exception as exc:  # noqa: BLE001 - calamine read it; its compound file is still not one we can walk
        raise ContainerUnreadable(
            "文件结构异常，无法核对公式错误值；请用 Excel/WPS 另存为 xlsx 后重新提交",
            f"the xls compound file cannot be walked: {type(exc).__name__}: {exc}",
        ) from exc
    return _biff_errors(stream)


def _biff_errors(stream: bytes) -> dict[str, list[tuple[int, int, str]]]:
    sheet_at: dict[int, str] = {}  # BOF offset of each sheet substream → its name
    found: dict[str, list[tuple[int, int, str]]] = {}
    current: list | None = None
    pos, end = 0, len(stream)
    unpack, head = _RECORD.unpack_from, _CELL_HEAD.unpack_from
    while pos + 4 <= end:
        op, size = unpack(stream, pos)
        body = pos + 4
        if op == _BIFF_FORMULA:
            if (
                current is not None
                and size >= 14
                and stream[body + 12 : body + 14] == b"\xff\xff"
                and stream[body + 6] == 2
            ):
                row, column, _ = head(stream, body)
                current.append((row, column, _BIFF_ERRORS.get(stream[body + 8], "#N/A")))
        elif op == _BOOLERR:
            if current is not None and size >= 8 and stream[body + 7] == 1:
                row, column, _ = head(stream, body)
                current.append((row, column, _BIFF_ERRORS.get(stream[body + 6], "#N/A")))
        elif op == _BOUNDSHEET and size >= 8:
            offset = struct.unpack_from("<L", stream, body)[0]
            sheet_at[offset] = _short_unicode(stream, body + 6, body + size)
        elif op == _BOF:
            name = sheet_at.get(pos)
            current = found.setdefault(name, []) if name is not None else None
        elif op == _EOF:
            current = None
        pos = body + size
    return {name: cells for name, cells in found.items() if cells}


def _short_unicode(stream: bytes, at: int, end: int) -> str:
    """ShortXLUnicodeString: a character count, a flags byte (bit 0: two bytes a character), the text."""
    if at + 2 > end:
        return ""
    count, flags = stream[at], stream[at + 1]
    raw = stream[at + 2 : min(end, at + 2 + count * (2 if flags & 1 else 1))]
    return raw.decode("utf-16-le", "replace") if flags & 1 else raw.decode("latin-1")
