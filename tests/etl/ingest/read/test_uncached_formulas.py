"""A formula saved without its result (a workbook a program wrote and no spreadsheet ever saved) is a cell
whose value is unknown: it is reported on its cell, never loaded as a blank. A formula saved with its
result reads as that result, and a formula whose result is the empty text is an empty cell, as before."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from workbooks import SERVICE_HEADER, edit_members, service_item, write_xlsx

import etl.ingest.read.container_guard as container_guard
from etl.ingest.parse.tables import SOURCE_ROW, parse_file
from etl.ingest.read.container_guard import worksheet_names
from etl.ingest.read.isolated import read_isolated
from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import UncachedFormula, UnreadableFile

NUMBER_COLUMNS = {"J": "legal_days", "L": "max_visits"}  # 法定时限, 最多跑动次数
REASON = "H"  # 不进厅原因: optional text
FIRST_DATA_ROW = 3  # a title row, the header, then the items

# what a number cell of a row holds: a plain number, a formula saved without its result, or with it
cells = st.sampled_from(("plain", "uncached", "cached"))
rows = st.lists(st.tuples(cells, cells, st.booleans(), st.integers(0, 5)), min_size=1, max_size=25)


def uncached_message(finding) -> bool:
    return finding.rule == "value_format" and "没有它的计算结果" in finding.message_zh


def write_register(folder: Path, plan) -> tuple[Path, set[str], dict[str, float]]:
    """A register whose number cells follow ``plan``; returns the path, the cells left without a result
    and the cached results by cell."""
    items, uncached, cached, empty_text = [], set(), {}, set()
    for i, (legal, visits, empty_reason, k) in enumerate(plan):
        row = FIRST_DATA_ROW + i
        item = service_item(f"MS{i:04d}", legal=30, visits=k)
        for letter, how in (("J", legal), ("L", visits)):
            index = ord(letter) - ord("A")
            if how != "plain":
                item[index] = f"={k}+{index}"
                (uncached.add(f"{letter}{row}") if how == "uncached" else cached.update({f"{letter}{row}": k + index}))
        if empty_reason:
            item[ord(REASON) - ord("A")] = '=""'
            empty_text.add(f"{REASON}{row}")
        items.append(item)
    path = write_xlsx(
        folder / "明山区" / "明山区_政务服务事项清单_2021Q4.xlsx",
        [SERVICE_HEADER, *items],
        title="明山区政务服务事项清单",
    )
    _saved_like_a_spreadsheet(path, cached, empty_text)
    return path, uncached, cached


def _saved_like_a_spreadsheet(path: Path, cached: dict[str, float], empty_text: set[str]) -> None:
    """openpyxl writes every formula as <c r="J3"><f>…</f><v /></c>; give the ``cached`` cells their result
    and the ``empty_text`` cells the empty text result, as Excel saves them (t="str", <v></v>)."""

    def saved(match: re.Match) -> bytes:
        ref, formula = match.group(1).decode(), match.group(2)
        if ref in cached:
            return b'<c r="%s"><f>%s</f><v>%d</v></c>' % (ref.encode(), formula, cached[ref])
        if ref in empty_text:
            return b'<c r="%s" t="str"><f>%s</f><v></v></c>' % (ref.encode(), formula)
        return match.group(0)

    edit_members(
        path,
        lambda name, data: (
            re.sub(rb'<c r="([A-Z]+\d+)"[^>]*><f>([^<]*)</f><v\s*/></c>', saved, data)
            if name.startswith("xl/worksheets/")
            else data
        ),
    )


_ROW_XML = re.compile(rb'<row r="(\d+)"([^>]*)>(.*?)</row>', re.S)
_CELL_OPEN = re.compile(rb'<c r="([A-Z]+)(\d+)"')


def without_references(data: bytes, drop) -> bytes:
    """The worksheet XML with the references (r=) of rows and cells taken out where ``drop(row, column)``
    says and where that leaves the place the same (a row right after the last, a cell right after the last
    of its row): the same sheet as a program that leaves them out writes it."""
    last_row = 0

    def row_without(match: re.Match) -> bytes:
        nonlocal last_row
        number, attributes, body = int(match.group(1)), match.group(2), match.group(3)
        last_column = 0

        def cell_without(cell: re.Match) -> bytes:
            nonlocal last_column
            column = container_guard.column_number(cell.group(1))
            keep = column != last_column + 1 or int(cell.group(2)) != number or not drop(number, column)
            last_column = column
            return cell.group(0) if keep else b"<c"

        body = _CELL_OPEN.sub(cell_without, body)
        head = (
            b"<row%s>" % attributes
            if number == last_row + 1 and drop(number, 0)
            else match.group(0)[: match.start(3) - match.start(0)]
        )
        last_row = number
        return head + body + b"</row>"

    return _ROW_XML.sub(row_without, data)


@given(
    plan=rows,
    block=st.sampled_from((1 << 20, 211, 64)),
    references=st.sampled_from(("kept", "none", "some")),
    seed=st.integers(0, 2**16),
)
@example(plan=[("uncached", "cached", True, 1), ("cached", "uncached", False, 2)], block=64, references="kept", seed=0)
@example(
    plan=[("uncached", "uncached", True, 1), ("cached", "uncached", False, 2)], block=64, references="none", seed=0
)
def test_a_formula_without_its_result_is_reported_on_its_cell_never_loaded_blank(
    tmp_path_factory, plan, block, references, seed
):
    """Whatever cells hold formulas with or without results, wherever the scan's pieces cut the XML
    (``block``: the scan reads the sheet in pieces of that many bytes), and whether the rows and cells
    carry their references (r=) or leave them out, all or some (their places counted)."""
    inbox = tmp_path_factory.mktemp("inbox")
    path, uncached, cached = write_register(inbox, plan)
    if references != "kept":
        drop = (
            (lambda row, column: True)
            if references == "none"
            else (lambda row, column: (row * 31 + column + seed) % 3 == 0)
        )
        edit_members(
            path, lambda name, data: without_references(data, drop) if name.startswith("xl/worksheets/") else data
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(container_guard, "BLOCK", block)
        report = parse_file(path, inbox=inbox)

    reported = {f.cell for f in report.findings if uncached_message(f)}
    assert reported == uncached
    assert all(f.value.startswith("=") for f in report.findings if uncached_message(f))
    # nothing else is said of a cell with its result or an empty text result
    assert not {f.cell for f in report.findings if f.cell and f.cell[0] in "HJL"} - uncached
    rows_by_excel = {int(r): i for i, r in enumerate(report.frame[SOURCE_ROW])}
    if report.quarantine is None or not len(report.quarantine):
        assert len(rows_by_excel) == len(plan)  # no row lost, none loaded with a blank for an unknown value
    for cell, value in cached.items():
        column = NUMBER_COLUMNS[cell[0]]
        if int(cell[1:]) in rows_by_excel:
            assert report.frame[column].iat[rows_by_excel[int(cell[1:])]] == value


def test_the_reader_puts_each_formula_without_its_result_on_its_cell(tmp_path):
    """Below the parse: the sheet the reader hands on holds the formula where calamine saw a blank, also
    beyond the rectangle calamine read (a last column of formulas only)."""
    path, _, _ = write_register(tmp_path, [("uncached", "plain", False, 1), ("plain", "uncached", True, 2)])
    edit_members(  # a formula in column Q, beyond every other cell: outside the rectangle calamine reads
        path,
        lambda name, data: (
            data.replace(b'</row><row r="4"', b'<c r="Q3"><f>SUM(J3:L3)</f></c></row><row r="4"', 1)
            if name == "xl/worksheets/sheet1.xml"
            else data
        ),
    )

    (sheet,) = read_isolated(path, Limits())
    found = {
        (r, c): str(v) for r, row in enumerate(sheet.rows) for c, v in enumerate(row) if isinstance(v, UncachedFormula)
    }
    assert found == {(2, 9): "=1+9", (3, 11): "=2+11", (2, 16): "=SUM(J3:L3)"}
    assert len({len(row) for row in sheet.rows}) == 1  # still a rectangle


def test_worksheet_members_are_named_by_the_workbook_whatever_their_file_names():
    workbook = (
        b'<workbook xmlns:r="r"><sheets><sheet name="A &amp; B" sheetId="1" r:id="rId7"/>'
        b'<x:sheet r:id="rId2" name="\xe6\x98\x8e\xe7\xbb\x86" sheetId="2"/></sheets></workbook>'
    )
    relationships = (
        b'<Relationships><Relationship Id="rId7" Target="worksheets/data.xml"/>'
        b'<Relationship Target="/xl/worksheets/sheet9.xml" Id="rId2"/></Relationships>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", relationships)
    with zipfile.ZipFile(buffer) as archive:
        assert worksheet_names(archive) == {"xl/worksheets/data.xml": "A & B", "xl/worksheets/sheet9.xml": "明细"}


def test_a_worksheet_whose_places_must_be_counted_expands_no_entity(tmp_path):
    """Counting places parses the worksheet's XML (defusedxml): an entity defined in it turns the file
    away with a reason instead of being expanded."""
    path, _, _ = write_register(tmp_path, [("uncached", "plain", False, 1)])
    edit_members(
        path,
        lambda name, data: (
            without_references(data, lambda row, column: True).replace(
                b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]><worksheet', 1
            )
            if name.startswith("xl/worksheets/")
            else data
        ),
    )
    with pytest.raises(UnreadableFile) as caught:
        read_isolated(path, Limits())
    assert "无法核对没有计算结果的公式" in caught.value.zh and "EntitiesForbidden" in caught.value.en


def write_ods_register(folder: Path, plan, extra: list | None = None) -> tuple[Path, set[str]]:
    """The register of ``plan`` as a program writes an .ods (odfpy): a formula cell with its result has a
    value type and value, one without has the formula alone. ``extra``: (rows repeated before, formula)
    rows appended below, a formula-only cell in column N each."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    def text_cell(value) -> TableCell:
        cell = TableCell(valuetype="string")
        if value is not None:
            cell.addElement(P(text=str(value)))
        return cell

    def number_cell(value, how: str, formula: str) -> TableCell:
        if how == "plain":
            cell = TableCell(valuetype="float", value=value)
        elif how == "cached":
            cell = TableCell(formula=f"of:={formula}", valuetype="float", value=value)
        else:
            return TableCell(formula=f"of:={formula}")
        cell.addElement(P(text=str(value)))
        return cell

    sheet, uncached = Table(name="事项清单"), set()
    for values in (["明山区政务服务事项清单"], SERVICE_HEADER):
        row = TableRow()
        for value in values:
            row.addElement(text_cell(value))
        sheet.addElement(row)
    for i, (legal, visits, _empty_reason, k) in enumerate(plan):
        excel_row, item = FIRST_DATA_ROW + i, service_item(f"MS{i:04d}", legal=30, visits=k)
        row = TableRow()
        for index, value in enumerate(item):
            letter = chr(ord("A") + index)
            how = {"J": legal, "L": visits}.get(letter, "plain")
            if isinstance(value, int):
                row.addElement(number_cell(value if how == "plain" else k + index, how, f"{k}+{index}"))
                if how == "uncached":
                    uncached.add(f"{letter}{excel_row}")
            else:
                row.addElement(text_cell(value))
        sheet.addElement(row)
    for repeated, formula in extra or []:
        if repeated:
            sheet.addElement(TableRow(numberrowsrepeated=repeated))
        row = TableRow()
        row.addElement(TableCell(numbercolumnsrepeated=13))
        row.addElement(TableCell(formula=formula))
        sheet.addElement(row)
    document = OpenDocumentSpreadsheet()
    document.spreadsheet.addElement(sheet)
    path = folder / "明山区" / "明山区_政务服务事项清单_2021Q4.ods"
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path, uncached


@given(plan=rows)
@example(plan=[("uncached", "cached", False, 1), ("cached", "uncached", False, 2)])
def test_an_ods_formula_without_its_result_is_reported_on_its_cell_too(tmp_path_factory, plan):
    """The same promise for .ods, whose formula cells python-calamine also reads as blanks when a program
    saved them without a value (etl/ingest/read/office_facts.py finds them in content.xml)."""
    inbox = tmp_path_factory.mktemp("inbox")
    path, uncached = write_ods_register(inbox, plan)
    report = parse_file(path, inbox=inbox)
    assert {f.cell for f in report.findings if uncached_message(f)} == uncached
    assert all(f.value.startswith("=") and "[" not in f.value for f in report.findings if uncached_message(f))


def test_an_ods_formula_beyond_what_was_read_is_put_in_or_the_file_turned_away(tmp_path):
    """A formula-only cell right of everything calamine read grows the sheet; one a million empty rows down
    would grow it past max_rows: the file is turned away with that reason, nothing allocated."""
    path, _ = write_ods_register(tmp_path, [("plain", "plain", False, 1)], extra=[(0, "of:=SUM([.J3:.L3])")])
    (sheet,) = read_isolated(path, Limits())
    assert [
        (r, c, str(v)) for r, row in enumerate(sheet.rows) for c, v in enumerate(row) if isinstance(v, UncachedFormula)
    ] == [(3, 13, "=SUM([.J3:.L3])")]
    far, _ = write_ods_register(tmp_path / "far", [("plain", "plain", False, 1)], extra=[(1_048_576, "of:=1+1")])
    with pytest.raises(UnreadableFile, match="max_rows") as caught:
        read_isolated(far, Limits())
    assert "超过 1048576 行的上限（max_rows）" in caught.value.zh


def test_a_formula_counted_far_beyond_the_limits_turns_the_file_away_before_anything_grows(tmp_path):
    """A row a million down whose cells carry no reference, a thousand empty ones and then a formula
    without its result: the scan saw one column; counting puts the formula at column 1,001 of row
    1,000,000 — past max_cells, so the file is turned away with that reason instead of the sheet growing
    to a billion cells."""
    path, _, _ = write_register(tmp_path, [("plain", "plain", False, 1)])
    far = b'<row r="1000000">' + b"<c/>" * 1000 + b"<c><f>1+1</f></c></row></sheetData>"
    edit_members(
        path,
        lambda name, data: data.replace(b"</sheetData>", far, 1) if name == "xl/worksheets/sheet1.xml" else data,
    )
    with pytest.raises(UnreadableFile) as caught:
        read_isolated(path, Limits())
    assert "max_cells" in caught.value.zh and "1000000" in caught.value.zh


def test_a_member_that_cannot_be_opened_again_is_a_reason_not_a_crash(tmp_path, monkeypatch):
    """Counting re-reads the worksheet: a member the zip module refuses then (a local header that
    disagrees with the directory, an encrypted member) turns the file away with a reason."""
    import etl.ingest.read.uncached_formulas as uncached_formulas

    path, _, _ = write_register(tmp_path, [("uncached", "plain", False, 1)])
    edit_members(
        path,
        lambda name, data: (
            without_references(data, lambda row, column: True) if name.startswith("xl/worksheets/") else data
        ),
    )

    def refused(self, name, *args, **kwargs):
        raise zipfile.BadZipFile(f"File name in directory {name!r} and header differ")

    monkeypatch.setattr(uncached_formulas.zipfile.ZipFile, "open", refused)
    with pytest.raises(UnreadableFile) as caught:
        read_isolated(path, Limits())
    assert "无法核对没有计算结果的公式" in caught.value.zh
