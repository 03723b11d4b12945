"""Whatever a workbook holds, the worst it can do is get itself rejected, with a reason that names the
limit: checked from the zip directory before the read, measured from what the members really inflate
to while the read runs in a child process with a memory limit and a time limit."""

from __future__ import annotations

import marshal
import os
import signal
import time
from dataclasses import replace

import pytest
from hostile import (
    NS,
    VOLUNTEER_HEADER,
    html_span_bomb,
    inline,
    lying_sizes_xlsx,
    ods_repeat_bomb,
    row_bomb_xlsx,
    shared_strings_bomb_xlsx,
    sparse_xlsx,
    xlsx_from_sheet_xml,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import etl.ingest.read.isolated
from etl.ingest.findings import column_letter
from etl.ingest.read.isolated import FRAME_HEAD, read_isolated
from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import CellError, Sheet, UnreadableFile

LIMITS = Limits()
MiB = 1 << 20


def rejected(path, limits=LIMITS) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read_isolated(path, limits)
    return caught.value


@given(column=st.integers(min_value=1, max_value=16_384), row=st.integers(min_value=2, max_value=1_048_576))
def test_a_single_cell_far_away_is_read_or_rejected_by_its_rectangle(tmp_path_factory, column, row):
    path = sparse_xlsx(tmp_path_factory.mktemp("sparse") / "稀疏.xlsx", f"{column_letter(column - 1)}{row}")
    width = max(column, 8)
    if row <= LIMITS.max_rows and width <= LIMITS.max_columns and row * width <= LIMITS.max_cells:
        sheets = read_isolated(path, LIMITS)
        assert len(sheets[0].rows) == row and sheets[0].rows[row - 1][column - 1] == 1
    else:
        error = rejected(path)
        assert any(name in error.zh for name in ("max_cells", "max_rows", "max_columns")), error.zh


@pytest.mark.parametrize(
    ("far_ref", "reason", "named"),
    [
        ("AMK5", "用到了第 1025 列", "Sheet1"),
        ("XFD1048576", "用到了第 16384 列", "Sheet1"),
        ("H1048576", "max_cells", "Sheet1"),
    ],
    ids=["allocated-then-checked", "too-large-to-allocate", "allocated-over-max-cells"],
)
def test_a_rectangle_over_a_limit_is_named_whether_or_not_it_could_be_allocated(tmp_path, far_ref, reason, named):
    """The reader child checks the rectangle python-calamine allocated (named by its sheet) before a Python
    object is made per cell; a rectangle too large to allocate kills the child under its memory limit, and
    the container's scan then names the limit instead of "out of memory" — the sheet by its tab's name either way."""
    error = rejected(sparse_xlsx(tmp_path / "远端.xlsx", far_ref))
    assert reason in error.zh and named in error.zh, error.zh
    assert "max_read_memory_bytes" not in error.zh


def test_a_formatted_empty_cell_far_away_is_no_reason_to_turn_a_file_away(tmp_path):
    """A cell with a style and no value at XFD1048576 (what formatting a whole row or column can leave): no
    value is there to read, python-calamine's rectangle ends at the last value, and the file is read."""
    header = "".join(inline(f"{column_letter(i)}1", h) for i, h in enumerate(VOLUNTEER_HEADER))
    xml = (
        f'<worksheet {NS}><sheetData><row r="1">{header}</row>'
        '<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData></worksheet>'
    )
    sheets = read_isolated(xlsx_from_sheet_xml(tmp_path / "格式.xlsx", xml.encode()), LIMITS)
    assert sheets[0].rows == [VOLUNTEER_HEADER]


def error_cell_workbook(path, error_sheet_xml: str):
    header = "".join(inline(f"{column_letter(i)}1", h) for i, h in enumerate(VOLUNTEER_HEADER))
    first = f'<worksheet {NS}><sheetData><row r="1">{header}</row></sheetData></worksheet>'
    return xlsx_from_sheet_xml(path, first.encode(), more_sheets={"错误值": error_sheet_xml.encode()})


def test_an_error_cell_the_reader_could_not_read_never_grows_its_sheet(tmp_path):
    """A far error cell whose value python-calamine cannot parse leaves its sheet unread: openpyxl, asked in
    this process (no memory limit) for the error values calamine read as blanks, must not grow that sheet
    to the cell — at XFD1048576 that would be 137 GB."""
    error_sheet = (
        f'<worksheet {NS}><sheetData><row r="5"><c r="AMK5" t="e"><v>#BOGUS</v></c></row></sheetData></worksheet>'
    )
    sheets = {s.name: s for s in read_isolated(error_cell_workbook(tmp_path / "错误值.xlsx", error_sheet), LIMITS)}
    assert sheets["错误值"].unreadable and sheets["错误值"].rows == []
    assert sheets["Sheet1"].rows[0][: len(VOLUNTEER_HEADER)] == VOLUNTEER_HEADER


def test_error_cells_are_looked_for_within_what_was_read_not_what_the_sheet_declares(tmp_path):
    """A sheet that declares more than it holds (A1:XFD20000, which openpyxl's read-only rows can be padded
    to): the error values are looked for within the rectangle calamine read, and found there."""
    error_sheet = (
        f'<worksheet {NS}><dimension ref="A1:XFD20000"/><sheetData><row r="1">{inline("A1", "甲")}</row>'
        '<row r="2"><c r="B2" t="e"><v>#REF!</v></c></row></sheetData></worksheet>'
    )
    started = time.monotonic()
    sheets = {s.name: s for s in read_isolated(error_cell_workbook(tmp_path / "声明.xlsx", error_sheet), LIMITS)}
    assert time.monotonic() - started < 30
    assert sheets["错误值"].rows == [["甲", ""], ["", "#REF!"]]
    assert isinstance(sheets["错误值"].rows[1][1], CellError) and sheets["错误值"].has_cell_errors


@pytest.mark.parametrize(
    ("with_refs", "unpacked", "packed"),
    [(False, 320 * MiB, 2 * MiB), (True, 90 * MiB, 16 * MiB)],
    ids=["3-MB-bomb-rows-without-r", "2-million-rows-with-r"],
)
def test_a_row_bomb_is_rejected_by_what_it_really_unpacks_to(tmp_path, with_refs, unpacked, packed):
    path = row_bomb_xlsx(tmp_path / "炸弹.xlsx", unpacked, with_refs=with_refs)
    assert path.stat().st_size < packed
    error = rejected(path)
    assert any(name in error.zh for name in ("max_member_bytes", "max_compression_ratio", "max_rows", "max_cells"))


def test_shared_strings_that_unpack_to_gigabytes_are_rejected(tmp_path):
    error = rejected(shared_strings_bomb_xlsx(tmp_path / "共享字符串.xlsx", 300 * MiB))
    assert "max_member_bytes" in error.zh or "max_compression_ratio" in error.zh


def test_sizes_the_headers_lie_about_are_measured(tmp_path):
    """The directory says 1,000 bytes; the deflate stream inflates to 24 MB, over an 8 MB member limit."""
    limits = replace(LIMITS, max_member_bytes=8 * MiB, max_compression_ratio=10_000)
    error = rejected(lying_sizes_xlsx(tmp_path / "谎报.xlsx", 24 * MiB), limits)
    assert "max_member_bytes" in error.zh


@pytest.mark.parametrize(
    ("rows", "columns", "reason"),
    [(5_000, 1_000, "max_cells"), (1_048_576, 16_384, "")],
    ids=["5-million-cells", "17-billion-cells"],
)
def test_an_ods_whose_repeats_expand_to_millions_of_cells_is_rejected(tmp_path, rows, columns, reason):
    """A few KB of ods: the rectangle the reader reports is checked before a Python object is made per
    cell; python-calamine gives up on the larger one itself (under the child's memory limit)."""
    started = time.monotonic()
    error = rejected(ods_repeat_bomb(tmp_path / "重复.ods", rows, columns))
    assert reason in error.zh
    assert time.monotonic() - started < 60


def test_the_native_reader_aborting_is_the_files_rejection(tmp_path):
    """With the rectangle check out of the way, python-calamine itself tries to allocate 512 GB: its
    abort kills the child, not us."""
    path = sparse_xlsx(tmp_path / "远端.xlsx", "XFD1048576")
    limits = replace(LIMITS, max_rows=10**9, max_columns=10**9, max_cells=10**15)
    error = rejected(path, limits)
    assert "max_read_memory_bytes" in error.zh
    assert os.getpid()  # still here


def test_an_html_span_bomb_is_rejected(tmp_path):
    error = rejected(html_span_bomb(tmp_path / "网页.xls", colspan=10**6, rowspan=10**6))
    assert "max_cells" in error.zh or "max_columns" in error.zh


def test_a_reader_that_crashes_or_hangs_is_the_files_rejection(tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n", encoding="utf-8")

    monkeypatch.setattr(
        etl.ingest.read.isolated, "read_sheets", lambda p, limits, **_: os.kill(os.getpid(), signal.SIGSEGV)
    )
    assert "异常终止" in rejected(path).zh
    monkeypatch.setattr(etl.ingest.read.isolated, "read_sheets", lambda p, limits, **_: time.sleep(30))
    started = time.monotonic()
    assert "max_read_seconds" in rejected(path, replace(LIMITS, max_read_seconds=1)).zh
    assert time.monotonic() - started < 10
    monkeypatch.setattr(etl.ingest.read.isolated, "read_sheets", lambda p, limits, **_: 1 / 0)
    assert "结构异常" in rejected(path).zh


def test_the_child_never_runs_the_cyclic_collector(tmp_path, monkeypatch):
    """A collection in the child walks every object it inherited from this process and so copies each
    page of that heap: with a large parent, reads took twice as long whenever one fell inside them."""
    import gc

    path = tmp_path / "a.csv"
    path.write_text("a,b\n", encoding="utf-8")
    monkeypatch.setattr(
        etl.ingest.read.isolated, "read_sheets", lambda p, limits, **_: [Sheet(str(gc.isenabled()), [["x"]])]
    )
    assert gc.isenabled()
    assert [s.name for s in read_isolated(path, LIMITS)] == ["False"]


def test_an_ordinary_workbook_reads_the_same_in_the_child(tmp_path):
    from workbooks import SERVICE_HEADER, service_item, write_xlsx

    from etl.ingest.read.readers import read_sheets

    path = write_xlsx(
        tmp_path / "r.xlsx",
        [SERVICE_HEADER, *(service_item(f"MS{i:04d}") for i in range(50))],
        title="明山区政务服务事项清单（2021年第四季度）",
    )
    assert [s.rows for s in read_isolated(path, LIMITS)] == [s.rows for s in read_sheets(path, LIMITS)]


XLSX_CELLS = (
    st.none() | st.text("ab 街7,", max_size=4) | st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6) | st.booleans()
)


@st.composite
def sparse_workbooks(draw):
    """Sheets of cells anywhere in a corner of A1:J40 (so rows and columns before the first used one),
    of every type a cell holds (dates too), some sheets empty or hidden."""
    import datetime as dt

    cells = XLSX_CELLS | st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    )
    books = []
    for _ in range(draw(st.integers(1, 3))):
        placed = draw(st.dictionaries(st.tuples(st.integers(1, 40), st.integers(1, 10)), cells, max_size=25))
        books.append((placed, draw(st.booleans())))
    return books


@settings(max_examples=40, deadline=None)
@given(book=sparse_workbooks())
def test_an_xlsx_sent_while_it_is_read_arrives_as_read_in_process(tmp_path_factory, book):
    """The child sends an xlsx sheet's rows as python-calamine converts them (``iter_rows``, which starts
    at the first used column): they arrive exactly as ``to_python(skip_empty_area=False)`` reads them in
    this process, leading blank rows and columns, dates and every sheet's facts included."""
    from openpyxl import Workbook

    from etl.ingest.read.readers import read_sheets

    workbook = Workbook()
    workbook.remove(workbook.active)
    for number, (placed, hidden) in enumerate(book):
        sheet = workbook.create_sheet(f"表{number}")
        sheet.sheet_state = "hidden" if hidden and number else "visible"
        for (row, column), value in placed.items():
            sheet.cell(row, column, value)
    path = tmp_path_factory.mktemp("stream") / "sparse.xlsx"
    workbook.save(path)

    def facts(sheets):
        return [(s.name, s.visible, s.merged, s.unreadable, s.may_hold_nul, repr(s.rows)) for s in sheets]

    assert facts(read_isolated(path, LIMITS)) == facts(read_sheets(path, LIMITS))


PLAIN_CELLS = (  # what marshal carries
    st.none()
    | st.text(max_size=6)
    | st.floats(allow_nan=True)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.booleans()
)
OTHER_CELLS = st.datetimes() | st.sampled_from(["#REF!", "#N/A"]).map(CellError)  # what only pickle carries


@st.composite
def sheets(draw, cells):
    width, height = draw(st.integers(1, 5)), draw(st.integers(0, 40))
    rows = [[draw(cells) for _ in range(width)] for _ in range(height)]
    return Sheet(draw(st.text(min_size=1, max_size=5)), rows, draw(st.booleans()), [((0, 0), (0, 1))], True, False)


def cells_of(found: list[Sheet]) -> list:
    """Every field of every sheet, each cell by type and repr (NaN equals itself)."""
    return [
        (s.name, s.visible, s.merged, s.has_cell_errors, s.may_hold_nul, s.unreadable)
        + tuple(tuple((type(v), repr(v)) for v in row) for row in s.rows)
        for s in found
    ]


@given(
    sent=st.lists(sheets(PLAIN_CELLS), min_size=1, max_size=3)
    | st.lists(sheets(PLAIN_CELLS), max_size=2).flatmap(
        lambda first: st.lists(sheets(PLAIN_CELLS | OTHER_CELLS), min_size=1, max_size=2).map(lambda rest: first + rest)
    )
)
def test_whatever_the_child_read_arrives_whole_frame_by_frame(tmp_path_factory, sent):
    """Runs of rows in many frames, and a value marshal cannot carry (a date, a formula error value) after
    frames were already sent: the parent ends with exactly the child's sheets."""
    path = tmp_path_factory.mktemp("frames") / "a.csv"
    path.write_text("a\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(etl.ingest.read.isolated, "FRAME_CELLS", 7)
        patch.setattr(etl.ingest.read.isolated, "read_sheets", lambda p, limits, **_: sent)
        assert cells_of(read_isolated(path, LIMITS)) == cells_of(sent)


@pytest.mark.parametrize("where", ["in-a-frame-head", "in-a-sheet-frame", "in-a-row-frame", "before-the-end"])
def test_a_child_that_stops_half_way_through_its_frames_is_the_files_rejection(tmp_path, where):
    path = tmp_path / "a.csv"
    path.write_text("a\n", encoding="utf-8")
    sent = [Sheet("表", [["x" * 20, 1.0]] * 50)]
    head = FRAME_HEAD.size
    sheet_frame = head + len(marshal.dumps(("表", True, [], False, True, None, None)))
    first_run = sheet_frame + head + len(marshal.dumps([["x" * 20, 1.0]]))  # the first run is a row long
    cut = {"in-a-frame-head": 3, "in-a-sheet-frame": head + 2, "in-a-row-frame": first_run + head + 5}.get(where)
    written = bytearray()

    def write_part(out, kind, body):
        """The frames up to ``cut`` bytes in all, or all but the end frame."""
        if cut is None and kind == b"E":
            return
        frame = FRAME_HEAD.pack(kind, len(body)) + body
        keep = len(frame) if cut is None else max(0, min(len(frame), cut - len(written)))
        written.extend(frame[:keep])
        if keep:
            os.write(out, frame[:keep])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(etl.ingest.read.isolated, "read_sheets", lambda p, limits, **_: sent)
        patch.setattr(etl.ingest.read.isolated, "_write_frame", write_part)
        assert "已损坏" in rejected(path).zh
