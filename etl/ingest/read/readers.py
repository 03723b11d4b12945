"""Read a district file into plain rows of cell values, whatever the container really is.

The content decides, not the file name: web systems export HTML as ".xls", clerks rename CSVs, and a
".xlsx" may be encrypted or cut short in transfer. python-calamine reads xlsx/xlsm/xls/ods (about ten
times faster than openpyxl); openpyxl is only opened when an xlsx holds formula error cells, which
calamine reads as blanks. What calamine leaves out of .ods (merged ranges, error cells) and .xls (error
cells) is read from the container by etl.ingest.read.office_facts, so every format gives the same facts.
XML Spreadsheet 2003, a text format, is read by etl.ingest.read.spreadsheet_xml.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from etl.ingest.read import text_literals
from etl.ingest.read.html_tables import html_tables
from etl.ingest.read.limits import Limits, mib

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
# Text content is read only under these names (a CSV renamed to .xls is still a CSV; .tsv is a
# tab-separated export; .xml is what Excel names an "XML 电子表格 2003").
TEXT_TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xls", ".xlsx", ".xlsm", ".et", ".htm", ".html", ".xml"}
# A text table's fields are separated by commas (CSV) or by tabs: what Excel/WPS save as "文本文件(制表符分隔)"
# and "Unicode 文本" (UTF-16), and what a copy out of a web table gives; or by semicolons (Excel's CSV
# under a locale whose decimal mark is the comma) or vertical bars (database and reporting-system dumps).
TEXT_DELIMITERS = (",", "\t", ";", "|")
DELIMITER_HEAD_CHARS = 65536  # the delimiter is judged on the records that begin in this much of the text
DELIMITER_HEAD_RECORDS = 50
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_MARKERS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))


class UnreadableFile(Exception):
    """The file cannot be read as a table; ``zh`` tells the clerk why and what to do. ``split_on``: the
    delimiter a text table was split on, when the failure comes from that split (too many fields, a field
    over its limit, a quote left open): under another delimiter the same text may read."""

    def __init__(self, zh: str, en: str, split_on: str | None = None):
        super().__init__(en)
        self.zh, self.en, self.split_on = zh, en, split_on


class CellError(str):
    """A formula error value (#REF!, #DIV/0!, #VALUE!, #N/A …) read from a cell's cached result."""


class UncachedFormula(CellError):
    """A formula cell saved without its result (its text: the formula, "=SUM(D5:D9)"): the cell's value is
    unknown, like an error value's (etl.ingest.read.uncached_formulas)."""


@dataclass
class Sheet:
    name: str
    rows: list[list[object]]
    visible: bool = True
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based, inclusive
    has_cell_errors: bool = False  # may hold CellError values (formula errors of any workbook, error texts of HTML)
    may_hold_nul: bool = (
        True  # False when the reader knows no cell holds a NUL character (etl.ingest.parse.values checks)
    )
    unreadable: str | None = None  # why the reader could not read this sheet (its rows are empty)
    delimiter: str | None = None  # a text table's field delimiter (None: a workbook's or a web page's sheet)

    def __post_init__(self) -> None:
        """A rectangle: CSV lines and HTML rows come ragged (a title line has one field)."""
        width = max((len(r) for r in self.rows), default=0)
        for row in self.rows:
            if len(row) < width:
                row.extend([""] * (width - len(row)))


def read_sheets(
    path: Path,
    limits: Limits | None = None,
    scan: bool = True,
    delimiter: str | None = None,
    rows_to: Callable[[Sheet, Iterator[list]], None] | None = None,
) -> list[Sheet]:
    """The file's sheets as rows of cell values, within ``limits`` (files read whole, CSV fields, cells);
    ``etl.ingest.read.isolated.read_isolated`` runs this in a child process with a memory limit (``scan=False``:
    a zip container's scan is the parent's). A text table is split on ``delimiter``, by default the one
    its first records suggest (``text_delimiter``). ``rows_to``: an xlsx workbook's sheets are handed to it
    one by one, in order, with their rows as python-calamine converts them, instead of being kept (the
    returned sheets have no rows); other formats are returned whole."""
    limits = limits or Limits()
    size = path.stat().st_size
    if size > limits.max_whole_file_bytes:
        raise UnreadableFile(
            f"文件大小超过 {mib(limits.max_whole_file_bytes)} 的上限（max_whole_file_bytes），"
            "未读取；较大的 12345 导出请另存为 CSV，其他报表请拆分后提交",
            f"{size} bytes, over max_whole_file_bytes={limits.max_whole_file_bytes}",
        )
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile("文件是空的，请重新导出后提交", "the file is empty")
    if data.startswith(ZIP_MAGIC):
        return _read_zip_container(path, data, limits, scan, rows_to)
    if data.startswith(OLE_MAGIC):
        if any(marker in data for marker in ENCRYPTED_MARKERS):
            raise UnreadableFile(
                "文件设置了打开密码（已加密），请取消密码后重新提交", "the workbook is encrypted (password-protected)"
            )
        return _read_with_calamine(data, limits)
    if data.startswith(b"%PDF"):
        raise UnreadableFile(
            "这是 PDF 文件，无法读取其中的数据，请提交 Excel 表格（xlsx/xls）或 CSV", "a PDF file, not a table"
        )
    suffix = path.suffix.lower()
    text = _decode_text(data) if suffix in TEXT_TABLE_SUFFIXES else None
    if text is None and suffix in (".csv", ".tsv", ".txt"):
        raise UnreadableFile("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV", "unknown text encoding")
    if text is None:
        raise UnreadableFile(
            f"无法识别的文件格式（{path.suffix or '无扩展名'}），请提交 Excel 表格（xlsx/xls）或 CSV",
            "not a spreadsheet, HTML table or text file",
        )
    head = text.lstrip()[:2048].lower()
    if head.startswith("<"):
        from etl.ingest.read.spreadsheet_xml import is_spreadsheet_xml, spreadsheet_xml_sheets

        if is_spreadsheet_xml(text[:4096]):
            sheets = spreadsheet_xml_sheets(text, limits)
            for sheet in sheets:
                sheet.may_hold_nul = "\x00" in text
            return sheets
    if head.startswith("<") and ("<table" in text.lower() or "<html" in head):
        tables = html_tables(text, limits)
        if not tables:
            raise UnreadableFile("网页导出的文件中没有表格", "an HTML file without a table")
        nul = "\x00" in text
        from etl.ingest.read.office_facts import ERROR_LITERALS, LIBREOFFICE_ERROR_PREFIX

        # html_tables made such cells CellError (etl.ingest.read.office_facts.is_error_text); a substring test says "may"
        errors = any(literal in text for literal in (*ERROR_LITERALS, LIBREOFFICE_ERROR_PREFIX))
        return [
            Sheet(f"表{i}", rows, True, merged, has_cell_errors=errors, may_hold_nul=nul)
            for i, (rows, merged) in enumerate(tables, start=1)
        ]
    delimiter = delimiter or text_delimiter(text[:DELIMITER_HEAD_CHARS])
    rows = csv_rows(io.StringIO(text), limits, delimiter)
    if text_literals.MARK in text:
        text_literals.unwrap_rows(rows)
    return [Sheet(path.stem, rows, may_hold_nul="\x00" in text, delimiter=delimiter)]


def text_delimiter(head: str) -> str:
    """The delimiter of a text table whose text begins with ``head``: the one of ``TEXT_DELIMITERS`` under
    which most of its first records split alike, as a table's header and rows do (the most fields in
    records of one same width of two or more); the comma when none does better. A comma inside a
    tab-separated row (an address, "1,234") or a tab inside a CSV field splits that row under the wrong
    delimiter, never the header: what is split alike there is fewer records, of fewer fields. The header
    has the last word (``other_delimiters``)."""
    best, best_fields = ",", 0
    for delimiter in TEXT_DELIMITERS:
        widths: Counter[int] = Counter()
        try:
            records = csv.reader(io.StringIO(head), delimiter=delimiter)
            for record in itertools.islice(records, DELIMITER_HEAD_RECORDS):
                if len(record) > 1:
                    widths[len(record)] += 1
        except csv.Error:  # a field longer than the csv module's limit: judged on the records before it
            pass
        fields = max((width * count for width, count in widths.items()), default=0)
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


def other_delimiters(delimiter: str) -> tuple[str, ...]:
    """The delimiters to split a text table on when ``delimiter`` gives no complete header: the parse
    and the chunked read try each, and keep the one under which the header is found."""
    return tuple(d for d in TEXT_DELIMITERS if d != delimiter)


def csv_rows(handle, limits: Limits, delimiter: str = ",") -> list[list[str]]:
    """Text records (fields separated by ``delimiter``) as lists of fields, within ``limits``: a field over
    ``max_field_bytes``, a record over ``max_columns`` fields or more than ``max_cells`` fields in all reject
    the file (UnreadableFile)."""
    csv.field_size_limit(limits.max_field_bytes)
    rows, cells = [], 0
    try:
        for row in csv.reader(handle, delimiter=delimiter):
            if len(row) > limits.max_columns:
                raise UnreadableFile(
                    f"第{len(rows) + 1}行有 {len(row)} 列，超过 {limits.max_columns} 列的上限（max_columns）",
                    f"record {len(rows) + 1} has {len(row)} fields, over max_columns",
                    delimiter,
                )
            cells += len(row)
            if cells > limits.max_cells:
                raise UnreadableFile(
                    f"文件超过 {limits.max_cells} 个单元格的上限（max_cells），请拆分后提交",
                    f"more than max_cells={limits.max_cells} fields",
                    delimiter,
                )
            rows.append(row)
    except csv.Error as exc:
        raise UnreadableFile(
            f"第{len(rows) + 1}行有单元格内容超过 {limits.max_field_bytes // 1024} KB 的上限"
            "（max_field_bytes）或引号不成对，请检查后重新导出",
            f"record {len(rows) + 1}: {exc}",
            delimiter,
        ) from exc
    return rows


def _read_zip_container(path: Path, data: bytes, limits: Limits, scan: bool = True, rows_to=None) -> list[Sheet]:
    """A zip container: measured whole (etl.ingest.read.container_guard.scan_actual: limits, truncated or corrupt
    members, formula error cells) while python-calamine reads it in a thread. Calamine releases the GIL,
    so the two take the same time as the read alone; a container the scan finds broken gets the scan's
    reason, whatever the read made of it. ``scan=False``: the read only (etl.ingest.read.isolated's child: its
    parent scans, ``finish_zip_container``)."""
    check_zip_names(io.BytesIO(data))
    if not scan:  # an .ods is returned whole: etl.ingest.read.office_facts completes its rows
        return _read_with_calamine(data, limits, None if _is_ods(data) else rows_to)
    from etl.ingest.read.container_guard import LimitExceeded, scan_actual

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="calamine") as pool:
        reading = pool.submit(_read_with_calamine, data, limits)
        try:
            facts = scan_actual(path, limits)
        except LimitExceeded as exc:
            raise UnreadableFile(exc.zh, exc.en) from exc
        check_zip_facts(facts)
        return finish_zip_container(io.BytesIO(data), reading.result(), facts, limits)


def check_zip_names(source) -> None:
    """Open the zip directory of ``source`` (a path or a binary file object; truncated: rejected) and turn
    away what is not a workbook."""
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise UnreadableFile(
            "文件不完整（可能在复制或上传时中断），请重新保存后提交", f"truncated or damaged zip container: {exc}"
        ) from exc
    if "word/document.xml" in names:
        raise UnreadableFile("这是 Word 文档，不是表格，请提交 Excel 表格（xlsx/xls）或 CSV", "a Word document")
    if "xl/workbook.bin" in names:  # calamine reads it, but its formula results and errors cannot be checked
        raise UnreadableFile(
            "这是 Excel 二进制工作簿（.xlsb），无法核对其中的公式结果；请在 Excel/WPS 中另存为 xlsx 后重新提交",
            "an Excel binary workbook (xlsb)",
        )
    if "ppt/presentation.xml" in names:
        raise UnreadableFile("这是 PowerPoint 文件，不是表格，请提交 Excel 表格", "a PowerPoint file")
    if "xl/workbook.xml" not in names and "content.xml" not in names:
        raise UnreadableFile(
            "压缩包里没有表格，请直接提交 Excel 表格（xlsx/xls）或 CSV", "a zip archive, not a workbook"
        )


def check_zip_facts(facts) -> None:
    if facts.broken is not None:
        raise UnreadableFile("文件已损坏（部分内容无法解压），请重新保存后提交", f"corrupt member {facts.broken}")


def finish_zip_container(source, sheets: list[Sheet], facts, limits: Limits) -> list[Sheet]:
    """The formula error values and the formulas saved without a result, which calamine read as blanks, put
    back (only when the scan saw any); a NUL is possible in a cell only where the XML escapes one (``_x0000_``)."""
    for sheet in sheets:
        sheet.may_hold_nul = facts.nul_escapes
    if facts.uncached_formulas or facts.unlocated_formulas:
        from etl.ingest.read.uncached_formulas import mark_uncached_formulas

        source.seek(0)
        mark_uncached_formulas(source, sheets, facts.uncached_formulas, limits, facts.unlocated_formulas)
        source.seek(0)
    if facts.error_cells:
        try:
            _mark_error_cells(source, sheets, limits)
        except UnreadableFile:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a DTD openpyxl refuses: the cells cannot be checked
            raise UnreadableFile(
                "文件中含有无法解析的内容（例如 XML 定义），无法核对公式错误值；请用 Excel/WPS 另存为 xlsx 后重新提交",
                f"formula error cells could not be read: {type(exc).__name__}: {exc}",
            ) from exc
    return sheets


def _read_with_calamine(data: bytes, limits: Limits, rows_to=None) -> list[Sheet]:
    """``rows_to``: see ``read_sheets`` (an .ods or .xls, whose rows ``_add_office_facts`` completes, is not
    handed to it)."""
    import python_calamine as calamine

    try:
        workbook = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets, cells = [], 0
        for meta in workbook.sheets_metadata:
            visible = meta.visible == calamine.SheetVisibleEnum.Visible
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
            except Exception as exc:  # noqa: BLE001 - one damaged sheet: the others are still read
                sheets.append(Sheet(meta.name, [], visible, unreadable=f"{type(exc).__name__}: {exc}"[:300]))
                if rows_to is not None:
                    rows_to(sheets[-1], iter(()))
                continue
            end = sheet.end  # the sheet's last used cell (python-calamine has allocated up to it)
            rows, columns = (end[0] + 1, end[1] + 1) if end else (0, 0)
            extent_within_limits(meta.name, rows, columns, 0, limits)  # before a Python object is made per cell
            cells += rows * columns
            if cells > limits.max_cells:
                raise UnreadableFile(
                    f"工作表「{meta.name}」等的范围超过 {limits.max_cells} 个单元格的上限（max_cells），"
                    "请删除多余内容，或导出为 CSV 后重新提交",
                    f"sheets span more than max_cells={limits.max_cells} cells",
                )
            merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
            if rows_to is None:
                rows = sheet.to_python(skip_empty_area=False)  # fresh lists of lists: ours to pad and mark
                sheets.append(Sheet(meta.name, rows, visible, merged))
            else:
                sheets.append(Sheet(meta.name, [], visible, merged))
                rows_to(sheets[-1], _calamine_rows(sheet))
        if sheets and all(sheet.unreadable for sheet in sheets):
            raise ValueError(sheets[0].unreadable)
    except UnreadableFile:
        raise
    except calamine.PasswordError as exc:
        raise UnreadableFile("文件设置了密码，请取消密码后重新提交", "the workbook is password-protected") from exc
    except Exception as exc:  # calamine raises several error types for broken containers
        raise UnreadableFile(
            "文件已损坏或不是有效的表格文件，请用 Excel/WPS 打开确认后另存为 xlsx 重新提交",
            f"cannot read the workbook: {exc}",
        ) from exc
    _add_office_facts(data, sheets, limits)
    return sheets


def _calamine_rows(sheet) -> Iterator[list]:
    """The rows ``sheet.to_python(skip_empty_area=False)`` gives, one at a time as they are converted:
    python-calamine's ``iter_rows`` starts at the sheet's first row but at its first used column."""
    if sheet.start is None:
        return iter(sheet.to_python(skip_empty_area=False))
    lead = sheet.start[1]
    rows = sheet.iter_rows()
    return rows if not lead else ([""] * lead + row for row in rows)


def _add_office_facts(data: bytes, sheets: list[Sheet], limits: Limits) -> None:
    """What calamine leaves out of .ods (merged ranges, formula error cells) and .xls (formula error
    cells), from the container itself (etl.ingest.read.office_facts), so that every format gives .xlsx's facts."""
    from etl.ingest.read.office_facts import ContainerUnreadable, ods_facts, xls_error_cells

    try:
        if data.startswith(OLE_MAGIC):
            errors = xls_error_cells(data)  # a BIFF formula record always holds its result
            merged: dict[str, list] = {}
            uncached: dict[str, list] = {}
        elif _is_ods(data):
            facts = ods_facts(data, {s.name: (len(s.rows), len(s.rows[0]) if s.rows else 0) for s in sheets}, limits)
            errors = {name: f.errors for name, f in facts.items() if f.errors}
            merged = {name: f.merged for name, f in facts.items() if f.merged}
            uncached = {name: f.uncached for name, f in facts.items() if f.uncached}
        else:
            return
    except ContainerUnreadable as exc:
        raise UnreadableFile(exc.zh, exc.en) from exc
    for sheet in sheets:
        if not sheet.merged and merged.get(sheet.name):
            sheet.merged = merged[sheet.name]
        for r, c, text in errors.get(sheet.name, ()):
            if r < len(sheet.rows) and c < len(sheet.rows[r]) and sheet.rows[r][c] in ("", None, text):
                sheet.rows[r][c] = CellError(text)  # calamine's extent holds every error cell: it is not empty
                sheet.has_cell_errors = True
        for r, c, formula in uncached.get(sheet.name, ()):  # read as blanks, perhaps beyond calamine's extent
            if r >= len(sheet.rows) or c >= len(sheet.rows[r]) or sheet.rows[r][c] in ("", None):
                put_cell(sheet, r, c, UncachedFormula(formula), limits)
                sheet.has_cell_errors = True


def _is_ods(data: bytes) -> bool:
    if not data.startswith(ZIP_MAGIC):
        return False
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
    return "content.xml" in names and "xl/workbook.xml" not in names


def _mark_error_cells(source, sheets: list[Sheet], limits: Limits) -> None:
    """Put the cached error value (#REF!, #DIV/0! …) where calamine left a blank; only workbooks that hold
    error cells (``etl.ingest.read.container_guard.scan_actual`` saw one) pay for opening openpyxl. Only
    within the rectangle calamine read (it reads every error cell it can, as a blank; a sheet it could not
    read at all stays unread), each place within ``limits``: this runs in the process that has no memory
    limit, and openpyxl's read-only rows can be padded to whatever extent a sheet declares."""
    from openpyxl import load_workbook

    workbook = load_workbook(source, read_only=True, data_only=True)
    by_name = {s.name: s for s in sheets}
    for worksheet in workbook.worksheets:
        sheet = by_name.get(worksheet.title)
        if sheet is None or sheet.unreadable or not sheet.rows:
            continue
        for row in worksheet.iter_rows(max_row=len(sheet.rows), max_col=max(map(len, sheet.rows))):
            for cell in row:
                if getattr(cell, "data_type", None) == "e" and cell.value is not None:
                    put_cell(sheet, cell.row - 1, cell.column - 1, CellError(cell.value), limits)
                    sheet.has_cell_errors = True
    workbook.close()


def within_limits(sheet: Sheet, row: int, column: int, limits: Limits, cells: int = 0) -> None:
    """UnreadableFile, naming the limit, when ``sheet`` grown to hold (row, column), 0-based — with
    ``cells`` cells read in all — would break ``limits``: a place a reader was told of (a counted cell, a
    repeat, an index) is checked before the sheet grows to it."""
    width = max(len(sheet.rows[0]) if sheet.rows else 0, column + 1)
    extent_within_limits(sheet.name, max(len(sheet.rows), row + 1), width, cells, limits)


def extent_within_limits(sheet: str, rows: int, columns: int, cells: int, limits: Limits) -> None:
    """``etl.ingest.read.container_guard.check_extent``, its LimitExceeded raised as the file's UnreadableFile."""
    from etl.ingest.read.container_guard import LimitExceeded, check_extent

    try:
        check_extent(sheet, rows, columns, cells, limits)
    except LimitExceeded as exc:
        raise UnreadableFile(exc.zh, exc.en) from exc


def put_cell(sheet: Sheet, row: int, column: int, value: object, limits: Limits | None = None) -> None:
    """``value`` at (row, column), 0-based; where the cell lies beyond the sheet, the sheet grows as a
    rectangle of blanks (within ``limits`` when given: ``within_limits``)."""
    if limits is not None:
        within_limits(sheet, row, column, limits)
    width = max(len(sheet.rows[0]) if sheet.rows else 0, column + 1)
    while len(sheet.rows) <= row:
        sheet.rows.append([""] * width)
    if len(sheet.rows[0]) < width:
        for line in sheet.rows:
            line.extend([""] * (width - len(line)))
    sheet.rows[row][column] = value


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def looks_binary(head: bytes) -> bool:
    """Binary content, not text: control bytes (NUL and the like, not tab or line ends) make up more than
    1 % of the first block. A NUL or two in a long text export is a bad cell, reported on its row
    (etl.ingest.parse.values), not a reason to turn the whole export away."""
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > len(head) // 100


def _decode_text(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if looks_binary(data[:4096]):
        return None
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
