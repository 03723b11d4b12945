"""The demo 老旧小区改造项目台账 (明山区, December 2022) carries the seed figures of DOMAIN.md.

Read back with openpyxl directly (not through the project's parser), so this pins the demo file itself:
13 compounds in 明山, 北地 and 高峪 streets, 85 buildings, 5,113 households, 7,874.97 万元, 166 video points,
334 access-controlled doors, completion planned by the end of 2023.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from demo import GENERATORS, submitted_at
from demo.old_compound_renovation import RENOVATION_OVERDUE, RENOVATION_TOTALS, renovation_rows

HEADERS = [
    "项目名称",
    "区县",
    "街道",
    "改造楼栋数（栋）",
    "受益户数（户）",
    "改造内容",
    "总投资（万元）",
    "开工日期",
    "计划完工时间",
    "工程状态",
    "视频监控点位（个）",
    "门禁（个）",
]
STREETS = {"明山街道", "北地街道", "高峪街道"}
SCOPES = {"楼本体改造", "基础配套设施改造", "燃气管网改造"}
STATUSES = {"未开工", "在建", "已完工"}
LEDGER_END = date(2022, 12, 31)


def as_date(value: object) -> date:
    """A 计划完工时间 as written: a date cell, 2023年10月31日, 2023.8.31, or a bare month 2023年10月 (its last
    day)."""
    if isinstance(value, datetime):
        return value.date()
    text = str(value).strip()
    if m := re.fullmatch(r"(\d{4})(?:年|\.|-|/)(\d{1,2})(?:月|\.|-|/)(\d{1,2})日?", text):
        return date(*map(int, m.groups()))
    if m := re.fullmatch(r"(\d{4})年(\d{1,2})月", text):
        y, mo = map(int, m.groups())
        return date(y, mo, calendar.monthrange(y, mo)[1])
    raise AssertionError(f"not a date: {value!r}")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("renovation")
    paths = GENERATORS["old_compound_renovation"].write(root)
    assert len(paths) == 1
    return paths[0]


@pytest.fixture(scope="module")
def sheet(ledger):
    wb = openpyxl.load_workbook(ledger)
    assert len(wb.worksheets) == 1
    return wb.worksheets[0]


@pytest.fixture(scope="module")
def table(sheet) -> tuple[list[tuple], tuple, tuple]:
    """(data rows, 合计 row, footer row) as cell values."""
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[2]) == HEADERS
    total = next(i for i, r in enumerate(rows) if r[0] == "合计")
    return rows[3:total], rows[total], rows[total + 1]


def test_file_name_folder_title_and_layout(ledger, sheet, table):
    assert ledger.parent.name == "明山区" and ledger.parent.parent.name == "inbox"
    assert ledger.name == "明山区_老旧小区改造项目台账_2022-12.xlsx"
    assert sheet["A1"].value == "明山区老旧小区改造项目台账（2022年12月）"
    merges = {str(r) for r in sheet.merged_cells.ranges}
    assert "A1:L1" in merges
    line = [v for v in next(sheet.iter_rows(min_row=2, max_row=2, values_only=True)) if v]
    assert line[0].startswith("填报单位：") and any(str(v).startswith("填报日期：") for v in line)
    data, _total, footer = table
    assert len(data) == 13
    assert sheet["B4"].value == "明山区" and f"B4:B{3 + len(data)}" in merges
    assert [v for v in footer if v] == ["填报人：", "审核人：", "联系电话："]


def test_seed_totals(table):
    data, total, _footer = table
    col = {h: i for i, h in enumerate(HEADERS)}
    projects = [r[col["项目名称"]] for r in data]
    assert len(projects) == len(set(projects)) == RENOVATION_TOTALS["projects"] == 13
    sums = {
        h: sum(r[col[h]] for r in data)
        for h in ("改造楼栋数（栋）", "受益户数（户）", "视频监控点位（个）", "门禁（个）")
    }
    assert sums == {"改造楼栋数（栋）": 85, "受益户数（户）": 5113, "视频监控点位（个）": 166, "门禁（个）": 334}
    assert (
        RENOVATION_TOTALS["buildings"],
        RENOVATION_TOTALS["households"],
        RENOVATION_TOTALS["cameras"],
        RENOVATION_TOTALS["access_doors"],
    ) == (85, 5113, 166, 334)
    investments = [Decimal(str(r[col["总投资（万元）"]])) for r in data]
    assert all(v == v.quantize(Decimal("0.01")) and v > 0 for v in investments)  # at most two decimals
    assert sum(investments) == Decimal("7874.97") == Decimal(RENOVATION_TOTALS["investment_10k_yuan"])
    # the clerk's 合计 row is the column sums
    for header, expected in sums.items():
        assert total[col[header]] == expected, header
    assert Decimal(str(total[col["总投资（万元）"]])) == Decimal("7874.97")
    assert all(isinstance(r[col[h]], int) and r[col[h]] > 0 for r in data for h in sums)


def test_streets_as_clerks_write_them(table):
    data, _total, _footer = table
    written = [r[HEADERS.index("街道")] for r in data]
    assert {s if s.endswith("街道") else f"{s}街道" for s in written} == STREETS
    assert "北地" in written  # some without the 街道 suffix
    assert any(s.endswith("街道") for s in written)


def test_scope_status_and_dates(table):
    data, _total, _footer = table
    col = {h: i for i, h in enumerate(HEADERS)}
    scopes = [r[col["改造内容"]] for r in data]
    for scope in scopes:
        assert set(re.split(r"[、，]", scope)) <= SCOPES, scope
    assert any("、" in s for s in scopes) and any("，" in s for s in scopes)
    statuses = [r[col["工程状态"]] for r in data]
    assert set(statuses) <= STATUSES
    assert statuses.count("已完工") >= 1 and statuses.count("在建") > len(statuses) / 2
    due_cells = [r[col["计划完工时间"]] for r in data]
    assert any(isinstance(v, datetime) for v in due_cells) and any(isinstance(v, str) for v in due_cells)
    due = [as_date(v) for v in due_cells]
    assert max(due) <= date(2023, 12, 31)
    overdue = sum(s != "已完工" and d <= LEDGER_END for s, d in zip(statuses, due))
    assert overdue == RENOVATION_OVERDUE <= 2
    for r, d in zip(data, due):
        start = r[col["开工日期"]]
        if r[col["工程状态"]] == "未开工":
            assert start is None
        else:
            assert isinstance(start, datetime) and start.date() < d and start.date() <= LEDGER_END


def test_generator_rows_match_the_file(table):
    data, _total, _footer = table
    rows = renovation_rows()
    assert [r["project"] for r in rows] == [d[0] for d in data]
    assert sum(r["investment_fen"] for r in rows) == 787497


def test_submitted_before_the_deadline(ledger):
    when = submitted_at(ledger)
    assert when == GENERATORS["old_compound_renovation"].submitted_at(ledger) == datetime(2023, 1, 4, 10, 0)
    assert when < datetime(2023, 1, 6)  # due 2023-01-05 24:00


def test_deterministic(ledger, tmp_path):
    (again,) = GENERATORS["old_compound_renovation"].write(tmp_path)
    assert again.relative_to(tmp_path) == ledger.relative_to(ledger.parents[2])
    assert again.read_bytes() == ledger.read_bytes()
