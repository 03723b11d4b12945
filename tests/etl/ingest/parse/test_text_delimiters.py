"""Text tables with commas, tabs, semicolons or vertical bars between their fields (CSV; Excel/WPS "文本文件(制表符分隔)"
and "Unicode 文本"; a copy out of a web table; Excel's CSV under a decimal-comma locale; a system's dump) parse as the same table saved as a workbook, whatever their cells hold: the
delimiter the first records suggest is tried first (etl/ingest/read/readers.py ``text_delimiter``), and
the header decides when that gives none (etl/ingest/parse/tables.py, etl/ingest/check.py), in the
whole-file parse and in the chunked read alike."""

from __future__ import annotations

import csv
import io
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workbooks import write_xlsx

import etl.ingest.read.csv_chunks
from etl.ingest.check import check_in_chunks
from etl.ingest.parse.tables import parse_file
from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import TEXT_DELIMITERS, text_delimiter

HEADER = ["活动日期", "区县", "组织单位", "志愿服务队", "活动类型", "参与志愿者（人）", "服务时长（小时）", "服务地点"]
TEXT = st.text(alphabet=st.sampled_from(["a", "7", " ", ",", "\t", ";", "|", '"', "\n", "街", "—", "，"]), max_size=8)


def volunteer_row(day: int, unit: str, team: str, place: str) -> list[str]:
    return [f"2022-03-{day:02d}", "南芬区", unit, team, "创城", str(10 + day), "2.5", place]


def write_text(path, records, delimiter: str, encoding: str):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def facts(report) -> dict:
    """What a parse gives, comparable across formats."""

    def plain(value):
        return None if isinstance(value, float) and math.isnan(value) else value

    frame = report.frame
    return {
        "report_type": report.report_type,
        "period": report.period,
        "district": report.district.name if report.district else None,
        "findings": [(f.rule, f.severity, f.row, f.column, f.message_zh) for f in report.findings],
        "rows": None
        if frame is None
        else [[plain(v) for v in row] for row in frame.drop(columns=["_sheet"], errors="ignore").to_numpy().tolist()],
    }


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    cells=st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=12),
    title=st.booleans(),
    delimiter=st.sampled_from(TEXT_DELIMITERS),
    encoding=st.sampled_from(["utf-8-sig", "gb18030", "utf-16"]),
)
def test_a_text_table_parses_as_the_workbook_whatever_its_cells_hold(
    tmp_path_factory, cells, title, delimiter, encoding
):
    rows = [volunteer_row(day, *texts) for day, texts in enumerate(cells, start=1)]
    inbox = tmp_path_factory.mktemp("delimiters") / "inbox"
    title_text = "南芬区2022年3月志愿服务活动统计" if title else None
    workbook = write_xlsx(inbox / "南芬区" / "志愿服务_2022-03.xlsx", [HEADER, *rows], title=title_text)
    text = write_text(
        inbox / "南芬区" / "志愿服务_2022-03.txt", [[title_text]] * title + [HEADER, *rows], delimiter, encoding
    )

    expected = facts(parse_file(workbook, inbox=inbox))
    assert expected["report_type"] == "volunteer_activity"
    assert facts(parse_file(text, inbox=inbox)) == expected


def commas_everywhere(tmp_path, delimiter: str = "\t", encoding: str = "utf-16"):
    """A tab-separated table whose every row holds more commas than it has fields: its first records
    suggest the comma."""
    rows = [
        volunteer_row(day, "南芬区文明办", f"南芬志愿{day}队", "平山路1,3,5,7,9,11,13,15,17,19,21,23号")
        for day in range(1, 6)
    ]
    inbox = tmp_path / "inbox"
    return write_text(inbox / "南芬区" / "志愿服务_2022-03.txt", [HEADER, *rows], delimiter, encoding), inbox, rows


def test_the_header_decides_when_the_first_records_suggest_the_wrong_delimiter(tmp_path):
    path, inbox, rows = commas_everywhere(tmp_path)
    assert text_delimiter(path.read_text(encoding="utf-16")) == ","  # the count of fields is fooled

    report = parse_file(path, inbox=inbox)
    assert report.report_type == "volunteer_activity" and report.findings == []
    assert report.frame["place"].tolist() == [row[-1] for row in rows]
    assert report.frame["team"].tolist() == [row[3] for row in rows]


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    delimiter=st.sampled_from([d for d in TEXT_DELIMITERS if d != ","]),
    encoding=st.sampled_from(["utf-8-sig", "gb18030", "utf-16"]),
    days=st.integers(1, 6),
    max_columns=st.integers(8, 20),
    extra_commas=st.integers(1, 12),
)
def test_a_split_that_cannot_be_read_gives_way_to_the_delimiter_the_header_is_found_by(
    tmp_path_factory, delimiter, encoding, days, max_columns, extra_commas
):
    """The first records suggest the comma (every row's address holds more commas than the table has
    fields), and split on it a row has more fields than max_columns allows: that split is not the file's.
    The file reads as the same table saved as a workbook, not rejected for the comma's fields."""
    fields = max(max_columns, 2 * len(HEADER)) + extra_commas  # a row's under the comma: more than the rest's
    address = "平山路" + ",".join(map(str, range(fields))) + "号"
    rows = [volunteer_row(day, "南芬区文明办", f"南芬志愿{day}队", address) for day in range(1, days + 1)]
    inbox = tmp_path_factory.mktemp("split") / "inbox"
    limits = Limits(max_columns=max_columns)
    text = write_text(inbox / "南芬区" / "志愿服务_2022-03.txt", [HEADER, *rows], delimiter, encoding)
    assert text_delimiter(text.read_text(encoding=encoding)) == ","
    workbook = write_xlsx(inbox / "南芬区" / "志愿服务_2022-03.xlsx", [HEADER, *rows])

    expected = facts(parse_file(workbook, inbox=inbox, limits=limits))
    assert expected["report_type"] == "volunteer_activity" and expected["findings"] == []
    assert facts(parse_file(text, inbox=inbox, limits=limits)) == expected


def test_a_table_too_wide_under_every_delimiter_keeps_the_reason_of_its_own(tmp_path):
    """A comma CSV wider than max_columns finds no header under the other delimiters either: it is
    rejected with the comma split's reason (its width and the limit), not with 未识别出报表类型."""
    inbox = tmp_path / "inbox"
    wide = [*HEADER, *(f"备注{i}" for i in range(12))]
    path = write_text(
        inbox / "南芬区" / "志愿服务_2022-03.csv",
        [wide, [*volunteer_row(1, "文明办", "队", "路"), *["x"] * 12]],
        ",",
        "utf-8-sig",
    )

    report = parse_file(path, inbox=inbox, limits=Limits(max_columns=12))
    assert [(f.rule, f.severity) for f in report.findings] == [("unreadable_file", "critical")]
    assert "第1行有 20 列，超过 12 列的上限" in report.findings[0].message_zh


def test_the_chunked_read_splits_where_the_whole_file_parse_does(tmp_path, monkeypatch):
    path, inbox, rows = commas_everywhere(tmp_path, encoding="utf-8-sig")
    whole = parse_file(path, inbox=inbox)
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0)
    encoding = etl.ingest.read.csv_chunks.text_encoding(path)
    report, sink, _outcome = check_in_chunks(path, inbox, encoding, chunk_rows=2)
    try:
        assert report.report_type == "volunteer_activity"
        assert report.findings == whole.findings == []
        assert (report.period, report.district, report.rows_read) == (whole.period, whole.district, len(rows))
        assert sink.count == len(rows)
    finally:
        sink.close()


def test_a_header_lacking_a_column_is_said_so_when_the_other_delimiter_finds_it(tmp_path, monkeypatch):
    """The first records suggest the comma, under which no header is found; under the tab the header is
    there but lacks 活动类型: both paths say that column is missing, not that the report type is unknown."""
    rows = [
        [
            v
            for i, v in enumerate(volunteer_row(day, "文明办", f"队{day}", "平山路1,3,5,7,9,11,13,15,17,19,21,23号"))
            if i != 4
        ]
        for day in range(1, 6)
    ]
    header = [h for i, h in enumerate(HEADER) if i != 4]
    inbox = tmp_path / "inbox"
    path = write_text(inbox / "南芬区" / "志愿服务_2022-03.txt", [header, *rows], "\t", "utf-8-sig")
    assert text_delimiter(path.read_text(encoding="utf-8-sig")) == ","

    whole = parse_file(path, inbox=inbox)
    rules = {f.rule for f in whole.findings}
    assert "unknown_report_type" not in rules and any("活动类型" in f.message_zh for f in whole.findings), rules
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0)
    report, sink, _ = check_in_chunks(path, inbox, etl.ingest.read.csv_chunks.text_encoding(path), chunk_rows=2)
    sink.close()
    assert [f.message_zh for f in report.findings] == [f.message_zh for f in whole.findings]


def test_a_semicolon_export_with_decimal_commas_is_read_and_its_commas_are_named(tmp_path, monkeypatch):
    """Excel's CSV under a locale whose decimal mark is the comma: semicolons between the fields, 2,5 for
    two and a half. The table is found and read the same way by both paths, and every decimal comma is a
    finding on its own cell — never read as 25."""
    rows = [volunteer_row(day, "南芬区文明办", f"南芬志愿{day}队", "平山路1号") for day in range(1, 7)]
    for row in rows[1:4:2]:
        row[6] = "2,5"
    rows[5][6] = "1.250"  # there, 1,250 written with its thousands dot — or 1.25: not to be guessed
    inbox = tmp_path / "inbox"
    path = write_text(inbox / "南芬区" / "志愿服务_2022-03.csv", [HEADER, *rows], ";", "utf-8-sig")
    assert text_delimiter(path.read_text(encoding="utf-8-sig")) == ";"

    whole = parse_file(path, inbox=inbox)
    assert whole.report_type == "volunteer_activity"
    assert whole.frame["team"].tolist() == [row[3] for row in rows]
    commas = [f for f in whole.findings if "逗号只能用作千位分隔符" in f.message_zh or "含义不明" in f.message_zh]
    assert [f.row for f in commas] == [3, 5, 7] and {f.column for f in commas} == {"服务时长（小时）"}
    assert "点可能是千位分隔符（1250）" in commas[-1].message_zh
    assert whole.frame["hours"].tolist()[:5:2] == [2.5, 2.5, 2.5]
    comma_separated = write_text(inbox / "南芬区" / "志愿服务_2022-04.csv", [HEADER, rows[5]], ",", "utf-8-sig")
    assert parse_file(comma_separated, inbox=inbox).frame["hours"].tolist() == [1.25]  # a comma CSV's 1.250

    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0)
    encoding = etl.ingest.read.csv_chunks.text_encoding(path)
    report, sink, _outcome = check_in_chunks(path, inbox, encoding, chunk_rows=2)
    sink.close()
    assert report.report_type == "volunteer_activity"
    assert [(f.row, f.column, f.message_zh) for f in report.findings if f in commas] == [
        (f.row, f.column, f.message_zh) for f in commas
    ]


def test_the_chunked_read_tries_the_other_delimiters_when_the_guessed_one_leaves_a_quote_open(tmp_path, monkeypatch):
    """A tab-separated file whose addresses are full of commas (the comma is guessed) and one of whose
    places begins, after a comma, with a quote never closed: split on the comma that quote opens a field
    running past the csv module's limit. The chunked read then splits on the tab, as the whole-file
    parse does, instead of giving the file up to the whole-file path (which turns files above 64 MiB away)."""
    rows = [
        volunteer_row(day % 28 + 1, "南芬区文明办", f"南芬志愿{day}队", "平山路1,3,5,7,9,11,13,15,17,19,21,23号")
        for day in range(3000)
    ]
    rows[60][-1] = '市民反映,"某小区门口'
    text = "\r\n".join("\t".join(row) for row in [HEADER, *rows]) + "\r\n"
    path = tmp_path / "inbox" / "南芬区" / "志愿服务_2022-03.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(text.encode("utf-8-sig"))
    assert text_delimiter(text) == ","

    whole = parse_file(path, inbox=tmp_path / "inbox")
    assert whole.findings == [] and len(whole.frame) == len(rows)
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0)
    report, sink, _ = check_in_chunks(path, tmp_path / "inbox", "utf-8-sig", chunk_rows=1000)
    try:
        assert report.findings == [] and sink.count == len(rows)
    finally:
        sink.close()
