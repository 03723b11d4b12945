"""A header pasted again between blocks of rows (a clerk joining two copies of the template, an export
repeating its header on every page) is set apart, not read as data whose every cell is wrong: each such
row is a warning naming it, and the table reads as it would without it — in a workbook, in a CSV read
whole and in a CSV read in chunks (etl/ingest/parse/layout.py ``repeated_headers``)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hostile import HOTLINE_HEADER
from hostile import VOLUNTEER_HEADER as HEADER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workbooks import write_xlsx

import etl.ingest.read.csv_chunks
from etl.ingest import findings as F
from etl.ingest.check import check_in_chunks
from etl.ingest.parse.tables import parse_file

FLOOD_TOP = [
    "日期",
    "区县",
    "街道（乡镇）",
    "出动人员（人次）",
    "出动车辆（台次）",
    "清运垃圾",
    "",
    "清理淤泥（立方米）",
]
FLOOD_UNDER = ["", "", "", "", "", "吨", "车次", ""]
FLOOD_MERGES = ["A1:H1", "A2:A3", "B2:B3", "C2:C3", "D2:D3", "E2:E3", "F2:G2", "H2:H3"]


def volunteer_row(day: int) -> list[str]:
    return [
        f"2022-03-{day:02d}",
        "南芬区",
        "南芬区文明办",
        f"南芬志愿{day}队",
        "创城",
        str(10 + day),
        "2.5",
        "平山路1号",
    ]


def flood_row(street: str, n: int) -> list:
    return ["2021-07-29", "溪湖区", street, 10 * n, n, 1.5 * n, n, 2 * n]


def write_text(path: Path, records: list[list]) -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def plain(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def table_rows(frame) -> list[list]:
    """The typed rows without their source row numbers (which a repeated header moves)."""
    frame = frame.drop(columns=["_source_row", "_sheet"], errors="ignore")
    return [[plain(v) for v in row] for row in frame.to_numpy().tolist()]


def findings(report) -> list[tuple]:
    return [(f.rule, f.severity, f.row) for f in report.findings]


@pytest.fixture(autouse=True)
def chunked_reads_of_small_files(monkeypatch):
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.integers(1, 12),
    repeats=st.lists(st.integers(0, 12), min_size=1, max_size=4),
    header_padded=st.lists(st.booleans(), min_size=9, max_size=9),
    repeat_trimmed=st.lists(st.booleans(), min_size=9, max_size=9),
    first_blank=st.booleans(),
    contact=st.booleans(),
    form=st.sampled_from(["xlsx", "csv", "csv in chunks"]),
    chunk_rows=st.integers(1, 5),
)
def test_a_header_repeated_among_the_rows_is_set_apart_and_named(
    tmp_path_factory, days, repeats, header_padded, repeat_trimmed, first_blank, contact, form, chunk_rows
):
    """The header pasted again anywhere among the rows — its cells padded with spaces or not, each copy
    cell as the header has it or trimmed, its first cell left blank, and with a 联系电话 column whose header
    starts like a footer — is a warning naming each such row, and the table reads as without them."""
    names = [*HEADER, "联系电话"] if contact else HEADER
    rows = [[*volunteer_row(day), f"1384140{day:04d}"][: len(names)] for day in range(1, days + 1)]
    header = [f" {h} " if pad else h for h, pad in zip(names, header_padded, strict=False)]
    again = [h.strip() if trim else h for h, trim in zip(header, repeat_trimmed, strict=False)]
    if first_blank:
        again[0] = ""
    with_repeats = list(rows)
    for position in sorted((min(p, days) for p in repeats), reverse=True):
        with_repeats.insert(position, again)
    repeated_at = [i + 2 for i, row in enumerate(with_repeats) if row is again]  # Excel rows: the header is 1
    inbox = tmp_path_factory.mktemp("repeats") / "inbox"

    def parsed(name: str, table: list[list]):
        if form == "xlsx":
            return parse_file(write_xlsx(inbox / "南芬区" / f"{name}.xlsx", table), inbox=inbox)
        path = write_text(inbox / "南芬区" / f"{name}.csv", table)
        if form == "csv":
            return parse_file(path, inbox=inbox)
        report, sink, _ = check_in_chunks(path, inbox, "utf-8-sig", chunk_rows=chunk_rows)
        report.frame = pd.concat(list(sink.frames()), ignore_index=True)  # the facts the load would write
        sink.close()
        return report

    clean = parsed("志愿服务_2022-03", [header, *rows])
    report = parsed("志愿服务_2022-04", [header, *with_repeats])
    assert [rule for rule, _, _ in findings(clean)] == ["unknown_column"] * contact
    assert findings(report) == findings(clean) + [("repeated_header", F.WARNING, row) for row in repeated_at]
    assert f"第{repeated_at[0]}行与表头相同" in report.findings[-len(repeated_at)].message_zh
    assert table_rows(report.frame) == table_rows(clean.frame)
    assert report.rows_read == clean.rows_read == days


def test_a_two_row_header_repeated_below_is_set_apart_row_by_row(tmp_path):
    """Both rows of a merged two-row header (清运垃圾 over 吨 | 车次), pasted again as values, are the
    header's rows: set apart, and the rows after them read."""
    rows = [
        ["溪湖区防汛救灾清理情况统计表"],
        FLOOD_TOP,
        FLOOD_UNDER,
        flood_row("河西街道", 1),
        FLOOD_TOP,
        FLOOD_UNDER,
        flood_row("彩屯街道", 2),
    ]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "7月29日"
    for row in rows:
        sheet.append([None if v == "" else v for v in row])
    for merged in FLOOD_MERGES:
        sheet.merge_cells(merged)
    path = tmp_path / "inbox" / "溪湖区" / "防汛清理_2021-07-29.xlsx"
    path.parent.mkdir(parents=True)
    book.save(path)
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert report.report_type == "flood_cleanup"
    assert findings(report) == [("repeated_header", F.WARNING, 5), ("repeated_header", F.WARNING, 6)]
    assert report.frame["street"].tolist() == ["河西街道", "彩屯街道"]


@pytest.mark.parametrize(
    "row",
    [
        [
            "活动日期",
            "南芬区",
            "南芬区文明办",
            "南芬志愿9队",
            "创城",
            "39",
            "2.5",
            "平山路1号",
        ],  # one header cell in a row of data
        ["2022-03-09", "区县", "", "", "", "", "", ""],  # a header's text in one cell only
        [*HEADER[:7], "另一个地点"],  # the header but for its last cell
    ],
)
def test_a_row_that_is_not_all_header_stays_a_row_with_its_findings(tmp_path, row):
    """Only a row whose every filled cell (two or more) is its column's header text is set apart: any
    other row is data, and what is wrong with it is said as for any row."""
    rows = [volunteer_row(day) for day in (1, 2)]
    path = write_xlsx(tmp_path / "inbox" / "南芬区" / "志愿服务_2022-03.xlsx", [HEADER, rows[0], row, rows[1]])
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert "repeated_header" not in {f.rule for f in report.findings}
    assert any(f.severity == F.ERROR and f.row == 3 for f in report.findings)
    assert report.rows_read == 3


@pytest.mark.parametrize("form", ["csv", "csv in chunks"])
def test_two_exports_joined_into_one_file_read_as_one_table(tmp_path, form):
    """Two UTF-8 exports joined byte for byte (copy /b a.csv+b.csv): the second's header, behind its
    byte-order mark, is set apart and every ticket of both is read."""
    header = HOTLINE_HEADER

    def export(first: int) -> bytes:
        tickets = [
            [f"MS21{n:06d}", "2021-09-01 08:00", "明山区", "新明街道", "城市管理", "2021-09-01 09:00", "", "满意"]
            for n in range(first, first + 3)
        ]
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\r\n").writerows([header, *tickets])
        return buffer.getvalue().encode("utf-8-sig")

    path = tmp_path / "inbox" / "明山区" / "12345工单_2021-09.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(export(0) + export(3))
    if form == "csv":
        report = parse_file(path, inbox=tmp_path / "inbox")
        frame = report.frame
    else:
        report, sink, _ = check_in_chunks(path, tmp_path / "inbox", "utf-8-sig", chunk_rows=2)
        frame = pd.concat(list(sink.frames()), ignore_index=True)
        sink.close()
    assert findings(report) == [("repeated_header", F.WARNING, 5)]
    assert frame["ticket_id"].tolist() == [f"MS21{n:06d}" for n in range(6)]
