"""Every layout and value rule gives the same facts and findings in every format the pipeline accepts
(issue 13, class 5): the same workbook saved by a real office suite (LibreOffice, see
tests/data/office_suite/make_fixtures.py) as .xlsx, .xlsm, .xls, .ods and HTML parses to the same report
type, period, district, typed values and findings — merged 区县 cells, merged titles, hidden decoy sheets,
填表说明 sheets, formula cells' cached values, formula error cells and 合计 rows alike.

CI has no LibreOffice: these tests read only the committed fixtures. The in-process property tests at the
end write .xlsx (openpyxl), .ods (odfpy) and .xls (xlwt) themselves.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import DATA
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from etl.ingest import findings as F
from etl.ingest.parse.tables import SOURCE_ROW, parse_file
from etl.ingest.read.isolated import read_isolated
from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import CellError, read_sheets

FIXTURES = DATA / "office_suite"
FORMATS = (".xlsx", ".xlsm", ".xls", ".ods", ".html")
MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text(encoding="utf-8"))
FAMILIES = sorted(MANIFEST["families"])
GENERATED = [f for f in FAMILIES if f.startswith("generated_")]
# families whose formulas are all in the 合计 row (the generated ones also have formula detail cells)
TOTALS_ONLY_FORMULAS = [f for f in FAMILIES if not f.startswith("generated_")]
DISTRICT_OF = {"sample_service": "本溪满族自治县"}


def family_file(family: str, suffix: str) -> Path:
    return FIXTURES / family / (MANIFEST["families"][family]["report"] + suffix)


def source_file(family: str) -> Path:
    return FIXTURES / family / "source" / (MANIFEST["families"][family]["report"] + ".xlsx")


def district_of(family: str) -> str:
    return DISTRICT_OF.get(family) or MANIFEST["families"][family]["report"].split("_", 1)[0]


def in_inbox(tmp_path: Path, family: str, path: Path) -> tuple[Path, Path]:
    """The file as a clerk drops it: inbox/<区县>/<report name><suffix>."""
    inbox = tmp_path / "inbox"
    target = inbox / district_of(family) / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    return target, inbox


def _plain(value):
    """A typed value compared across formats: floats to the 15 significant digits a spreadsheet keeps
    (an .xls stores the binary double of a formula's result, xlsx and ods its 15-digit text)."""
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.15g}")
    if value is not None and value.__class__.__name__ == "NaTType":
        return None
    return value


def outcome(path: Path, inbox: Path, *, sheet_name: bool = True) -> dict:
    report = parse_file(path, inbox=inbox)
    frame = report.frame
    return {
        "report_type": report.report_type,
        "period": report.period,
        "district": report.district.name if report.district else None,
        # HTML tables carry no sheet names (表1, 表2 …): the sheet is compared among the workbook formats
        "sheet": report.sheet if sheet_name else None,
        "columns": None if frame is None else list(frame.columns),
        "rows": None if frame is None else [[_plain(v) for v in row] for row in frame.astype(object).values.tolist()],
        "findings": [
            (f.rule, f.severity, f.cell, f.row, f.column, f.message_zh, f.value, f.sheet if sheet_name else None)
            for f in report.findings
        ],
    }


# ------------------------------------------------------------------------------------------ fixtures


def test_the_fixtures_are_what_the_script_made_and_small():
    total = 0
    for family, entry in MANIFEST["families"].items():
        names = {entry["report"] + suffix for suffix in FORMATS} | {f"source/{entry['report']}.xlsx"}
        assert set(entry["files"]) == names, family
        for name, facts in entry["files"].items():
            data = (FIXTURES / family / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == facts["sha256"], f"{family}/{name} changed after the script ran"
            assert len(data) < 100 * 1024, f"{family}/{name} is {len(data)} bytes"
            total += len(data)
    assert total < 2 * 1024 * 1024
    assert MANIFEST["soffice"].startswith("LibreOffice ")
    assert len(GENERATED) == 8


# ------------------------------------------------------------------------------------------ parity


@pytest.mark.parametrize("family", FAMILIES)
def test_every_format_gives_the_same_facts_and_findings(tmp_path, family):
    """xlsx (saved by LibreOffice: cached values, error cells t="e") is the reference; xlsm, xls and ods
    must give exactly its outcome. HTML too, except the sheet name: an HTML table has none (the
    pipeline names them 表1, 表2 …), so sheet names are compared among the workbook formats only.
    LibreOffice leaves hidden sheets out of its HTML, so the decoy sheet is absent there: the test shows
    the workbook formats never read theirs either (same outcome as the HTML, which has no decoy)."""
    expected = outcome(*in_inbox(tmp_path / "xlsx", family, family_file(family, ".xlsx")))
    assert expected["report_type"] and expected["period"] and expected["district"] == district_of(family)
    for suffix in (".xlsm", ".xls", ".ods"):
        got = outcome(*in_inbox(tmp_path / suffix[1:], family, family_file(family, suffix)))
        assert got == expected, f"{family}{suffix}"
    html = outcome(*in_inbox(tmp_path / "html", family, family_file(family, ".html")), sheet_name=False)
    assert html == {**expected, "sheet": None, "findings": [(*f[:-1], None) for f in expected["findings"]]}, (
        f"{family}.html"
    )


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("family", FAMILIES)
def test_merged_district_cells_are_filled_down_in_every_format(tmp_path, family, suffix):
    """The failure of the issue: an .ods lost its merged 区县 cells (six 必填项为空)."""
    report = parse_file(*in_inbox(tmp_path, family, family_file(family, suffix)))
    column = report.contract.district_column
    assert report.frame[column].notna().all(), f"{family}{suffix}: 区县 left empty"
    assert set(report.frame[column]) == {report.district.code}
    assert not report.rejected or any(f.rule == "value_format" for f in report.findings)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("family", GENERATED)
def test_generated_workbooks_keep_their_layout_rules(tmp_path, family, suffix):
    """What the generator put in (read back from its openpyxl source) is found in every format: every
    formula error cell is a value_format error on its cell, the hidden decoy table is never read, the
    填表说明 sheet is skipped, and a 合计 whose SUM skipped text-written numbers says so."""
    source = load_workbook(source_file(family))
    data = next(ws for ws in source.worksheets if ws.sheet_state == "visible" and ws.title != "填表说明")
    errors = {
        cell.coordinate
        for row in data.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value in ("=1/0", "=#REF!")
    }
    text_rows = {
        cell.row
        for row in data.iter_rows(min_col=4, max_col=7)
        for cell in row
        if isinstance(cell.value, str) and not cell.value.startswith("=")
    }
    report = parse_file(*in_inbox(tmp_path, family, family_file(family, suffix)))
    formula_errors = {f.cell for f in report.findings if f.rule == "value_format" and "公式错误值" in f.message_zh}
    assert formula_errors == errors
    if suffix != ".html":
        assert report.sheet == data.title
    assert len(report.frame) == data.max_row - next(r for r in range(1, 5) if data.cell(r, 1).value == "日期") - 2
    totals = [f for f in report.findings if f.rule == "total_mismatch"]
    assert totals, "every generated workbook has a text-written number its SUM skipped"
    for finding in totals:
        assert "以文字填写" in finding.message_zh and "正是其余以数字填写的各行之和" in finding.message_zh
        named = {int(n) for n in finding.message_zh.split("其中第", 1)[1].split("行", 1)[0].split("、")}
        assert named <= text_rows


@pytest.mark.parametrize("family", TOTALS_ONLY_FORMULAS)
def test_a_workbook_no_spreadsheet_opened_differs_only_by_its_uncached_totals(tmp_path, family):
    """openpyxl writes formulas without cached values (the source files): the 合计 cells read blank and
    are skipped, so the source gives the converted files' outcome less their total_mismatch warnings.
    (The generated sources also have formula detail cells, blank there too, so they are not compared.)"""
    expected = outcome(*in_inbox(tmp_path / "xlsx", family, family_file(family, ".xlsx")))
    got = outcome(*in_inbox(tmp_path / "source", family, source_file(family)))
    assert got == {**expected, "findings": [f for f in expected["findings"] if f[0] != "total_mismatch"]}


@pytest.mark.parametrize("family", FAMILIES)
def test_sheet_facts_agree_across_formats(family):
    """Below the parse: the reader gives each format the same merged ranges of the data sheet, the same
    sheets and visibility (HTML: the visible sheets only, as tables), and error cells as CellError."""
    limits = Limits()
    by_format = {suffix: read_isolated(family_file(family, suffix), limits) for suffix in FORMATS}
    reference = by_format[".xlsx"]
    for suffix, sheets in by_format.items():
        if suffix == ".html":
            assert len(sheets) == sum(s.visible for s in reference)
            pairs = zip([s for s in reference if s.visible], sheets)
        else:
            assert [(s.name, s.visible) for s in sheets] == [(s.name, s.visible) for s in reference], suffix
            pairs = zip(reference, sheets)
        for ref, sheet in pairs:
            assert sorted(sheet.merged) == sorted(ref.merged), f"{family}{suffix} {ref.name}"
            ref_errors = _errors(ref)
            assert _errors(sheet) == ref_errors, f"{family}{suffix} {ref.name}"
            assert not ref_errors or sheet.has_cell_errors


def _errors(sheet) -> set[tuple[int, int, str]]:
    return {(r, c, str(v)) for r, row in enumerate(sheet.rows) for c, v in enumerate(row) if isinstance(v, CellError)}


@pytest.mark.parametrize("suffix", FORMATS)
def test_the_flood_sample_validates_alike_in_every_format(tmp_path, suffix):
    """End to end through the Great Expectations suite: the .ods of the issue no longer gets 必填项为空."""
    from etl.ingest.validate.suite import validate_report

    report = parse_file(*in_inbox(tmp_path, "sample_flood", family_file("sample_flood", suffix)))
    validate_report(report)
    assert not report.rejected
    assert {(f.rule, f.cell) for f in report.findings} == {
        ("approximate_value", "D7"),
        ("total_mismatch", "D10"),
        ("total_mismatch", "I10"),
    }


# ------------------------------------------------------------------------------------------ 合计 text numbers

FLOOD_HEADER = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", "出动车辆（台次）"]


def _flood_xlsx(path: Path, personnel: list[object], stated: object) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["溪湖区防汛救灾清理情况统计表"])
    ws.append(FLOOD_HEADER)
    for street, value in zip(["河西街道", "彩屯街道", "东风街道", "日月岛街道"], personnel):
        ws.append([date(2021, 7, 29), "溪湖区", street, value, 1])
    ws.append(["合计", None, None, stated, len(personnel)])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _total_warning(path: Path):
    report = parse_file(path)
    found = [f for f in report.findings if f.rule == "total_mismatch"]
    assert len(found) == 1
    assert found[0].cell == "D7" and found[0].severity == F.WARNING
    return found[0]


def test_a_total_that_skipped_text_written_numbers_says_which_rows(tmp_path):
    """Excel's SUM gave 94 = 50 + 44: it skipped 「22余」 (row 4) and full-width 「３０」 (row 5)."""
    path = _flood_xlsx(tmp_path / "溪湖区_防汛日报_2021-07-29.xlsx", [50, "22余", "３０", 44], 94)
    finding = _total_warning(path)
    assert finding.message_zh == (
        "合计行为 94，但明细各行相加为 146；其中第4、5行的数值是以文字填写的（「22余」「３０」），"
        "Excel/WPS 的求和公式不计入以文字填写的单元格，合计 94 正是其余以数字填写的各行之和，请核对"
    )
    assert "rows written as numbers" in finding.message_en and finding.value == "94"


def test_a_number_stored_as_text_in_a_workbook_counts_as_text_written(tmp_path):
    path = _flood_xlsx(tmp_path / "溪湖区_防汛日报_2021-07-29.xlsx", [50, "30", 20, 44], 114)
    assert "其中第4行的数值是以文字填写的（「30」）" in _total_warning(path).message_zh


def test_a_total_wrong_for_another_reason_names_the_text_rows_without_the_exact_claim(tmp_path):
    path = _flood_xlsx(tmp_path / "溪湖区_防汛日报_2021-07-29.xlsx", [50, "22余", 30, 44], 100)
    message = _total_warning(path).message_zh
    assert "其中第4行的数值是以文字填写的（「22余」）" in message and "正是" not in message


def test_a_total_off_without_text_numbers_keeps_the_plain_warning(tmp_path):
    path = _flood_xlsx(tmp_path / "溪湖区_防汛日报_2021-07-29.xlsx", [50, 22, 30, 44], 140)
    assert _total_warning(path).message_zh == "合计行为 140，但明细各行相加为 146，请核对"


def test_in_html_plain_numbers_are_not_text_written_but_approximations_are(tmp_path):
    """Every cell of an HTML table is text: 50 there is a number as the page shows it, 22余 is not."""
    rows = "".join(
        f"<tr><td>2021-07-29</td><td>溪湖区</td><td>{s}</td><td>{p}</td><td>1</td></tr>"
        for s, p in [("河西街道", "50"), ("彩屯街道", "22余"), ("东风街道", "1,000"), ("日月岛街道", "44")]
    )
    header = "".join(f"<th>{h}</th>" for h in FLOOD_HEADER)
    path = tmp_path / "溪湖区_防汛日报_2021-07-29.xls"
    path.write_text(
        f"<html><body><table><tr>{header}</tr>{rows}"
        "<tr><td>合计</td><td></td><td></td><td>1094</td><td>4</td></tr></table></body></html>",
        encoding="utf-8",
    )
    report = parse_file(path)
    (finding,) = [f for f in report.findings if f.rule == "total_mismatch"]
    assert "其中第3行的数值是以文字填写的（「22余」），" in finding.message_zh and "正是" in finding.message_zh


# ------------------------------------------------------------------------------------------ properties

DISTRICT_RUNS = st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4)


@st.composite
def flood_tables(draw):
    """A flood table: 区县 merged in runs, a merged title or none, error cells, a hidden decoy sheet."""
    runs = draw(DISTRICT_RUNS)
    n = sum(runs)
    errors = draw(st.sets(st.sampled_from(range(n)), max_size=n))
    error_texts = {i: draw(st.sampled_from(["#REF!", "#DIV/0!", "#VALUE!", "#N/A"])) for i in sorted(errors)}
    return {
        "runs": runs,
        "title": draw(st.booleans()),
        "errors": error_texts,
        "decoy": draw(st.booleans()),
        "decoy_first": draw(st.booleans()),
    }


def _layout(table):
    """(rows of plain cell values, merged ranges 0-based inclusive, error cells (r, c, text)) of the table."""
    rows, merged, errors = [], [], []
    if table["title"]:
        rows.append(["溪湖区防汛救灾清理情况统计表", "", "", "", ""])
        merged.append(((0, 0), (0, 4)))
    rows.append(FLOOD_HEADER)
    top = len(rows)
    i = 0
    for run in table["runs"]:
        for k in range(run):
            r = top + i
            rows.append(["2021-07-29", "溪湖区" if k == 0 else "", f"街道{i}", 10 + i, 1])
            if i in table["errors"]:
                rows[r][4] = ""
                errors.append((r, 4, table["errors"][i]))
            i += 1
        if run > 1:
            merged.append(((top + i - run, 1), (top + i - 1, 1)))
    return rows, merged, errors


def _write_xlsx(path, table):
    rows, merged, errors = _layout(table)
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value != "":
                ws.cell(r, c, value)
    for (r1, c1), (r2, c2) in merged:
        ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
    for r, c, text in errors:
        ws.cell(r + 1, c + 1, text).data_type = "e"
    if table["decoy"]:
        decoy = wb.create_sheet("旧表", 0 if table["decoy_first"] else None)
        decoy.append(FLOOD_HEADER)
        decoy.sheet_state = "hidden"
    wb.save(path)


def _write_ods(path, table):
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    rows, merged, errors = _layout(table)
    starts = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for (r1, c1), (r2, c2) in merged}
    covered = {(r, c) for (r1, c1), (r2, c2) in merged for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - set(
        starts
    )
    error_at = {(r, c): text for r, c, text in errors}
    doc = OpenDocumentSpreadsheet()
    hidden = Style(name="hidden", family="table")
    hidden.addElement(TableProperties(display=False))
    doc.automaticstyles.addElement(hidden)

    def decoy():
        sheet = Table(name="旧表", stylename=hidden)
        row = TableRow()
        for text in FLOOD_HEADER:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=text))
            row.addElement(cell)
        sheet.addElement(row)
        doc.spreadsheet.addElement(sheet)

    if table["decoy"] and table["decoy_first"]:
        decoy()
    sheet = Table(name="数据")
    for r, values in enumerate(rows):
        row = TableRow()
        for c, value in enumerate(values):
            if (r, c) in covered:
                row.addElement(CoveredTableCell())
                continue
            span = starts.get((r, c))
            kwargs = {"numberrowsspanned": span[0], "numbercolumnsspanned": span[1]} if span else {}
            if (r, c) in error_at:  # how a writer without LibreOffice's calcext marks an error: the text
                cell = TableCell(formula="of:=1/0", valuetype="string", **kwargs)
                cell.addElement(P(text=error_at[(r, c)]))
            elif isinstance(value, int):
                cell = TableCell(valuetype="float", value=value, **kwargs)
                cell.addElement(P(text=str(value)))
            elif value:
                cell = TableCell(valuetype="string", **kwargs)
                cell.addElement(P(text=value))
            else:
                cell = TableCell(**kwargs)
            row.addElement(cell)
        sheet.addElement(row)
    doc.spreadsheet.addElement(sheet)
    if table["decoy"] and not table["decoy_first"]:
        decoy()
    doc.save(str(path))


def _write_xls(path, table):
    import xlwt

    rows, merged, errors = _layout(table)
    book = xlwt.Workbook()
    if table["decoy"] and table["decoy_first"]:
        decoy = book.add_sheet("旧表")
    sheet = book.add_sheet("数据")
    if table["decoy"] and not table["decoy_first"]:
        decoy = book.add_sheet("旧表")
    starts = {(r1, c1): (r2, c2) for (r1, c1), (r2, c2) in merged}
    inside = {(r, c) for (r1, c1), (r2, c2) in merged for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if (r, c) in starts:
                r2, c2 = starts[(r, c)]
                sheet.write_merge(r, r2, c, c2, value)
            elif (r, c) not in inside and value != "":
                sheet.write(r, c, value)
    for r, c, text in errors:
        sheet.row(r).set_cell_error(c, {"#REF!": 0x17, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#N/A": 0x2A}[text])
    if table["decoy"]:
        for c, text in enumerate(FLOOD_HEADER):
            decoy.write(0, c, text)
        decoy.visibility = 1
    book.save(str(path))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=flood_tables())
def test_random_flood_tables_read_alike_as_xlsx_ods_and_xls(tmp_path_factory, table):
    """Random 区县 runs, titles, error cells and hidden decoys, written by three libraries: the reader
    gives the same merged ranges, error cells, sheets and visibility, and the parse the same outcome."""
    folder = tmp_path_factory.mktemp("random") / "inbox" / "溪湖区"
    folder.mkdir(parents=True)
    paths = {}
    for suffix, write in ((".xlsx", _write_xlsx), (".ods", _write_ods), (".xls", _write_xls)):
        paths[suffix] = folder / f"溪湖区_防汛日报_2021-07-29{suffix}"
        write(paths[suffix], table)
    _rows, merged, errors = _layout(table)
    outcomes = {}
    for suffix, path in paths.items():
        sheets = read_sheets(path)
        assert [(s.name, s.visible) for s in sheets] == (
            [("旧表", False)] * (table["decoy"] and table["decoy_first"])
            + [("数据", True)]
            + [("旧表", False)] * (table["decoy"] and not table["decoy_first"])
        ), suffix
        data = next(s for s in sheets if s.name == "数据")
        assert sorted(data.merged) == sorted(merged), suffix
        assert _errors(data) == set(errors), suffix
        report = parse_file(path, inbox=folder.parent)
        outcomes[suffix] = (
            report.sheet,
            report.period,
            report.frame.drop(columns=[SOURCE_ROW]).astype(object).values.tolist(),
            [(f.rule, f.cell, f.message_zh) for f in report.findings],
        )
        assert report.frame["district"].notna().all()
        assert {f.cell for f in report.findings if f.rule == "value_format"} == {f"E{r + 1}" for r, _, _ in errors}
    assert outcomes[".ods"] == outcomes[".xlsx"] == outcomes[".xls"]


# ------------------------------------------------------------------------------------------ ods guards


def _ods_with_span(path: Path, rows_spanned: int, columns_spanned: int, every_cell: bool = False) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    sheet = Table(name="S")
    for r in range(3):
        row = TableRow()
        for c in range(3):
            kwargs = (
                {"numberrowsspanned": rows_spanned, "numbercolumnsspanned": columns_spanned}
                if every_cell or (r, c) == (0, 0)
                else {}
            )
            cell = TableCell(valuetype="string", **kwargs)
            cell.addElement(P(text=f"{r}{c}"))
            row.addElement(cell)
        sheet.addElement(row)
    doc.spreadsheet.addElement(sheet)
    doc.save(str(path))
    return path


def test_an_ods_span_past_the_sheet_is_clipped_to_what_was_read(tmp_path):
    path = _ods_with_span(tmp_path / "跨度.ods", 10**9, 10**9)
    (sheet,) = read_isolated(path, Limits())
    assert sheet.merged == [((0, 0), (2, 2))]


def test_ods_merged_areas_count_against_max_cells(tmp_path):
    """Nine cells, each spanning to the sheet's corner: 36 merged cells to fill, over max_cells=20."""
    from etl.ingest.read.readers import UnreadableFile

    path = _ods_with_span(tmp_path / "跨度.ods", 3, 3, every_cell=True)
    assert read_isolated(path, Limits(max_cells=40))
    with pytest.raises(UnreadableFile, match="max_cells"):
        read_isolated(path, Limits(max_cells=20))


def test_an_ods_with_a_dtd_is_refused(tmp_path):
    from workbooks import edit_members

    from etl.ingest.read.readers import UnreadableFile

    source = _ods_with_span(tmp_path / "a.ods", 2, 1)
    target = edit_members(
        source,
        lambda name, data: (
            data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>', 1) if name == "content.xml" else data
        ),
        tmp_path / "实体.ods",
    )
    with pytest.raises(UnreadableFile, match="DTD"):
        read_isolated(target, Limits())
