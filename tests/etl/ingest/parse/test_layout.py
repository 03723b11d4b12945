"""etl/ingest/parse/layout.py: find the table inside a sheet (header rows, report type, data rows, totals, footer).

Workbooks are written here with openpyxl and read back through etl.ingest.read.readers.read_sheets, as the pipeline does.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.contracts import CONTRACTS
from etl.ingest.parse.layout import data_rows, find_table, title_text
from etl.ingest.read.readers import read_sheets

CONTRACT_LIST = list(CONTRACTS.values())

TITLE = "溪湖区防汛救灾清理情况统计表"
UNIT_LINE = ["填报单位：溪湖区城市管理局", "", "", "", "", "", "", "", "", "2021年7月29日"]
FLOOD_H1 = [
    "日期",
    "区县",
    "街道（乡镇）",
    "出动人员（人次）",
    "出动车辆（台次）",
    "清运垃圾",
    "",
    "清理淤泥（立方米）",
    "排水量（立方米）",
    "消杀",
    "",
    "",
    "恢复供电（户）",
]
FLOOD_H2 = ["", "", "", "", "", "吨", "车次", "", "", "街道（条）", "公厕（座）", "垃圾箱（个）", ""]
FLOOD_COLUMNS = {
    "date": 0,
    "district": 1,
    "street": 2,
    "personnel": 3,
    "vehicles": 4,
    "garbage_tons": 5,
    "garbage_trips": 6,
    "silt_m3": 7,
    "water_pumped_m3": 8,
    "disinfected_streets": 9,
    "disinfected_toilets": 10,
    "disinfected_bins": 11,
    "power_restored_households": 12,
}
FLOOD_MERGES = ["A1:M1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:G3", "H3:H4", "I3:I4", "J3:L3", "M3:M4"]
VOLUNTEER_HEADER = [
    "活动日期",
    "区县",
    "组织单位",
    "志愿服务队",
    "活动类型",
    "参与志愿者（人）",
    "服务时长（小时）",
    "服务地点",
]


def flood_row(street: str, district: str = "", n: int = 1) -> list:
    return ["2021-07-29", district, street, 10 * n, n, 1.5 * n, n, 2 * n, 3 * n, n, n, n, 0]


def volunteer_row(i: int) -> list:
    return ["2022-03-04", "南芬区", "南芬区文明办", f"南芬志愿{i}队", "创城", 30 + i, 10, "南芬区"]


def write_xlsx(path: Path, *sheets: dict) -> Path:
    """Each sheet: {"name", "rows", "merges": ["A1:M1"], "hidden": bool}."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        ws = wb.create_sheet(spec["name"])
        for row in spec["rows"]:
            ws.append([None if v == "" else v for v in row])
        for rng in spec.get("merges", []):
            ws.merge_cells(rng)
        if spec.get("hidden"):
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding: str = "gbk", ragged: bool = False) -> Path:
    """Excel and WPS pad every CSV line to the table width ("标题,,,,"); ``ragged`` writes rows as given."""
    width = max((len(r) for r in rows), default=0)
    if not ragged:
        rows = [[*r, *[""] * (width - len(r))] for r in rows]
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def layout_of(path: Path):
    return find_table(read_sheets(path), CONTRACT_LIST)


def flood_two_row_sheet(name="7月29日", district_merged=True, extra=()) -> dict:
    rows = [
        [TITLE],
        UNIT_LINE,
        FLOOD_H1,
        FLOOD_H2,
        flood_row("河西街道", "溪湖区", 1),
        flood_row("彩屯街道", "", 2),
        flood_row("东风街道", "", 3),
        ["合计", "", "", 60, 6],
        ["填报人：张三", "", "", "审核人：李四", "", "", "联系电话：12345"],
        *extra,
    ]
    return {"name": name, "rows": rows, "merges": FLOOD_MERGES + (["B5:B7"] if district_merged else [])}


# ---------------------------------------------------------------- headers


def test_title_and_unit_line_above_a_one_row_header(tmp_path):
    rows = [
        ["南芬区志愿服务活动统计表"],
        ["填报单位：南芬区文明办", "", "", "", "", "日期：2022年3月"],
        VOLUNTEER_HEADER,
        volunteer_row(1),
        volunteer_row(2),
    ]
    layout = layout_of(write_xlsx(tmp_path / "v.xlsx", {"name": "Sheet1", "rows": rows, "merges": ["A1:H1"]}))
    assert layout.contract.report_type == "volunteer_activity"
    assert layout.sheet.name == "Sheet1"
    assert layout.header_rows == (2,)
    assert layout.first_data_row == 3
    assert layout.columns == {
        "date": 0,
        "district": 1,
        "unit": 2,
        "team": 3,
        "activity_type": 4,
        "volunteers": 5,
        "hours": 6,
        "place": 7,
    }
    assert layout.headers[5] == "参与志愿者（人）"
    assert layout.unknown_columns == {} and layout.duplicate_columns == {} and layout.missing_required == []
    assert title_text(layout) == "南芬区志愿服务活动统计表 填报单位：南芬区文明办 日期：2022年3月"
    rows_ = data_rows(layout)
    assert [r for r, _ in rows_.rows] == [3, 4]
    assert rows_.rows[0][1][3] == "南芬志愿1队"
    assert rows_.total_rows == [] and rows_.footer_row is None


def test_header_variants_brackets_spaces_and_aliases(tmp_path):
    header = ["日期", "县区", "组织 单位", "服务队", "活动类型", "参与人数", "服务时长(小时)", "服务\n地点"]
    layout = layout_of(write_csv(tmp_path / "v.csv", [header, volunteer_row(1)]))
    assert layout.contract.report_type == "volunteer_activity"
    assert layout.columns == {
        "date": 0,
        "district": 1,
        "unit": 2,
        "team": 3,
        "activity_type": 4,
        "volunteers": 5,
        "hours": 6,
        "place": 7,
    }


def test_two_row_header_with_merged_parents(tmp_path):
    layout = layout_of(write_xlsx(tmp_path / "f.xlsx", flood_two_row_sheet()))
    assert layout.contract.report_type == "flood_cleanup"
    assert layout.header_rows == (2, 3)
    assert layout.columns == FLOOD_COLUMNS
    assert layout.headers[5] == "清运垃圾 / 吨"
    assert layout.headers[6] == "清运垃圾 / 车次"
    assert layout.headers[9] == "消杀 / 街道（条）"
    assert layout.headers[10] == "消杀 / 公厕（座）"
    assert layout.headers[11] == "消杀 / 垃圾箱（个）"
    assert layout.headers[0] == "日期"  # merged down over both header rows
    assert layout.unknown_columns == {} and layout.missing_required == []
    assert title_text(layout) == f"{TITLE} 填报单位：溪湖区城市管理局 2021年7月29日"


def test_two_row_header_in_csv_without_merge_info(tmp_path):
    rows = [[TITLE], FLOOD_H1, FLOOD_H2, flood_row("河西街道", "溪湖区")]
    layout = layout_of(write_csv(tmp_path / "f.csv", rows))
    assert layout.header_rows == (1, 2)
    assert layout.columns == FLOOD_COLUMNS
    assert layout.headers[6] == "清运垃圾 / 车次"  # parent cell empty: taken from the group on the left
    assert layout.headers[11] == "消杀 / 垃圾箱（个）"
    assert layout.unknown_columns == {}


def test_two_row_header_xlsx_unmerged_parent_with_merged_title(tmp_path):
    sheet = {"name": "S", "rows": [[TITLE], FLOOD_H1, FLOOD_H2, flood_row("河西街道", "溪湖区")], "merges": ["A1:M1"]}
    layout = layout_of(write_xlsx(tmp_path / "f.xlsx", sheet))
    assert layout.columns == FLOOD_COLUMNS
    assert layout.unknown_columns == {}


def test_ragged_csv_title_line_does_not_crash(tmp_path):
    rows = [["南芬区志愿服务活动统计"], VOLUNTEER_HEADER, volunteer_row(1)]
    layout = layout_of(write_csv(tmp_path / "v.csv", rows, ragged=True))
    assert layout.header_rows == (1,)


def test_unit_on_its_own_row_under_a_single_header(tmp_path):
    h1 = ["日期", "区县", "街道（乡镇）", "出动人员", "出动车辆"]
    h2 = ["", "", "", "人次", "台次"]
    layout = layout_of(write_csv(tmp_path / "f.csv", [h1, h2, ["2021-07-29", "溪湖区", "河西街道", 1, 1]]))
    assert layout.columns == {"date": 0, "district": 1, "street": 2, "personnel": 3, "vehicles": 4}
    assert [r for r, _ in data_rows(layout).rows] == [2]


def test_unknown_extra_column(tmp_path):
    rows = [
        [*VOLUNTEER_HEADER[:5], "备注", *VOLUNTEER_HEADER[5:]],
        [*volunteer_row(1)[:5], "无", *volunteer_row(1)[5:]],
    ]
    layout = layout_of(write_csv(tmp_path / "v.csv", rows))
    assert layout.contract.report_type == "volunteer_activity"
    assert layout.unknown_columns == {5: "备注"}
    assert layout.columns["volunteers"] == 6 and layout.columns["place"] == 8


def test_duplicate_column(tmp_path):
    rows = [[*VOLUNTEER_HEADER, "参与人数"], [*volunteer_row(1), 5]]
    layout = layout_of(write_csv(tmp_path / "v.csv", rows))
    assert layout.columns["volunteers"] == 5
    assert layout.duplicate_columns == {8: "参与人数"}


def test_missing_required_column(tmp_path):
    header = [h for h in VOLUNTEER_HEADER if h != "组织单位"]
    layout = layout_of(write_csv(tmp_path / "v.csv", [header, ["2022-03-04", "南芬区", "队", "创城", 3, 1, "x"]]))
    assert layout.contract.report_type == "volunteer_activity"
    assert layout.missing_required == ["unit"]


def test_no_matching_header_returns_none(tmp_path):
    rows = [["姓名", "性别", "年龄", "住址"], ["张三", "男", 30, "本溪"]]
    assert layout_of(write_xlsx(tmp_path / "x.xlsx", {"name": "S", "rows": rows})) is None
    assert layout_of(write_csv(tmp_path / "x.csv", rows)) is None


def test_empty_sheet_returns_none(tmp_path):
    assert layout_of(write_xlsx(tmp_path / "x.xlsx", {"name": "S", "rows": []})) is None


def test_header_below_the_scan_window_is_not_found(tmp_path):
    rows = [[f"说明{i}"] for i in range(20)] + [VOLUNTEER_HEADER, volunteer_row(1)]
    assert layout_of(write_csv(tmp_path / "v.csv", rows)) is None
    rows = [[f"说明{i}"] for i in range(19)] + [VOLUNTEER_HEADER, volunteer_row(1)]
    assert layout_of(write_csv(tmp_path / "v.csv", rows)).header_rows == (19,)


# ---------------------------------------------------------------- sheets


def test_instructions_sheet_first_data_on_second(tmp_path):
    path = write_xlsx(
        tmp_path / "v.xlsx",
        {"name": "填表说明", "rows": [["请按模板填写，是否类填“是/否”。"], ["日期格式：2022-03-04"]]},
        {"name": "数据", "rows": [VOLUNTEER_HEADER, volunteer_row(1), volunteer_row(2)]},
    )
    layout = layout_of(path)
    assert layout.sheet.name == "数据"
    assert layout.header_rows == (0,)
    assert len(data_rows(layout).rows) == 2


def test_hidden_sheet_is_ignored_when_a_visible_one_matches(tmp_path):
    hidden_rows = [[*VOLUNTEER_HEADER, "备注"], volunteer_row(9)]  # even with more columns it must lose
    path = write_xlsx(
        tmp_path / "v.xlsx",
        {"name": "旧模板", "rows": hidden_rows, "hidden": True},
        {"name": "数据", "rows": [["标题"], VOLUNTEER_HEADER, volunteer_row(1)]},
    )
    sheets = read_sheets(path)
    assert [(s.name, s.visible) for s in sheets] == [("旧模板", False), ("数据", True)]
    layout = find_table(sheets, CONTRACT_LIST)
    assert layout.sheet.name == "数据"
    assert layout.header_rows == (1,)


def test_hidden_sheet_is_used_when_nothing_visible_matches(tmp_path):
    path = write_xlsx(
        tmp_path / "v.xlsx",
        {"name": "说明", "rows": [["说明"]]},
        {"name": "隐藏", "rows": [VOLUNTEER_HEADER, volunteer_row(1)], "hidden": True},
    )
    layout = layout_of(path)
    assert layout.sheet.name == "隐藏" and layout.sheet.visible is False


# ---------------------------------------------------------------- data rows


def test_district_merged_down_is_forward_filled(tmp_path):
    layout = layout_of(write_xlsx(tmp_path / "f.xlsx", flood_two_row_sheet()))
    rows = data_rows(layout).rows
    assert [r for r, _ in rows] == [4, 5, 6]
    assert [cells[1] for _, cells in rows] == ["溪湖区", "溪湖区", "溪湖区"]
    assert [cells[2] for _, cells in rows] == ["河西街道", "彩屯街道", "东风街道"]
    assert layout.sheet.rows[5][1] == ""  # the raw sheet is not changed


def test_district_not_merged_is_not_filled(tmp_path):
    layout = layout_of(write_xlsx(tmp_path / "f.xlsx", flood_two_row_sheet(district_merged=False)))
    assert [cells[1] for _, cells in data_rows(layout).rows] == ["溪湖区", "", ""]


def test_total_row_is_kept_apart(tmp_path):
    layout = layout_of(write_xlsx(tmp_path / "f.xlsx", flood_two_row_sheet()))
    result = data_rows(layout)
    assert [r for r, _ in result.total_rows] == [7]
    assert result.total_rows[0][1][0] == "合计"
    assert result.total_rows[0][1][3] == 60
    assert all(cells[0] != "合计" for _, cells in result.rows)


@pytest.mark.parametrize("marker", ["合计", "总计", "小计", "合 计", "总", "汇总", "汇 总", "汇总："])
def test_total_markers(tmp_path, marker):
    rows = [VOLUNTEER_HEADER, volunteer_row(1), [marker, "", "", "", "", 31, 10], volunteer_row(2)]
    result = data_rows(layout_of(write_csv(tmp_path / "v.csv", rows)))
    assert [r for r, _ in result.total_rows] == [2]
    assert [r for r, _ in result.rows] == [1, 3]


def test_a_row_whose_first_cell_only_begins_with_huizong_is_data(tmp_path):
    """An Excel table's 汇总行 is labelled 汇总 alone; a team named 汇总… is data."""
    rows = [VOLUNTEER_HEADER, volunteer_row(1), ["汇总报送志愿队", "", "", "", "", 31, 10], volunteer_row(2)]
    result = data_rows(layout_of(write_csv(tmp_path / "v.csv", rows)))
    assert result.total_rows == []
    assert [r for r, _ in result.rows] == [1, 2, 3]


def test_footer_stops_data(tmp_path):
    extra = [flood_row("石桥子街道", "溪湖区", 9)]  # anything below the footer is not data
    layout = layout_of(write_xlsx(tmp_path / "f.xlsx", flood_two_row_sheet(extra=extra)))
    result = data_rows(layout)
    assert result.footer_row == 8
    assert [r for r, _ in result.rows] == [4, 5, 6]


@pytest.mark.parametrize(
    "footer",
    [
        "填报人：张三",
        "审核人：李四",
        "联系电话：024-1234567",
        "制表人：王五",
        "负责人：赵六",
        "填报日期：2022年3月31日",
    ],
)
def test_footer_markers(tmp_path, footer):
    rows = [VOLUNTEER_HEADER, volunteer_row(1), ["", "", footer], volunteer_row(2)]
    result = data_rows(layout_of(write_csv(tmp_path / "v.csv", rows)))
    assert result.footer_row == 2
    assert [r for r, _ in result.rows] == [1]


def test_blank_rows_are_skipped(tmp_path):
    rows = [VOLUNTEER_HEADER, volunteer_row(1), [], ["", "", ""], volunteer_row(2)]
    result = data_rows(layout_of(write_csv(tmp_path / "v.csv", rows)))
    assert [r for r, _ in result.rows] == [1, 4]


def test_rows_are_classified_at_once_as_one_by_one():
    """classify_rows decides most rows from their first characters; every row must get the kind
    classify_row would give it, whatever its cells hold (numbers, dates, None, whitespace, short rows)."""
    import datetime as dt

    from etl.ingest.parse.layout import classify_row, classify_rows

    grid = [
        ["header"],
        [1, "明山区", 3.5],
        [None, "", "  "],
        ["\u3000", None],
        [None, "合计", 5],
        ["合 计", "", 9],
        ["总", 1],
        [dt.date(2021, 7, 29), "溪湖区", 2],
        [0, False, None],
        ["小计", 3],
        ["", None, "张三"],
        [None, 7],
        ["合作社", 4],
        [True],
        [],
        ["  12", "x"],
        [2, "审核人：李四"],
        [3, "after the footer"],
    ]
    rows = classify_rows(grid, 1)
    expected = {"data": [], "total": []}
    footer = None
    for r in range(1, len(grid)):
        kind = classify_row(grid[r])
        if kind == "footer":
            footer = r
            break
        if kind in expected:
            expected[kind].append(r)
    assert footer == 16
    assert [r for r, _ in rows.rows] == expected["data"] == [1, 7, 8, 10, 11, 12, 13, 15]
    assert [r for r, _ in rows.total_rows] == expected["total"] == [4, 5, 6, 9]
    assert rows.footer_row == footer
    assert all(cells is grid[r] for r, cells in rows.rows)  # the grid's own rows, not copies


CELLS = [None, "", " ", "\u3000", "N", "None", "nan", float("nan"), 0, 7, 3.5, True, "明山区", "合计", "合 计", "总计",
         "小计", "汇总", "汇 总：", "汇总报送", "填报人：张三", "审核人", "注：", "  12", "x", "全区合计", "明山区合计：",
         "共计", "计划", "2021合计", "说明：见附表", "说明书", "附表", "注册登记"]  # fmt: skip


@settings(max_examples=120)
@given(
    grid=st.lists(st.lists(st.sampled_from(CELLS), max_size=5), min_size=1, max_size=30),
    start=st.integers(0, 3),
)
def test_generated_rows_are_classified_at_once_as_one_by_one(grid, start):
    """classify_rows against classify_row on generated grids: None, "N" and "None" (a None reads "N" in the
    vectorised test), NaN, blanks, whitespace, 合计 and footer cells anywhere in a row."""
    from etl.ingest.parse.layout import classify_row, classify_rows

    rows = classify_rows(grid, start)
    data, totals, footer = [], [], None
    for r in range(start, len(grid)):
        kind = classify_row(grid[r])
        if kind == "footer":
            footer = r
            break
        {"data": data, "total": totals}.get(kind, []).append(r)
    assert [r for r, _ in rows.rows] == data
    assert [r for r, _ in rows.total_rows] == totals
    assert rows.footer_row == footer


@settings(max_examples=60, deadline=None)
@given(
    row=st.sampled_from(
        [["合计", None, 5], ["", "合 计", 5], ["填报人：张三", None], ["汇总", 3], ["", None], ["南芬区", 1]]
    ),
    character=st.sampled_from(["\u200b", "\u202d", "\u2060", "\ufeff", "\u00ad"]),
    at=st.integers(0, 3),
)
def test_invisible_characters_in_a_row_do_not_change_what_kind_of_row_it_is(row, character, at):
    """A 合计 or 填报人 cell copied from a web page or a phone, with a zero-width space or a direction mark in
    it, is still the total or the footer (and a cell holding only one is blank) — on the vectorised path
    and row by row."""
    from etl.ingest.parse.layout import classify_row, classify_rows

    def dirty(cell):
        if not isinstance(cell, str):
            return cell
        position = at % (len(cell) + 1)
        return cell[:position] + character + cell[position:]

    kind = classify_row(row)
    seen = [dirty(cell) for cell in row]
    assert classify_row(seen) == kind
    rows = classify_rows([["表头", "x", "y"], seen, ["南芬区", 1, 2]], 1)
    assert (1 in {r for r, _ in rows.total_rows}) == (kind == "total")
    assert (rows.footer_row == 1) == (kind == "footer")
    assert (1 in rows.indices) == (kind == "data")


# ----------------------------------------------------------------- what ends a table, what is its total


def write_flood(folder: Path, rows: list[list[object]], merges: list[tuple[int, int, int, int]]) -> Path:
    """溪湖区's daily report of ``rows`` with the cells of each (first row, first column, last row, last
    column) merged (1-based); returns its path under ``folder``/溪湖区."""
    path = folder / "溪湖区" / "溪湖区防汛日报2021-07-29.xlsx"
    path.parent.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for r1, c1, r2, c2 in merges:
        sheet.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
    book.save(path)
    return path


TOTAL_LABELS = ["合计", "合 计", "总计", "共计", "全区合计", "溪湖区合计", "全区总计：", "总合计"]
NOTES = ["注：出动人员含志愿者。", "说明：数据截至当日17时", "备注:车辆含租用", "附表：物资使用情况"]


@settings(max_examples=40, deadline=None)
@given(
    streets=st.lists(st.sampled_from(["河西街道", "彩屯街道", "东风街道", "日月岛街道"]), min_size=1, max_size=4),
    label=st.sampled_from(TOTAL_LABELS),
    merged_down=st.sampled_from([None, "date", "district"]),
    note=st.sampled_from([None, *NOTES]),
)
def test_totals_notes_and_annexes_under_the_table_are_no_data(tmp_path_factory, streets, label, merged_down, note):
    """A flood report as clerks lay it out: the total labelled 合计 or named (全区合计, 溪湖区合计), the date or
    the district merged down over every row the total's included, a note or an annex (with a table of its
    own) under it. Only the street rows are data; the total row is one, found as such; nothing below it."""
    from etl.ingest.parse.tables import parse_file

    header = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", "出动车辆（台次）"]
    rows = [header] + [["2021-07-29", "溪湖区", street, 10 * (i + 1), 1] for i, street in enumerate(streets)]
    total = [label, None, None, sum(r[3] for r in rows[1:]), len(streets)]
    if merged_down == "date":  # 日期 merged down over the streets and the total: the label goes in the next cell
        total = [None, label, None, *total[3:]]
    rows.append(total)
    if note:
        rows += [[note], ["物资", "数量"], ["沙袋", 500]]
    column = {"date": 1, "district": 2}.get(merged_down)
    last = len(streets) + 1 + (merged_down == "date")  # the date over the total row too
    path = write_flood(tmp_path_factory.mktemp("t"), rows, [(2, column, last, column)] if column else [])
    report = parse_file(path, inbox=path.parent.parent)
    assert report.frame["street"].tolist() == streets
    assert [t["row"] for t in report.total_rows] == [len(streets) + 2]
    assert report.frame["personnel"].tolist() == [10 * (i + 1) for i in range(len(streets))]
    quoted = " ".join(f.message_zh for f in report.findings)
    assert label.strip("：") not in quoted and "物资" not in quoted and "沙袋" not in quoted, quoted


@settings(max_examples=30, deadline=None)
@given(
    personnel=st.lists(st.integers(1, 99), min_size=2, max_size=5),
    vehicles=st.integers(1, 9),
    span=st.integers(2, 5),
)
def test_a_figure_merged_down_over_rows_is_counted_once(tmp_path_factory, personnel, vehicles, span):
    """出动车辆 4 merged over two streets' rows (vehicles they shared) is 4 vehicles, not 4 in each row: the
    value stays in the range's first row, the others are empty, and a warning names the range. A merged
    district or date still belongs to every row."""
    from etl.ingest.parse.tables import parse_file

    span = min(span, len(personnel))
    streets = ["河西街道", "彩屯街道", "东风街道", "日月岛街道", "石桥子街道"][: len(personnel)]
    rows = [["日期", "区县", "街道（乡镇）", "出动人员（人次）", "出动车辆（台次）"]]
    rows += [["2021-07-29", "溪湖区", street, n, 1] for street, n in zip(streets, personnel, strict=True)]
    rows[1][4] = vehicles
    merges = [(2, 5, 1 + span, 5), (2, 2, 1 + len(personnel), 2)]  # the vehicles, and the district
    path = write_flood(tmp_path_factory.mktemp("m"), rows, merges)
    report = parse_file(path, inbox=path.parent.parent)
    frame = report.frame
    assert frame["district"].tolist() == ["210503"] * len(personnel)
    assert frame["personnel"].tolist() == personnel
    shared = frame["vehicles"].tolist()
    assert shared[0] == vehicles and sum(v for v in shared[:span] if v == v and v is not None) == vehicles
    merged = [f for f in report.findings if f.rule == "merged_figure"]
    assert [(f.cell, f"「{vehicles}」" in f.message_zh) for f in merged] == [("E2", True)]  # as typed, not 4.0


@pytest.mark.parametrize("today", ["当日", "本日", "当 日"])
@pytest.mark.parametrize("cumulative", [None, "累计", "本月累计"])
def test_the_days_figures_under_a_group_header_are_read_and_a_running_total_beside_them_is_said(
    tmp_path, today, cumulative
):
    """日期 | 区县 | 街道 merged down two rows, 当日 over 出动人员 | 车辆 | 垃圾, and perhaps 累计 over the same three:
    the day's figures are the contract's columns (the file was rejected: the header read as data, required
    columns missing); the running totals are columns nobody knows, said and not loaded."""
    from etl.ingest.parse.tables import parse_file

    figures = ["出动人员（人次）", "出动车辆（台次）", "清运垃圾（吨）"]
    groups = [today] + ([cumulative] if cumulative else [])
    path = tmp_path / "溪湖区" / "溪湖区防汛日报2021-07-29.xlsx"
    path.parent.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["日期", "区县", "街道（乡镇）"] + [cell for g in groups for cell in (g, None, None)])
    sheet.append([None, None, None] + figures * len(groups))
    sheet.append(["2021-07-29", "溪湖区", "河西街道"] + [10, 2, 3] + ([100, 20, 30] if cumulative else []))
    for column in (1, 2, 3):
        sheet.merge_cells(start_row=1, start_column=column, end_row=2, end_column=column)
    for i in range(len(groups)):
        sheet.merge_cells(start_row=1, start_column=4 + 3 * i, end_row=1, end_column=6 + 3 * i)
    book.save(path)

    report = parse_file(path, inbox=tmp_path)
    assert report.frame[["personnel", "vehicles", "garbage_tons"]].values.tolist() == [[10, 2, 3.0]]
    said = [(f.rule, f.cell) for f in report.findings]
    assert said == ([("unknown_column", c) for c in ("G2", "H2", "I2")] if cumulative else [])  # their own cells


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("城镇新增就业累计", "data"),  # a task's name that ends like a total
        ("附件材料电子化", "data"),  # a task's name that begins like an annex
        ("附件厂宿舍改造", "data"),
        ("说明书印制", "data"),
        ("注册登记便利化", "data"),
        ("全区合计", "total"),
        ("明山区合计", "total"),
        ("北地街道小计", "total"),
        ("附表1 物资使用情况", "footer"),
        ("附件2：联系人", "footer"),
        ("注：含志愿者", "footer"),
        *[
            (label, "total")
            for label in (
                "本日合计",
                "本页小计",
                "以上合计",
                "市本级小计",
                "市直合计",
                "县直合计",
                "街道办事处小计",
                "社区居委会合计",
                "本年累计",
                "各街道合计",
                "社区卫生环境类小计",
                "以上合计：3项",
            )
        ],
        *[
            (heading, "footer")
            for heading in ("附表（一）物资使用情况", "附件（1）", "附表A", "附表", "附件 物资使用情况")
        ],
    ],
)
def test_names_that_look_like_a_total_or_an_annex_are_data(cell, kind):
    """A review found 城镇新增就业累计 read as a total and 附件材料电子化 ending the table, every row after it
    dropped without a word: a named total names the whole or a place, an annex has a number or a colon."""
    from etl.ingest.parse.layout import classify_row, classify_rows

    assert classify_row([cell, "明山区", 3]) == kind
    rows = classify_rows([["实事名称", "区县", "数"], [cell, "明山区", 3], ["背街小巷整治", "明山区", 1]], 1)
    assert [r for r, _ in rows.rows] == {"data": [1, 2], "total": [2], "footer": []}[kind]


def test_a_row_number_merged_over_a_tasks_rows_is_no_figure(tmp_path):
    """序号 merged down over a task's two rows numbers them both: no merged-figure warning, no empty 序号."""
    from etl.ingest.parse.tables import parse_file

    path = tmp_path / "明山区" / "明山区办实事台账2021年12月.xlsx"
    path.parent.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "实事名称", "区县", "牵头单位", "类别", "计划完成时间", "完成状态", "实际完成时间"])
    sheet.append([1, "背街小巷整治（一期）", "明山区", "住建局", "环境", "2021-12-31", "推进中", None])
    sheet.append([None, "背街小巷整治（二期）", "明山区", "住建局", "环境", "2021-12-31", "推进中", None])
    sheet.merge_cells("A2:A3")
    book.save(path)
    report = parse_file(path, inbox=tmp_path)
    assert report.frame["seq"].tolist() == [1, 1]
    assert [f.rule for f in report.findings] == []
