"""Build small district workbooks inside tests, each shaped to exercise one case."""

from __future__ import annotations

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
