"""Deterministic benchmark inputs, written into a folder the benchmark owns.

* ``write_register(inbox)`` — one 24,671-row 政务服务事项清单 (service item register) for 市本级, with the
  canonical headers of the official template, a merged title row and the 填表说明 sheet: the rows of the
  seven demo registers (demo.service_items, seeded) written as one city-level register, so the values (是/否,
  codes, departments, time limits) are the demo's. Saved with fixed zip timestamps: byte-identical runs.
* ``write_hotline_csv(inbox, rows)`` — a month of 12345 tickets for 明山区 as the platform exports them
  (UTF-8 with BOM, CRLF, canonical headers, times as text), streamed to disk with the csv module. Every
  value comes from ``random.Random(SEED)``. A few bad rows are planted so quarantine is exercised:
  ``BAD_ROWS`` says which kinds and how often.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, time, timedelta
from pathlib import Path

SEED = 20220105
REGISTER_ROWS = 24_671
HOTLINE_DISTRICT = "明山区"
HOTLINE_PERIOD = "2021-09"
CATEGORIES = (
    "城市管理",
    "供热供暖",
    "物业管理",
    "市政设施",
    "环境保护",
    "交通出行",
    "社会保障",
    "住房保障",
    "市场监管",
    "医疗卫生",
    "教育",
    "其他",
)
SATISFACTION = ("满意", "基本满意", "不满意", "未评价")
HOTLINE_HEADERS = ("工单编号", "受理时间", "区县", "街道", "诉求类别", "首次答复时间", "办结时间", "满意度")
# Every BAD_EVERY-th row (offset per kind) carries one planted error; each is an error-severity finding
# on a cell, so the row is quarantined and the rest of the file is loaded.
BAD_EVERY = 50_000
BAD_ROWS = {
    7: "received_at not a datetime (2021-09-31 25:61)",
    17: "satisfaction outside the allowed set (很满意)",
    29: "category blank",
    41: "first reply before receipt",
}


def register_path(inbox: Path) -> Path:
    return inbox / "市本级" / "市本级_政务服务事项清单_2021Q4.xlsx"


def write_register(inbox: Path) -> Path:
    """The 24,671-row city register (canonical headers), as demo.service_items writes a register."""
    from openpyxl import Workbook

    from demo.common import save_xlsx
    from demo.service_items import SERVICE_CANONICAL, SERVICE_ITEM_COUNTS, SERVICE_ORDER, service_rows

    wb = Workbook()
    notes = wb.active
    notes.title = "填表说明"
    notes["A1"] = "请按模板填写，是否类填“是/否”，时限单位为工作日；不进驻政务服务中心的依申请事项须填写不进厅原因。"
    ws = wb.create_sheet("事项清单")
    order = SERVICE_ORDER
    ws.cell(1, 1, "本溪市政务服务事项清单（2021年第四季度）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(order))
    ws.append([SERVICE_CANONICAL[c] for c in order])
    rows = [row for unit in SERVICE_ITEM_COUNTS for row in service_rows(unit)]
    assert len(rows) == REGISTER_ROWS
    code_col = order.index("item_code") + 1
    for r, row in enumerate(rows, start=3):
        values = dict(row, district="市本级")
        for name in ("is_application", "in_service_hall", "online"):
            values[name] = "是" if row[name] else "否"
        ws.append([values[c] for c in order])
        ws.cell(r, code_col).number_format = "@"
    path = register_path(inbox)
    save_xlsx(wb, path, datetime(2022, 1, 5, 9, 30))
    return path


def hotline_path(inbox: Path, rows: int) -> Path:
    return inbox / HOTLINE_DISTRICT / f"{HOTLINE_DISTRICT}_12345热线工单_{HOTLINE_PERIOD}_{rows}.csv"


def write_hotline_csv(inbox: Path, rows: int = 1_000_000, seed: int = SEED) -> tuple[Path, int]:
    """Stream ``rows`` tickets to disk; returns the path and how many rows carry a planted error."""
    from etl.reference.places import default_places

    places = default_places()
    district_code = places.resolve_district(HOTLINE_DISTRICT).code
    streets = sorted(name for (code, name) in places.streets if code == district_code)
    rng = random.Random(f"{seed}:hotline:{rows}")
    hour_weights = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 14, 10, 12, 14, 14, 12, 10, 8, 6, 5, 4, 2, 1]
    export_at = datetime(2021, 10, 1, 9, 0)
    path = hotline_path(inbox, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    bad = 0
    every = max(100, min(BAD_EVERY, rows // 20))  # small files get their bad rows too
    # received times in file order: spread over September, ascending like the platform's export
    start = datetime(2021, 9, 1)
    span = 30 * 86_400
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HOTLINE_HEADERS)
        fmt = "%Y-%m-%d %H:%M:%S"
        for seq in range(rows):
            offset = seq * span // rows + rng.randrange(max(1, span // rows))
            received = start + timedelta(seconds=offset)
            if rng.random() < 0.3:  # night-time tickets are rarer: move some into office hours
                received = datetime.combine(
                    received.date(), time(rng.choices(range(24), hour_weights)[0], rng.randrange(60), rng.randrange(60))
                )
            reply = received + timedelta(
                minutes=rng.choices(
                    (rng.randint(5, 60), rng.randint(61, 119), 120, rng.randint(121, 300), rng.randint(301, 900)),
                    (55, 25, 2, 12, 6),
                )[0]
            )
            closed = reply + timedelta(
                hours=rng.choices(
                    (rng.randint(1, 8), rng.randint(9, 48), rng.randint(49, 120), rng.randint(121, 300)),
                    (20, 40, 30, 10),
                )[0]
            )
            satisfaction = rng.choices(SATISFACTION, (56, 20, 8, 16))[0]
            if reply > export_at:
                reply = None
            if closed > export_at:
                closed, satisfaction = None, ""
            record = [
                f"BX04{received:%y%m%d}{seq:07d}",
                received.strftime(fmt),
                HOTLINE_DISTRICT,
                rng.choice(streets),
                rng.choice(CATEGORIES),
                reply.strftime(fmt) if reply else "",
                closed.strftime(fmt) if closed else "",
                satisfaction,
            ]
            kind = seq % every
            if kind in BAD_ROWS and seq >= every:
                bad += 1
                if kind == 7:
                    record[1] = "2021-09-31 25:61"
                elif kind == 17:
                    record[7] = "很满意"
                elif kind == 29:
                    record[4] = ""
                else:
                    record[5] = (received - timedelta(hours=3)).strftime(fmt)
            writer.writerow(record)
    return path, bad


HELD_BACK_EVERY = 3  # the spoiled export: every third ticket answers 很满意, outside the allowed set


def spoiled_hotline_path(inbox: Path, rows: int) -> Path:
    return inbox / HOTLINE_DISTRICT / f"{HOTLINE_DISTRICT}_12345热线工单_{HOTLINE_PERIOD}_{rows}_很满意.csv"


def write_spoiled_hotline_csv(source: Path, inbox: Path, rows: int) -> tuple[Path, int]:
    """The export at ``source`` with every HELD_BACK_EVERY-th ticket's 满意度 written 很满意: a third of a
    million rows that one GX rule holds back, each to be recorded with its values. Returns the path and
    how many tickets were spoiled."""
    path = spoiled_hotline_path(inbox, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    spoiled = 0
    with source.open(encoding="utf-8-sig", newline="") as src, path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        for seq, record in enumerate(csv.reader(src)):
            if seq and seq % HELD_BACK_EVERY == 0:
                record[7] = "很满意"
                spoiled += 1
            writer.writerow(record)
    return path, spoiled
