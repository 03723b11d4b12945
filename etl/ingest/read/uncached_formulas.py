"""Formula cells an xlsx holds without their result, put back where python-calamine read blanks.

Excel, WPS and LibreOffice save each formula's result beside it; a workbook written by a program (openpyxl,
a reporting system's export) may hold the formula alone, and every reader — calamine too — then sees an
empty cell. A figure nobody computed must not load as a blank: the scan of the container
(``etl.ingest.read.container_guard``) lists those cells by worksheet member, and here each becomes an
``UncachedFormula`` in its sheet, which the parse reports on its cell like a formula error value. A cell
may come without its reference (r=, optional in the format: its place is counted from the cells before
it); the scan only notes that such a worksheet holds one, and ``locate_uncached_formulas`` counts.
"""

from __future__ import annotations

import re
import zipfile
import zlib

from etl.ingest.read.container_guard import MAX_UNCACHED_FORMULAS, column_number, worksheet_names
from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import Sheet, UncachedFormula, UnreadableFile, put_cell


def mark_uncached_formulas(
    source, sheets: list[Sheet], found: dict[str, list[tuple[int, int, str]]], limits: Limits, unlocated=()
) -> None:
    """``found`` (worksheet member → [(row, column, formula)], 0-based) as ``UncachedFormula`` values in the
    sheets of the xlsx ``source`` (a path or binary file object), where the reader left the cell blank; the
    worksheet members in ``unlocated`` are located by counting instead. A cell the sheet would have to
    grow past ``limits`` to hold turns the file away (a place counted from cells without a reference was
    in no limit the scan checked)."""
    found = dict(found)
    try:
        with zipfile.ZipFile(source) as archive:
            names = worksheet_names(archive)
            for member in unlocated:
                found[member] = locate_uncached_formulas(archive, member)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError) as exc:
        # read again here: a member whose local header disagrees with the directory, an encrypted one …
        raise _unchecked("the workbook", exc) from exc
    by_name = {sheet.name: sheet for sheet in sheets}
    for member, cells in found.items():
        sheet = by_name.get(names.get(member, ""))
        if sheet is None:
            continue
        for row, column, formula in cells:
            if row < len(sheet.rows) and column < len(sheet.rows[row]) and sheet.rows[row][column] not in ("", None):
                continue  # the reader found a value after all
            put_cell(sheet, row, column, UncachedFormula(f"={formula}" if formula else "=…"), limits)
            sheet.has_cell_errors = True


_REFERENCE = re.compile(r"([A-Z]{1,4})([0-9]{1,9})")
_TEXT_RESULTS = ("str", "e", "inlineStr")  # cell types whose formula has a result of its own kind


def locate_uncached_formulas(archive: zipfile.ZipFile, member: str) -> list[tuple[int, int, str]]:
    """Every formula cell of the worksheet ``member`` saved without its result (as the scan's pattern says:
    no value, or an empty one, in a cell whose result is not text) at its (row, column, formula), 0-based.
    A row without a reference is the one after the last, a cell without one the column after the last
    cell of its row: as spreadsheet programs and python-calamine count. The XML is parsed as it streams
    (defusedxml: no entity is expanded), each row dropped once read."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, iterparse

    found: list[tuple[int, int, str]] = []
    row = column = -1
    place, rows = (0, 0), None
    try:
        with archive.open(member) as stream:
            for event, element in iterparse(stream, events=("start", "end")):
                name = element.tag.rsplit("}", 1)[-1]
                if event == "start":
                    if name == "row":
                        number = element.get("r", "")
                        row, column = (int(number) - 1 if number.isdigit() else row + 1), -1
                    elif name == "c":
                        reference = _REFERENCE.fullmatch(element.get("r", ""))
                        if reference is not None:
                            column = column_number(reference.group(1).encode()) - 1
                            place = (int(reference.group(2)) - 1, column)
                        else:
                            column += 1
                            place = (row, column)
                    elif name == "sheetData":
                        rows = element
                    continue
                if name == "c":
                    children = {child.tag.rsplit("}", 1)[-1]: child for child in element}
                    formula, value = children.get("f"), children.get("v")
                    empty = value is None or not (value.text or "").strip()
                    if formula is not None and empty and element.get("t") not in _TEXT_RESULTS:
                        if len(found) >= MAX_UNCACHED_FORMULAS:
                            raise UnreadableFile(
                                f"工作表中有超过 {MAX_UNCACHED_FORMULAS} 个公式没有计算结果（文件可能由程序生成、"
                                "从未在 Excel/WPS 中保存过）；请用 Excel/WPS 打开、保存后重新提交",
                                f"{member} holds more than {MAX_UNCACHED_FORMULAS} formula cells without a result",
                            )
                        found.append((*place, formula.text or ""))
                elif name == "row" and rows is not None:
                    rows.clear()  # the rows read so far: nothing of them is needed any more
    except (ParseError, DefusedXmlException, KeyError, ValueError) as exc:
        raise _unchecked(member, exc) from exc
    return found


def _unchecked(what: str, exc: Exception) -> UnreadableFile:
    return UnreadableFile(
        "文件中含有无法解析的内容，无法核对没有计算结果的公式；请用 Excel/WPS 另存为 xlsx 后重新提交",
        f"{what} could not be read for formulas without a result: {type(exc).__name__}: {exc}",
    )
