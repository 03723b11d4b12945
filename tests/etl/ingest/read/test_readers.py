"""One small file per container the clerks really send: the content decides how it is read, and
anything that is not a table is rejected with a reason instead of a crash."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workbooks import write_xlsx

from etl.ingest import findings as F
from etl.ingest.parse.tables import parse_file
from etl.ingest.read.csv_chunks import file_delimiter
from etl.ingest.read.readers import TEXT_DELIMITERS, CellError, UnreadableFile, read_sheets

HEADER = ["活动日期", "区县", "组织单位", "志愿服务队", "活动类型", "参与志愿者（人）", "服务时长（小时）", "服务地点"]
ROWS = [
    ["2022-03-04", "南芬区", "南芬区文明办", "南芬志愿1队", "创城", "39", "26", "南芬街道"],
    ["2022-03-05", "南芬区", "南芬区文明办", "南芬志愿2队", "环境清洁", "18", "7.5", "铁山街道"],
]
EXPECTED = {
    "date": [dt.date(2022, 3, 4), dt.date(2022, 3, 5)],
    "volunteers": [39, 18],
    "hours": [26.0, 7.5],
    "team": ["南芬志愿1队", "南芬志愿2队"],
}


def in_inbox(tmp_path, name: str):
    path = tmp_path / "inbox" / "南芬区" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def assert_volunteer_table(path, tmp_path):
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert report.findings == [], [f.message_zh for f in report.findings]
    assert report.report_type == "volunteer_activity" and report.period == "2022-03"
    for column, values in EXPECTED.items():
        assert report.frame[column].tolist() == values
    return report


def csv_text() -> str:
    return "\r\n".join(",".join(row) for row in [HEADER, *ROWS]) + "\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_every_encoding_clerks_produce(tmp_path, encoding):
    path = in_inbox(tmp_path, f"志愿服务_2022-03_{encoding}.csv")
    path.write_bytes(csv_text().encode(encoding))
    assert_volunteer_table(path, tmp_path)


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("志愿服务_2022-03.txt", "utf-16"),  # Excel/WPS "Unicode 文本"
        ("志愿服务_2022-03.txt", "gbk"),  # "文本文件(制表符分隔)"
        ("志愿服务_2022-03.csv", "utf-8-sig"),  # a copy out of a web table, saved under .csv
        ("志愿服务_2022-03.tsv", "utf-8"),  # a reporting system's tab-separated export
    ],
)
def test_tab_separated_text_as_excel_saves_it(tmp_path, name, encoding):
    rows = [["2022年3月志愿服务活动统计"], HEADER, *ROWS]
    rows[3] = [*ROWS[1][:-1], "铁山街道,平山路1号"]  # a comma inside a tab-separated row
    text = "\r\n".join("\t".join(row) for row in rows) + "\r\n"
    path = in_inbox(tmp_path, name)
    path.write_bytes(text.encode(encoding))
    report = assert_volunteer_table(path, tmp_path)
    assert report.frame["place"].tolist()[1] == "铁山街道,平山路1号"


TEXT_FIELD = st.text(alphabet=st.sampled_from(["a", "7", " ", ",", "\t", ";", "|", '"', "\n", "街", "—"]), max_size=6)


@settings(max_examples=60)
@given(
    width=st.integers(1, 8),
    body=st.lists(st.lists(TEXT_FIELD, min_size=8, max_size=8), max_size=30),
    title=st.one_of(st.none(), st.text(alphabet="报表年月,\t区 ", min_size=1, max_size=8)),
    delimiter=st.sampled_from(TEXT_DELIMITERS),
    encoding=st.sampled_from(["utf-8-sig", "gb18030", "utf-16"]),
)
def test_text_tables_are_split_on_their_delimiter_and_both_paths_judge_it_alike(
    tmp_path_factory, width, body, title, delimiter, encoding
):
    """A table written with any of the delimiters between its fields (any may also stand inside a field, as
    may quotes and line breaks; a title line above the header) reads back as the records written, split
    on that delimiter; the whole-file read and the chunked read judge a file's delimiter alike. (Whether
    the judgement finds the header is tests/etl/ingest/parse/test_text_delimiters.py's: the header decides.)"""
    records = [[f"列{i}" for i in range(width)], *(row[:width] for row in body)]
    if title is not None:
        records.insert(0, [title])
    path = tmp_path_factory.mktemp("text") / "报表.txt"
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(records)

    (sheet,) = read_sheets(path, delimiter=delimiter)
    assert sheet.rows == [row + [""] * (max(map(len, records)) - len(row)) for row in records]
    assert sheet.delimiter == delimiter
    (judged,) = read_sheets(path)
    assert file_delimiter(path, encoding) == judged.delimiter


def test_gb18030_only_characters_survive(tmp_path):
    path = in_inbox(tmp_path, "志愿服务_2022-03.csv")
    text = csv_text().replace("南芬志愿1队", "䶮山志愿队")  # U+4DAE is not in GBK
    path.write_bytes(text.encode("gb18030"))
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert report.frame["team"].tolist()[0] == "䶮山志愿队"


def test_xls_workbook(tmp_path):
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("3月")
    for r, row in enumerate([HEADER, *ROWS]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    path = in_inbox(tmp_path, "志愿服务_2022-03.xls")
    book.save(str(path))
    assert_volunteer_table(path, tmp_path)


def test_ods_workbook(tmp_path):
    import pandas as pd

    path = in_inbox(tmp_path, "志愿服务_2022-03.ods")
    pd.DataFrame(ROWS, columns=HEADER).to_excel(path, engine="odf", index=False)
    assert_volunteer_table(path, tmp_path)


@pytest.mark.parametrize("suffix", [".xlsx", ".xlsm"])
def test_xlsx_and_xlsm(tmp_path, suffix):
    path = write_xlsx(in_inbox(tmp_path, f"志愿服务_2022-03{suffix}"), [HEADER, *ROWS], title="南芬区志愿服务活动统计")
    assert_volunteer_table(path, tmp_path)


def test_xlsx_that_is_really_a_csv(tmp_path):
    path = in_inbox(tmp_path, "志愿服务_2022-03.xlsx")
    path.write_bytes(csv_text().encode("gbk"))
    assert_volunteer_table(path, tmp_path)


def test_web_export_named_xlsx_is_an_html_table(tmp_path):
    header = "".join(f"<th>{h}</th>" for h in HEADER[1:])
    # a title spanning the table, and the first data cell spanning both data rows
    html = (
        f"<html><head><meta charset='utf-8'></head><body><p>导出时间 2022-04-01</p>"
        f"<table><tr><th colspan='8'>南芬区志愿服务活动统计</th></tr>"
        f"<tr><th>活动日期</th>{header}</tr>"
        f"<tr><td rowspan='2'>2022-03-04</td>" + "".join(f"<td>{v}</td>" for v in ROWS[0][1:]) + "</tr>"
        "<tr>" + "".join(f"<td>{v}</td>" for v in ROWS[1][1:]) + "</tr></table></body></html>"
    )
    path = in_inbox(tmp_path, "志愿服务_2022-03.xlsx")
    path.write_text(html, encoding="utf-8")
    sheets = read_sheets(path)
    assert sheets[0].merged == [((0, 0), (0, 7)), ((2, 0), (3, 0))]
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert report.findings == []
    assert report.frame["date"].tolist() == [dt.date(2022, 3, 4)] * 2  # the rowspan is filled down
    assert report.frame["volunteers"].tolist() == [39, 18]


def test_encrypted_workbook_is_rejected_with_a_reason(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_xlsx(tmp_path / "plain.xlsx", [HEADER, *ROWS])
    encrypted = io.BytesIO()
    with plain.open("rb") as handle:
        OOXMLFile(handle).encrypt("123456", encrypted)
    path = in_inbox(tmp_path, "志愿服务_2022-03.xlsx")
    path.write_bytes(encrypted.getvalue())
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert [(f.rule, f.severity) for f in report.findings] == [("unreadable_file", F.CRITICAL)]
    assert report.findings[0].message_zh == "文件设置了打开密码（已加密），请取消密码后重新提交"


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("截断.xlsx", lambda b: b[: len(b) // 2], "文件不完整（可能在复制或上传时中断），请重新保存后提交"),
        ("空.xlsx", lambda b: b"", "文件是空的，请重新导出后提交"),
        ("空白.csv", lambda b: b"\r\n  \r\n", "文件是空的，请重新导出后提交"),
        (
            "扫描件.xlsx",
            lambda b: b"%PDF-1.7\n...",
            "这是 PDF 文件，无法读取其中的数据，请提交 Excel 表格（xlsx/xls）或 CSV",
        ),
        (
            "通知.xlsx",
            lambda b: _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<x/>"}),
            "这是 Word 文档，不是表格，请提交 Excel 表格（xlsx/xls）或 CSV",
        ),
        (
            "南芬区_志愿服务_2022-03.xlsb",
            lambda b: _zip({"xl/workbook.bin": b"\x83\x01\x00", "[Content_Types].xml": b"<x/>"}),
            "这是 Excel 二进制工作簿（.xlsb），无法核对其中的公式结果；请在 Excel/WPS 中另存为 xlsx 后重新提交",
        ),
        (
            "附件.xlsx",
            lambda b: _zip({"readme.txt": b"hi"}),
            "压缩包里没有表格，请直接提交 Excel 表格（xlsx/xls）或 CSV",
        ),
        (
            "照片.jpg",
            lambda b: b"\xff\xd8\xff\xe0\x00\x10JFIF",
            "无法识别的文件格式（.jpg），请提交 Excel 表格（xlsx/xls）或 CSV",
        ),
    ],
)
def test_broken_or_foreign_files_are_rejected_with_a_reason(tmp_path, name, make, message):
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, *ROWS]).read_bytes()
    path = in_inbox(tmp_path, name)
    path.write_bytes(make(good))
    with pytest.raises(UnreadableFile) as raised:
        read_sheets(path)
    assert raised.value.zh == message
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert [(f.rule, f.severity, f.message_zh) for f in report.findings] == [("unreadable_file", F.CRITICAL, message)]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_error_cells(path, errors: dict[str, str]):
    """Rewrite cells as formulas whose cached result is an Excel error, as Excel saves them."""
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    xml = members["xl/worksheets/sheet1.xml"].decode()
    for ref, error in errors.items():
        start = xml.index(f'<c r="{ref}"')
        end = xml.index("</c>", start) + len("</c>")
        xml = xml[:start] + f'<c r="{ref}" t="e"><f>A1/0</f><v>{error}</v></c>' + xml[end:]
    members["xl/worksheets/sheet1.xml"] = xml.encode()
    path.write_bytes(_zip(members))
    return path


def test_formula_error_cells_are_findings_on_their_cells(tmp_path):
    path = write_xlsx(in_inbox(tmp_path, "志愿服务_2022-03.xlsx"), [HEADER, *ROWS])
    with_error_cells(path, {"F2": "#DIV/0!", "H3": "#REF!"})
    sheets = read_sheets(path)
    assert sheets[0].rows[1][5] == CellError("#DIV/0!") and isinstance(sheets[0].rows[2][7], CellError)
    report = parse_file(path, inbox=tmp_path / "inbox")
    found = {(f.cell, f.severity, f.value): f.message_zh for f in report.findings}
    assert found == {
        ("F2", F.ERROR, "#DIV/0!"): "单元格是公式错误值「#DIV/0!」，请检查公式或直接填写数值",
        ("H3", F.ERROR, "#REF!"): "单元格是公式错误值「#REF!」，请检查公式或直接填写数值",
    }
    assert report.rejected


@pytest.mark.parametrize(
    ("label", "named"),
    [
        (["合计", ""], "合计"),
        (["", "合计"], "合计"),  # the label in the second column
        (["合", "计"], "合计"),  # 合 | 计 in two cells
        (["汇总", ""], "汇总"),  # an Excel/WPS table's 汇总行
        (["总 计：", ""], "总计"),
        (["小计", ""], None),  # a part's total: kept apart, not checked against the whole table
        (["累计", ""], None),  # a running total
    ],
)
def test_total_row_is_checked_against_the_rows(tmp_path, label, named):
    """The warning names the row as the clerk labelled it."""
    rows = [HEADER, *ROWS, [*label, "", "", "", 60, 33.5, ""]]  # 39 + 18 = 57, 26 + 7.5 = 33.5
    path = write_xlsx(in_inbox(tmp_path, "志愿服务_2022-03.xlsx"), rows)
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert [(f.rule, f.severity, f.cell, f.message_zh) for f in report.findings] == [
        ("total_mismatch", F.WARNING, "F4", f"{named}行为 60，但明细各行相加为 57，请核对")
    ] * (named is not None)
    assert len(report.frame) == 2 and not report.rejected


ODD_NUMBER_CELLS = [None, "", "—", "abc", "1,2345", "2,5", "#REF!", "30余", "３０", "1.2万", "1,234", 7, 7.5, 0, "7", "7.5"]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    volunteers=st.lists(st.sampled_from(ODD_NUMBER_CELLS), min_size=2, max_size=2),
    hours=st.lists(st.sampled_from(ODD_NUMBER_CELLS), min_size=2, max_size=2),
    stated=st.sampled_from([60, 57, 33.5, "60", "abc", None]),
    label=st.sampled_from(["合计", "汇总", "总计："]),
    workbook=st.booleans(),
)
def test_a_total_row_over_unreadable_missing_and_text_numbers_ends_in_findings(
    tmp_path_factory, volunteers, hours, stated, label, workbook
):
    """Whatever the detail cells of a totalled column hold — blank, a dash, text no number can be read from
    (missing in a whole-number column: pandas' NA), numbers written as text — the total row is checked and
    the file gets its findings, never an error in the check: a total that differs from the rows is a
    warning on the total's cell."""
    rows = [[*row[:5], v, h, row[7]] for row, v, h in zip(ROWS, volunteers, hours, strict=True)]
    rows = [HEADER, *rows, [label, "", "", "", "", stated, stated, ""]]
    folder = tmp_path_factory.mktemp("totals")
    if workbook:
        path = write_xlsx(in_inbox(folder, "志愿服务_2022-03.xlsx"), rows)
    else:
        path = in_inbox(folder, "志愿服务_2022-03.csv")
        buffer = io.StringIO()
        csv.writer(buffer).writerows([["" if v is None else v for v in row] for row in rows])
        path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    report = parse_file(path, inbox=folder / "inbox")
    assert report.report_type == "volunteer_activity" and len(report.frame) == 2
    totals = [f for f in report.findings if f.rule == "total_mismatch"]
    assert all(f.severity == F.WARNING and f.row == 4 for f in totals)
    named = {"合计": "合计行为", "汇总": "汇总行为", "总计：": "总计行为"}[label]  # the row as the clerk labelled it
    assert all(f.message_zh.startswith(named) for f in totals)


def test_workbook_with_instructions_and_hidden_sheets_reads_the_data_sheet(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["请按模板填写"])
    hidden = wb.create_sheet("旧数据")
    for row in [HEADER, ["2021-03-04", "南芬区", "旧", "旧", "创城", 1, 1, "x"]]:
        hidden.append(row)
    hidden.sheet_state = "hidden"
    data = wb.create_sheet("2022年3月")
    for row in [HEADER, *ROWS]:
        data.append(row)
    path = in_inbox(tmp_path, "志愿服务_2022-03.xlsx")
    wb.save(path)
    report = assert_volunteer_table(path, tmp_path)
    assert report.sheet == "2022年3月"
