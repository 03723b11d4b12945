"""XML Spreadsheet 2003 (what OA systems export as ".xls" and Excel saves as "XML 电子表格 2003") is read as a
workbook (etl/ingest/read/spreadsheet_xml.py): cells at their places through ss:Index and merges, values by
their type, formulas without a result and error values as on any workbook, hidden sheets hidden, and
anything hostile turned away with a reason."""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workbooks import write_xlsx

from etl.ingest.parse.tables import parse_file
from etl.ingest.read.isolated import read_isolated
from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import CellError, UncachedFormula, UnreadableFile, read_sheets

HEAD = (
    '<?xml version="1.0" encoding="{encoding}"?>\n<?mso-application progid="Excel.Sheet"?>\n'
    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" '
    'xmlns:html="http://www.w3.org/TR/REC-html40">\n'
)
HEADER = ["活动日期", "区县", "组织单位", "志愿服务队", "活动类型", "参与志愿者（人）", "服务时长（小时）", "服务地点"]
ROWS = [
    [dt.datetime(2022, 3, 4), "南芬区", "南芬区文明办", "南芬志愿1队", "创城", 39, 26, "南芬街道"],
    [dt.datetime(2022, 3, 5), "南芬区", "南芬区文明办", "南芬志愿2队", "环境清洁", 18, 7.5, "铁山街道"],
]


def data(value) -> str:
    if isinstance(value, CellError):
        return f'<Data ss:Type="Error">{escape(value)}</Data>'
    if isinstance(value, bool):
        return f'<Data ss:Type="Boolean">{int(value)}</Data>'
    if isinstance(value, (int, float)):
        return f'<Data ss:Type="Number">{value!r}</Data>'
    if isinstance(value, dt.datetime):
        return f'<Data ss:Type="DateTime">{value:%Y-%m-%dT%H:%M:%S}.000</Data>'
    return f'<Data ss:Type="String">{escape(value)}</Data>'


def cell(value, index: int | None = None, extra: str = "") -> str:
    place = f' ss:Index="{index}"' if index else ""
    return f"<Cell{place}{extra}>{'' if value is None else data(value)}</Cell>"


def document(sheets: list[tuple[str, list[str], bool]], encoding: str = "UTF-8") -> str:
    """A SpreadsheetML document: (name, row XML strings, hidden) per sheet."""
    parts = [HEAD.format(encoding=encoding)]
    for name, rows, hidden in sheets:
        options = "<x:Visible>SheetHidden</x:Visible>" if hidden else "<x:Selected/>"
        parts.append(f"<Worksheet ss:Name={quoteattr(name)}><Table>")
        parts.extend(rows)
        parts.append(
            f'</Table><WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">{options}</WorksheetOptions>'
        )
        parts.append("</Worksheet>")
    parts.append("</Workbook>")
    return "\n".join(parts)


def row(cells: list[str], index: int | None = None) -> str:
    return f"<Row{f' ss:Index={chr(34)}{index}{chr(34)}' if index else ''}>{''.join(cells)}</Row>"


def volunteer_rows() -> list[str]:
    return [
        row([cell("南芬区2022年3月志愿服务活动统计", extra=' ss:MergeAcross="7"')]),
        row([cell(h) for h in HEADER]),
        *(row([cell(v) for v in values]) for values in ROWS),
    ]


def facts(report) -> tuple:
    return (
        report.report_type,
        report.period,
        [(f.rule, f.cell, f.message_zh) for f in report.findings],
        report.frame.drop(columns=["_sheet"], errors="ignore").astype(str).to_numpy().tolist(),
    )


@pytest.mark.parametrize(("encoding", "suffix"), [("UTF-8", ".xls"), ("GB2312", ".xls"), ("UTF-8", ".xml")])
def test_an_oa_export_named_xls_parses_as_the_same_table_saved_as_xlsx(tmp_path, encoding, suffix):
    """As an OA system exports it (.xls) and as Excel saves it (.xml)."""
    inbox = tmp_path / "inbox"
    xml = inbox / "南芬区" / f"志愿服务_2022-03{suffix}"
    xml.parent.mkdir(parents=True)
    codec = "gb18030" if encoding == "GB2312" else "utf-8"
    xml.write_bytes(document([("志愿服务", volunteer_rows(), False)], encoding).encode(codec))
    xlsx = write_xlsx(
        inbox / "南芬区" / "志愿服务_2022-03.xlsx", [HEADER, *ROWS], title="南芬区2022年3月志愿服务活动统计"
    )

    read = parse_file(xml, inbox=inbox)
    assert read.findings == [] and read.report_type == "volunteer_activity"
    assert facts(read) == facts(parse_file(xlsx, inbox=inbox))
    (sheet,) = read_sheets(xml)
    assert sheet.merged == [((0, 0), (0, 7))]


VALUES = st.one_of(
    st.text("ab 街7", min_size=1, max_size=4),
    st.integers(-1000, 1000).map(float),
    st.booleans(),
    st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1)).map(lambda d: d.replace(microsecond=0)),
)


@settings(max_examples=40)
@given(
    placed=st.dictionaries(st.tuples(st.integers(0, 12), st.integers(0, 6)), VALUES, min_size=1, max_size=30),
    spell_out=st.sets(st.tuples(st.integers(0, 12), st.integers(0, 6))),
)
def test_cells_land_where_their_index_or_their_order_puts_them(tmp_path_factory, placed, spell_out):
    """A row or cell carries ss:Index where the one before it is not right before it (and, as some
    writers do, also where it is: ``spell_out``): the sheet holds each value at its place, blanks between."""
    rows, last_row = [], -1
    for r in sorted({r for r, _ in placed}):
        cells, last_column = [], -1
        for c in sorted(c for rr, c in placed if rr == r):
            index = c + 1 if c != last_column + 1 or (r, c) in spell_out else None
            cells.append(cell(placed[(r, c)], index))
            last_column = c
        rows.append(row(cells, r + 1 if r != last_row + 1 or (r, -1) in spell_out else None))
        last_row = r
    path = tmp_path_factory.mktemp("xml") / "导出.xls"
    path.write_text(document([("表", rows, False)]), encoding="utf-8")

    (sheet,) = read_isolated(path, Limits())
    height, width = max(r for r, _ in placed) + 1, max(c for _, c in placed) + 1
    expected = [[placed.get((r, c), "") for c in range(width)] for r in range(height)]
    assert sheet.rows == expected


def test_merges_skip_the_places_they_cover(tmp_path):
    rows = [
        row([cell("A", extra=' ss:MergeAcross="1" ss:MergeDown="1"'), cell("C")]),
        row([cell("C2")]),  # A2:B2 are covered by the merge above: this cell is C2
        row([cell("A3"), cell("B3")]),
    ]
    path = tmp_path / "合并.xls"
    path.write_text(document([("表", rows, False)]), encoding="utf-8")
    (sheet,) = read_sheets(path)
    assert sheet.rows == [["A", "", "C"], ["", "", "C2"], ["A3", "B3", ""]]
    assert sheet.merged == [((0, 0), (1, 1))]


def test_formulas_without_a_result_errors_and_hidden_sheets_are_read_as_on_any_workbook(tmp_path):
    rows = [row([cell("x"), cell(None, extra=' ss:Formula="=SUM(R[-3]C:R[-1]C)"'), cell(CellError("#DIV/0!"))])]
    path = tmp_path / "公式.xls"
    path.write_text(document([("数据", rows, False), ("旧数据", [row([cell("y")])], True)]), encoding="utf-8")
    data_sheet, old = read_sheets(path)
    assert isinstance(data_sheet.rows[0][1], UncachedFormula) and data_sheet.rows[0][1] == "=SUM(R[-3]C:R[-1]C)"
    assert isinstance(data_sheet.rows[0][2], CellError) and data_sheet.has_cell_errors
    assert data_sheet.visible and not old.visible


@pytest.mark.parametrize(
    ("make", "reason", "limit"),
    [
        (
            lambda: document([("表", [row([cell("x")])], False)]).replace(
                "<Workbook", '<!DOCTYPE Workbook [<!ENTITY a "aaaaaaaaaa">]><Workbook', 1
            ),
            "无法解析",
            None,
        ),
        (lambda: document([("表", [row([cell("x")], index=2_000_000)], False)]), "max_rows", None),
        (lambda: document([("表", [row([cell("x", index=5000)])], False)]), "max_columns", None),
        (
            lambda: document([("表", [row([cell(str(i)) for i in range(30)]) for _ in range(30)], False)]),
            "max_cells",
            500,
        ),
        (lambda: document([("表", [cell("x")], False)]), "结构异常", None),
        (
            lambda: document(
                [
                    (
                        "表",
                        [row([cell("x", index=1, extra=' ss:MergeAcross="99" ss:MergeDown="99"') for _ in range(20)])],
                        False,
                    )
                ]
            ),
            "合并单元格的范围超过",
            100_000,
        ),
    ],
    ids=["entity", "far-row", "far-column", "too-many-cells", "cell-outside-a-row", "merged-area"],
)
def test_a_hostile_document_is_turned_away_with_its_reason(tmp_path, make, reason, limit):
    path = tmp_path / "导出.xls"
    path.write_text(make(), encoding="utf-8")
    with pytest.raises(UnreadableFile) as caught:
        read_isolated(path, Limits(max_cells=limit) if limit else Limits())
    assert reason in caught.value.zh


def test_a_number_cell_that_is_no_plain_finite_number_stays_text(tmp_path):
    """ss:Type="Number" with "inf", "1_000", "NaN", "1e999" or "²": kept as the text written (the parse says
    it is no number), never an infinity or a blank."""
    odd = ["inf", "1_000", "NaN", "1e999", "²"]
    rows = [row(['<Cell><Data ss:Type="Number">' + text + "</Data></Cell>" for text in [*odd, "-2.5e3"]])]
    path = tmp_path / "数字.xls"
    path.write_text(document([("表", rows, False)]), encoding="utf-8")
    (sheet,) = read_sheets(path)
    assert sheet.rows == [[*odd, -2500.0]]
