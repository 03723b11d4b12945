"""Build small district workbooks inside tests, each shaped to exercise one case."""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

SERVICE_HEADER = [
    "事项编码",
    "事项名称",
    "实施部门",
    "所属区县",
    "事项类型",
    "是否依申请",
    "是否进驻政务服务中心",
    "不进厅原因",
    "是否网上可办",
    "法定时限（工作日）",
    "承诺时限（工作日）",
    "最多跑动次数",
]


def write_xlsx(path: Path, rows: list[list[object]], title: str | None = None, sheet: str = "Sheet1") -> Path:
    """One sheet: an optional merged title row, then the given rows (header first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(r) for r in rows))
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def service_item(
    code: str,
    district: str = "明山区",
    *,
    is_application="是",
    in_hall="是",
    reason=None,
    item_type="行政许可",
    legal=20,
    promised=10,
    visits=0,
) -> list[object]:
    return [
        code,
        f"事项{code[-3:]}",
        f"{district}行政审批局",
        district,
        item_type,
        is_application,
        in_hall,
        reason,
        "是",
        legal,
        promised,
        visits,
    ]


def write_workbook(path: Path, sheets: list[tuple[str, list[list[object]], bool]]) -> Path:
    """Several sheets, each (name, rows with the header first, visible), in this order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows, visible in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if not visible:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


HOTLINE_CSV_HEADER = "工单编号,受理时间,区县,街道,诉求类别,首次答复时间,办结时间,满意度"
HOTLINE_STREETS = ("明山街道", "北地街道", "高峪街道", "新明街道", "牛心台街道", "高台子街道")


# 12345 rows spoiled by kind: kind → (rule the finding is counted under, how the kind spoils row ``cells``)
PLANTED = {
    "other_district": ("district_mismatch", lambda cells: cells.__setitem__(2, "平山区")),
    "no_time": ("value_format", lambda cells: cells.__setitem__(1, "2021-09-31 25:61")),
    "odd_satisfaction": ("gx:expect_column_values_to_be_in_set", lambda cells: cells.__setitem__(7, "很满意")),
    "no_category": ("gx:expect_column_values_to_not_be_null", lambda cells: cells.__setitem__(4, "")),
    "reply_first": (
        "gx:expect_column_pair_values_a_to_be_greater_than_b",
        lambda cells: cells.__setitem__(5, "2021-09-01 00:00:00"),
    ),
}


def spoiled_hotline_export(kinds: list[str | None], prefix: str = "MS21", category: str = "城市管理") -> str:
    """明山区's clean export, one row per entry of ``kinds``, that row spoiled by its kind (None: clean);
    ``prefix`` of the ticket numbers, ``category`` a CSV field as written."""
    lines = [HOTLINE_CSV_HEADER]
    start = dt.datetime(2021, 9, 1, 8, 0)
    for i, kind in enumerate(kinds):
        received = start + dt.timedelta(minutes=97 * i)
        cells = [
            f"{prefix}{i:06d}",
            f"{received:%Y-%m-%d %H:%M:%S}",
            "明山区",
            HOTLINE_STREETS[i % len(HOTLINE_STREETS)],
            category,
            f"{received + dt.timedelta(minutes=30):%Y-%m-%d %H:%M:%S}",
            f"{received + dt.timedelta(hours=5):%Y-%m-%d %H:%M:%S}",
            "满意",
        ]
        if kind is not None:
            PLANTED[kind][1](cells)
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


def hotline_csv(rows: int = 120, duplicate: bool = False, wide_row_at: int | None = None) -> str:
    """A 12345 export with a title line, blank lines, bad rows of every kind, an unknown street and a
    footer followed by rows that must not be read."""
    rng = random.Random(7)
    lines = ["明山区12345便民服务热线工单（2021年9月）", "", HOTLINE_CSV_HEADER]
    start = dt.datetime(2021, 9, 1, 8, 0)
    for i in range(rows):
        received = start + dt.timedelta(minutes=331 * i)
        reply = received + dt.timedelta(minutes=rng.randint(5, 200))
        closed = reply + dt.timedelta(hours=rng.randint(1, 90))
        cells = [
            f"MS21{i:06d}",
            f"{received:%Y-%m-%d %H:%M:%S}",
            "明山区",
            rng.choice(HOTLINE_STREETS),
            rng.choice(("城市管理", "供热供暖", "其他")),
            f"{reply:%Y-%m-%d %H:%M}",
            f"{closed:%Y/%m/%d %H:%M:%S}",
            rng.choice(("满意", "基本满意", "不满意", "未评价", "")),
        ]
        if i % 17 == 3:
            cells[1] = "2021-09-31 25:61"  # not a date: value_format, quarantined
        if i % 23 == 5:
            cells[7] = "很满意"  # not in the set
        if i % 29 == 7:
            cells[4] = ""  # required value missing
        if i % 31 == 11:
            cells[5] = f"{received - dt.timedelta(hours=2):%Y-%m-%d %H:%M:%S}"  # reply before receipt
        if i % 37 == 13:
            cells[3] = "不存在街道"  # a warning, still loaded
        if i % 41 == 17:
            cells[1] = f"{received:%Y年%m月%d日 %H时%M分}"  # another way of writing it: read by parse_datetime
        if i == 50:
            lines.append("")  # a blank line in the middle
        if duplicate and i == rows - 5:
            cells[0] = "MS21000001"  # the ticket of row 2, far away (another chunk)
        if wide_row_at == i:
            cells.append("多出的一列")
        lines.append(",".join(cells))
    lines += ["填报人：张三,审核人：李四", "MS29999999,2021-09-30 10:00:00,明山区,明山街道,其他,,,"]
    return "\r\n".join(lines) + "\r\n"


def edit_members(path: Path, edit: Callable[[str, bytes], bytes], target: Path | None = None) -> Path:
    """The zip container ``path`` written again (to ``target``, default in place) with each member's bytes
    passed through ``edit(name, data)``: for a file shaped the way another tool saves it."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, edit(info.filename, archive.read(info))) for info in archive.infolist()]
    target = target or path
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return target
