"""Formula cells an xlsx holds without their result, put back where python-calamine read blanks.

Excel, WPS and LibreOffice save each formula's result beside it; a workbook written by a program (openpyxl,
a reporting system's export) may hold the formula alone, and every reader — calamine too — then sees an
empty cell. A figure nobody computed must not load as a blank: the scan of the container
(``etl.ingest.read.container_guard``) lists those cells by worksheet member, and here each becomes an
``UncachedFormula`` in its sheet, which the parse reports on its cell like a formula error value.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile

from etl.ingest.read.readers import Sheet, UncachedFormula, put_cell

_TAG_ATTRIBUTES = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")


def mark_uncached_formulas(source, sheets: list[Sheet], found: dict[str, list[tuple[int, int, str]]]) -> None:
    """``found`` (worksheet member → [(row, column, formula)], 0-based) as ``UncachedFormula`` values in the
    sheets of the xlsx ``source`` (a path or binary file object), where the reader left the cell blank."""
    with zipfile.ZipFile(source) as archive:
        names = worksheet_names(archive)
    by_name = {sheet.name: sheet for sheet in sheets}
    for member, cells in found.items():
        sheet = by_name.get(names.get(member, ""))
        if sheet is None:
            continue
        for row, column, formula in cells:
            if row < len(sheet.rows) and column < len(sheet.rows[row]) and sheet.rows[row][column] not in ("", None):
                continue  # the reader found a value after all
            put_cell(sheet, row, column, UncachedFormula(f"={formula}" if formula else "=…"))
            sheet.has_cell_errors = True


def worksheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member (xl/worksheets/sheet1.xml) → the sheet's name, from the workbook and its relationships."""
    try:
        workbook = archive.read("xl/workbook.xml")
        relationships = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for tag in _RELATIONSHIP_TAG.finditer(relationships):
        attributes = dict(_TAG_ATTRIBUTES.findall(tag.group(1)))
        if b"Id" in attributes and b"Target" in attributes:
            targets[attributes[b"Id"]] = html.unescape(attributes[b"Target"].decode("utf-8", "replace"))
    names = {}
    for tag in _SHEET_TAG.finditer(workbook):
        attributes = dict(_TAG_ATTRIBUTES.findall(tag.group(1)))
        relation = next((v for k, v in attributes.items() if k.endswith(b":id")), None)
        target = targets.get(relation)
        if target is None or b"name" not in attributes:
            continue
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        names[member] = html.unescape(attributes[b"name"].decode("utf-8", "replace"))
    return names
