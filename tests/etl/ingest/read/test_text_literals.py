"""etl/ingest/read/text_literals.py: a text table's ="…" cells (a system's CSV export keeping codes and IDs
as text for Excel) read as Excel shows them — in the whole-file parse and in the chunked read alike —
and nothing else that starts with = changed."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest
from hostile import HOTLINE_HEADER as HEADER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etl.ingest.read.csv_chunks
from etl.ingest.check import check_in_chunks
from etl.ingest.parse.tables import parse_file
from etl.ingest.read.csv_chunks import bytes_held
from etl.ingest.read.readers import TEXT_DELIMITERS
from etl.ingest.read.text_literals import marks, text_literal, unwrap_chunk


def ticket(n: int) -> list[str]:
    return [
        f"MS2109{n:05d}",
        f"2021-09-{n % 28 + 1:02d} 08:{n % 60:02d}:00",
        "明山区",
        "新明街道",
        "城市管理",
        f"2021-09-{n % 28 + 1:02d} 09:{n % 60:02d}:00",
        f"2021-09-{n % 28 + 1:02d} 17:00:00",
        "满意",
    ]


def literal(text: str) -> str:
    return '="' + text.replace('"', '""') + '"'


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ('="0012"', "0012"),
        ('="MS21000000"', "MS21000000"),
        ('=""', ""),
        ('="say ""hi"""', 'say "hi"'),
        ('="2021-09-01 08:00:00"', "2021-09-01 08:00:00"),
        ("=A1+1", "=A1+1"),  # a formula, not a text literal: as written
        ('="a"&"b"', '="a"&"b"'),
        ('="open', '="open'),
        ('x="0012"', 'x="0012"'),
        ('="a"b"', '="a"b"'),  # a lone quote inside: not one literal
    ],
)
def test_only_a_whole_text_literal_is_read_as_its_text(cell, shown):
    assert text_literal(cell) == shown


def test_a_chunk_is_unwrapped_column_by_column_and_other_cells_are_kept():
    chunk = pd.DataFrame({0: ['="007"', "8", "=1+1"], 1: ["a", "b", "c"]})
    assert unwrap_chunk(chunk).to_dict("list") == {0: ["007", "8", "=1+1"], 1: ["a", "b", "c"]}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_the_mark_is_found_in_the_files_bytes_wherever_the_blocks_break(tmp_path, encoding):
    text = "工单编号,区县\r\n" + "x" * 37 + ',="0012"\r\n'
    path = tmp_path / "a.csv"
    path.write_bytes(text.encode(encoding))
    assert all(bytes_held(path, marks(encoding), block_bytes=size) for size in range(1, 12))
    path.write_bytes(text.replace('="', "=").encode(encoding))
    assert not any(bytes_held(path, marks(encoding), block_bytes=size) for size in range(1, 12))


def facts(report, frame=None) -> dict:
    frame = report.frame if frame is None else frame

    def plain(value):
        return None if isinstance(value, float) and math.isnan(value) else value

    return {
        "report_type": report.report_type,
        "findings": [(f.rule, f.severity, f.row, f.column, f.message_zh, f.value) for f in report.findings],
        "rows": [
            [plain(v) for v in row] for row in frame.drop(columns=["_sheet"], errors="ignore").to_numpy().tolist()
        ],
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tickets=st.integers(1, 8),
    wrapped=st.sets(st.tuples(st.integers(0, 8), st.integers(0, 7)), max_size=20),
    header_wrapped=st.booleans(),
    delimiter=st.sampled_from(TEXT_DELIMITERS),
    encoding=st.sampled_from(["utf-8-sig", "gb18030", "utf-16"]),
    chunked=st.booleans(),
)
def test_a_text_table_with_text_literals_reads_as_the_same_table_without_them(
    tmp_path_factory, monkeypatch, tickets, wrapped, header_wrapped, delimiter, encoding, chunked
):
    """Any cells of a 12345 export (its header too) written as ="…": the parse is that of the same
    export written plainly, findings and values alike."""
    rows = [ticket(n) for n in range(tickets)]
    literal_rows = [
        [literal(cell) if (r, c) in wrapped else cell for c, cell in enumerate(row)] for r, row in enumerate(rows)
    ]
    header = [literal(h) for h in HEADER] if header_wrapped else HEADER
    inbox = tmp_path_factory.mktemp("literals") / "inbox"
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0 if chunked else 1 << 40)

    def parsed(name: str, records: list[list[str]]):
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(records)
        path = inbox / "明山区" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue().encode(encoding))
        if not chunked:
            return facts(parse_file(path, inbox=inbox))
        found = etl.ingest.read.csv_chunks.text_encoding(path)
        report, sink, _ = check_in_chunks(path, inbox, found, chunk_rows=3)
        frame = pd.concat(list(sink.frames()), ignore_index=True)
        sink.close()
        return facts(report, frame)

    expected = parsed("12345工单_2021-09.csv", [HEADER, *rows])
    assert expected["report_type"] == "hotline_tickets" and expected["findings"] == []
    assert parsed("12345工单_2021-09(导出).csv", [header, *literal_rows]) == expected
