"""Demo **hotline_tickets**: 12345 hotline exports (12345便民服务热线工单), September 2021.

``write(shared_dir)`` (also ``write_hotline_files``) writes, under ``shared_dir/inbox/<district>/``:

* 明山区, 平山区, 溪湖区 — one xlsx each, ``<district>_12345热线工单_2021-09.xlsx``: a merged title row
  ``<district>12345便民服务热线工单（2021年9月）``, an export line, the header, one row per ticket (datetime
  cells), and for 明山区 a 填报人/审核人 footer. Headers vary the way platform exports do
  (平山区: 工单号 / 来电时间 / 所属区县 / 街道（乡镇）/ 答复时间 / 办结日期 / 回访满意度;
  溪湖区: 受理日期 / 县区 / 所属街道 / 诉求分类 / 满意度评价).
* 南芬区 — one CSV in UTF-8 with BOM (CRLF, no title; times written as text ``2021-09-24 10:05:00``),
  ``南芬区_12345热线工单_2021-09.csv``.

186 tickets from four districts; 本溪县 and 桓仁县 send none, so the completeness views have someone
missing. The export was taken at ``EXPORT_AT`` (2021-10-01 09:00): a reply, closure or satisfaction survey
that would come later is not in the file yet, so late-September tickets are open and/or unrated. Streets
come from etl/reference/places.yaml. ``hotline_tickets(district)`` returns the generated rows (python
values, before any writing) so tests can recompute every indicator; ``PINNED_TICKETS`` are the DOMAIN.md
examples, always present in 明山区's file.

Every export is dropped on 2021-10-02 09:00, before the deadline 2021-10-03 24:00.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from pathlib import Path

from openpyxl import Workbook

from demo import common
from demo.common import CODE, default_places_streets, inbox_of, save_xlsx
from etl.reference.workdays import nth_workday_after

REPORT_TYPES = ("hotline_tickets",)
HOTLINE_PERIOD = "2021-09"
PERIODS = {"hotline_tickets": HOTLINE_PERIOD}
FILE_MARKER = "_12345热线工单_"
EXPORT_AT = datetime(2021, 10, 1, 9, 0)
HOTLINE_DISTRICTS = ("明山区", "平山区", "溪湖区", "南芬区")
TICKET_COUNTS = {"明山区": 64, "平山区": 52, "溪湖区": 44, "南芬区": 26}  # including the pinned tickets
SATISFACTION = ("满意", "基本满意", "不满意", "未评价")
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

# The DOMAIN.md examples and edge cases (明山区):
# (received_at, first_reply_at, closed_at, satisfaction, street, category)
PINNED_TICKETS = (
    # received Monday 10:00 → deadline Thursday 09-16 24:00; closed Thursday afternoon → in time
    (
        datetime(2021, 9, 13, 10, 0),
        datetime(2021, 9, 13, 11, 20),
        datetime(2021, 9, 16, 16, 30),
        "满意",
        "明山街道",
        "城市管理",
    ),
    # received Saturday → deadline Wednesday 09-15 24:00; closed Thursday morning → late
    (
        datetime(2021, 9, 11, 15, 20),
        datetime(2021, 9, 11, 16, 5),
        datetime(2021, 9, 16, 9, 40),
        "基本满意",
        "北地街道",
        "物业管理",
    ),
    # received Friday 09-24 → Sunday 09-26 is a working day (调休) → deadline 09-28 24:00
    (
        datetime(2021, 9, 24, 9, 30),
        datetime(2021, 9, 24, 10, 15),
        datetime(2021, 9, 28, 20, 0),
        "满意",
        "高峪街道",
        "市政设施",
    ),
    # same Friday; reply exactly 2 h later (in time); closed 09-29 09:00 → late
    (
        datetime(2021, 9, 24, 14, 10),
        datetime(2021, 9, 24, 16, 10),
        datetime(2021, 9, 29, 9, 0),
        "不满意",
        "新明街道",
        "供热供暖",
    ),
    # reply 2 h 1 min later → not in time
    (
        datetime(2021, 9, 13, 8, 30),
        datetime(2021, 9, 13, 10, 31),
        datetime(2021, 9, 14, 17, 0),
        "未评价",
        "牛心台街道",
        "环境保护",
    ),
    # received the last evening of the month: no reply yet when the export was taken
    (datetime(2021, 9, 30, 22, 15), None, None, None, "高台子街道", "其他"),
)

_ORDER = ("ticket_id", "received_at", "district", "street", "category", "first_reply_at", "closed_at", "satisfaction")
_CANONICAL = {
    "ticket_id": "工单编号",
    "received_at": "受理时间",
    "district": "区县",
    "street": "街道",
    "category": "诉求类别",
    "first_reply_at": "首次答复时间",
    "closed_at": "办结时间",
    "satisfaction": "满意度",
}
# district → (header overrides, district as the clerk writes it, datetime number format, sheet name)
_LAYOUT: dict[str, tuple[dict[str, str], str, str, str]] = {
    "明山区": ({}, "明山区", "yyyy-mm-dd hh:mm", "工单明细"),
    "平山区": (
        {
            "ticket_id": "工单号",
            "received_at": "来电时间",
            "district": "所属区县",
            "street": "街道（乡镇）",
            "first_reply_at": "答复时间",
            "closed_at": "办结日期",
            "satisfaction": "回访满意度",
        },
        "平山区",
        "yyyy/m/d h:mm",
        "Sheet1",
    ),
    "溪湖区": (
        {
            "received_at": "受理日期",
            "district": "县区",
            "street": "所属街道",
            "category": "诉求分类",
            "satisfaction": "满意度评价",
        },
        "溪湖",
        "yyyy-mm-dd hh:mm:ss",
        "9月工单",
    ),
    "南芬区": ({}, "南芬区", "", ""),
}


def _prefix(district: str) -> str:
    return f"BX{CODE[district][-2:]}"


def _random_ticket(rng, district: str, streets: list[str]) -> dict:
    day = date(2021, 9, rng.randint(1, 30))
    hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 16, 14, 10, 12, 14, 14, 12, 10, 8, 6, 5, 4, 2, 1]
    )[0]
    received = datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)))
    delay = rng.choices(((5, 60), (61, 119), (120, 120), (121, 300), (301, 900)), weights=(55, 25, 2, 12, 6))[0]
    reply = received + timedelta(minutes=rng.randint(*delay), seconds=rng.randint(0, 59) if delay[0] != 120 else 0)
    # closure on the k-th working day after the day of receipt (k = 0: the same day)
    k = rng.choices((0, 1, 2, 3, 4, 5, 7, 10), weights=(8, 22, 24, 20, 10, 7, 5, 4))[0]
    if k == 0:
        closed = reply + timedelta(minutes=rng.randint(20, 240))
    else:
        closing_day = nth_workday_after(day, k)
        closed = datetime.combine(closing_day, time(rng.randint(8, 20), rng.randint(0, 59)))
        closed = max(closed, reply + timedelta(minutes=30))
    satisfaction = rng.choices(SATISFACTION, weights=(56, 20, 8, 16))[0]
    return {
        "received_at": received,
        "first_reply_at": reply,
        "closed_at": closed,
        "satisfaction": satisfaction,
        "street": rng.choice(streets),
        "category": rng.choice(CATEGORIES),
    }


def hotline_tickets(district: str) -> list[dict]:
    """The tickets of one district's September 2021 export, in file order (by receipt), with python values:
    ticket_id, received_at, district (as written), street, category, first_reply_at, closed_at (None when
    not closed by EXPORT_AT), satisfaction (None until the survey, one day after closure)."""
    rng = common.rng("hotline_tickets", district)
    streets = default_places_streets(district)
    tickets = []
    if district == "明山区":
        for received, reply, closed, satisfaction, street, category in PINNED_TICKETS:
            tickets.append(
                {
                    "received_at": received,
                    "first_reply_at": reply,
                    "closed_at": closed,
                    "satisfaction": satisfaction,
                    "street": street,
                    "category": category,
                }
            )
    while len(tickets) < TICKET_COUNTS[district]:
        tickets.append(_random_ticket(rng, district, streets))
    tickets.sort(key=lambda t: t["received_at"])
    clerk_district = _LAYOUT[district][1]
    for seq, t in enumerate(tickets, start=1):
        t["ticket_id"] = f"{_prefix(district)}{t['received_at']:%y%m%d}{seq:04d}"
        t["district"] = clerk_district
        # what the export at EXPORT_AT can know
        if t["first_reply_at"] is not None and t["first_reply_at"] > EXPORT_AT:
            t["first_reply_at"] = None
        if t["closed_at"] is not None and t["closed_at"] > EXPORT_AT:
            t["closed_at"] = None
        if t["closed_at"] is None or t["closed_at"] + timedelta(days=1) > EXPORT_AT:
            t["satisfaction"] = None
    return [{c: t[c] for c in _ORDER} for t in tickets]


def _write_xlsx(inbox: Path, district: str) -> Path:
    overrides, _clerk, number_format, sheet = _LAYOUT[district]
    tickets = hotline_tickets(district)
    headers = [overrides.get(c, _CANONICAL[c]) for c in _ORDER]
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.cell(1, 1, f"{district}12345便民服务热线工单（2021年9月）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(_ORDER))
    ws.cell(2, 1, f"导出单位：{district}12345便民服务热线办公室")
    ws.cell(2, 6, f"导出时间：{EXPORT_AT:%Y-%m-%d %H:%M}")
    ws.append(headers)
    for letter, width in zip("ABCDEFGH", (18, 18, 10, 14, 12, 18, 18, 10)):
        ws.column_dimensions[letter].width = width
    first = 4
    datetime_columns = [i + 1 for i, c in enumerate(_ORDER) if c.endswith("_at")]
    for offset, t in enumerate(tickets):
        ws.append([t[c] for c in _ORDER])
        for c in datetime_columns:
            ws.cell(first + offset, c).number_format = number_format
    if district == "明山区":
        ws.cell(first + len(tickets), 1, "填报人：  审核人：  联系电话：")
    path = inbox / district / f"{district}_12345热线工单_{HOTLINE_PERIOD}.xlsx"
    save_xlsx(wb, path, EXPORT_AT)
    return path


def _write_csv(inbox: Path, district: str) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([_CANONICAL[c] for c in _ORDER])
    for t in hotline_tickets(district):
        writer.writerow(
            [
                "" if t[c] is None else f"{t[c]:%Y-%m-%d %H:%M:%S}" if isinstance(t[c], datetime) else t[c]
                for c in _ORDER
            ]
        )
    path = inbox / district / f"{district}_12345热线工单_{HOTLINE_PERIOD}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


def write(shared_dir: Path) -> list[Path]:
    """Write the September 2021 12345 exports into shared_dir/'inbox'/<district>/ and return their paths."""
    inbox = inbox_of(shared_dir)
    return [_write_csv(inbox, d) if d == "南芬区" else _write_xlsx(inbox, d) for d in HOTLINE_DISTRICTS]


write_hotline_files = write


def submitted_at(path: Path) -> datetime | None:
    """When the export was dropped (due 2021-10-03 24:00); None for any other file."""
    if FILE_MARKER not in path.name:
        return None
    return datetime(2021, 10, 2, 9, 0)
