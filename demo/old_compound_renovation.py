"""Demo **old_compound_renovation** (老旧小区改造项目台账), period 2022-12: 明山区's December 2022 ledger.

One xlsx, ``明山区/明山区_老旧小区改造项目台账_2022-12.xlsx``, laid out like the other district ledgers: a
merged title ``明山区老旧小区改造项目台账（2022年12月）``, a 填报单位 / 填报日期 line, the header (the
contract's canonical headers), one row per compound project, a 合计 row whose numbers are the column sums
and a 填报人 / 审核人 / 联系电话 footer. 区县 is merged down the data rows, as 明山区 writes its ledgers.

The seed figures (``RENOVATION_TOTALS``): 13 compounds in the 明山街道, 北地街道 and 高峪街道 streets, 85
residential buildings, 5,113 households, a total investment of 7,874.97 万元, 166 video points and 334
access-controlled doors (智慧小区). Investments are generated in 0.01 万元 (``investment_fen``) and split
exactly, so the cells add up to 7,874.97 to the cent.

As clerks write them: the 北地街道 rows (and one 高峪街道 row) name their street without the 街道 suffix
(北地, 高峪); 改造内容 lists the kinds of work separated by 、 on some rows and ， on others; 计划完工时间 is a
date cell on most rows and typed as text on six (2023年10月31日, 2023.8.31). Every 计划完工时间 is a month end
on or before 2023-12-31. (A bare month such as 2023年10月 is not written: etl.ingest.parse.values.parse_date does not
read it, and a value_format error rejects the whole ledger.) At the end of December 2022, 3 projects are
已完工, 9 在建 and 1 未开工 (no 开工日期 yet); one 在建 project was due 2022-11-30, so it is overdue
(``RENOVATION_OVERDUE``).

Dropped on 2023-01-04 10:00, before the deadline 2023-01-05 24:00.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from demo import common
from demo.common import apportion, exact_split, inbox_of, save_xlsx

REPORT_TYPES = ("old_compound_renovation",)
PERIOD = "2022-12"
PERIODS = {"old_compound_renovation": PERIOD}
FILE_MARKER = "_老旧小区改造项目台账_"
DISTRICT = "明山区"
LEDGER_END = date(2022, 12, 31)
DUE_BY = date(2023, 12, 31)  # no 计划完工时间 is later
SUBMITTED_AT = datetime(2023, 1, 4, 10, 0)  # due 2023-01-05 24:00

RENOVATION_TOTALS = dict(
    projects=13, buildings=85, households=5113, investment_10k_yuan="7874.97", cameras=166, access_doors=334
)
INVESTMENT_FEN = int(Decimal(RENOVATION_TOTALS["investment_10k_yuan"]) * 100)  # in 0.01 万元
# street → compounds renovated there
STREET_PROJECTS = {"明山街道": 5, "北地街道": 4, "高峪街道": 4}
STATUS_COUNTS = {"已完工": 3, "在建": 9, "未开工": 1}
RENOVATION_OVERDUE = 1  # 在建 and due by 2022-12-31
SCOPES = ("楼本体改造", "基础配套设施改造", "燃气管网改造")
assert sum(STREET_PROJECTS.values()) == sum(STATUS_COUNTS.values()) == RENOVATION_TOTALS["projects"]

COLUMNS = (
    "project",
    "district",
    "street",
    "buildings",
    "households",
    "scope",
    "investment_10k_yuan",
    "start_date",
    "due_date",
    "status",
    "cameras",
    "access_doors",
)
HEADERS = {
    "project": "项目名称",
    "district": "区县",
    "street": "街道",
    "buildings": "改造楼栋数（栋）",
    "households": "受益户数（户）",
    "scope": "改造内容",
    "investment_10k_yuan": "总投资（万元）",
    "start_date": "开工日期",
    "due_date": "计划完工时间",
    "status": "工程状态",
    "cameras": "视频监控点位（个）",
    "access_doors": "门禁（个）",
}
TOTAL_COLUMNS = ("buildings", "households", "investment_10k_yuan", "cameras", "access_doors")

# compounds a street could have renovated (made up; the reference data has streets only)
_COMPOUNDS = {
    "明山街道": ("明珠小区", "向阳小区", "东兴花园", "富民小区", "明山二委小区", "工人村小区", "光明小区"),
    "北地街道": ("北地一号院", "永丰小区", "钢城小区", "北山小区", "建设小区", "新华小区"),
    "高峪街道": ("高峪小区", "育才小区", "南山小区", "峪明小区", "胜利小区", "和平小区"),
}
_SHORT_STREET_ROWS = {"北地街道": "all", "高峪街道": 1}  # street → which rows drop 街道 (all, or one row index)
_SCOPE_CHOICES = (
    (("楼本体改造", "基础配套设施改造"), 30),
    (("楼本体改造", "基础配套设施改造", "燃气管网改造"), 35),
    (("基础配套设施改造", "燃气管网改造"), 15),
    (("楼本体改造", "燃气管网改造"), 10),
    (("基础配套设施改造",), 10),
)
_DONE_DUE = (date(2022, 9, 30), date(2022, 10, 31), date(2022, 11, 30))
_OPEN_DUE = (
    date(2023, 5, 31),
    date(2023, 6, 30),
    date(2023, 8, 31),
    date(2023, 9, 30),
    date(2023, 10, 31),
    date(2023, 11, 30),
    date(2023, 12, 31),
)


def _month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _start(rng, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def renovation_rows() -> list[dict]:
    """The ledger's rows in file order, with python values: project, district, street (as written),
    street_name (canonical), buildings, households, scope (as written), investment_fen (int, 0.01 万元),
    investment_10k_yuan (Decimal), start_date (date or None), due_date (date), due_text (the text written
    instead of a date cell, or None), status, cameras, access_doors."""
    rng = common.rng("old_compound_renovation", DISTRICT, PERIOD)
    n = RENOVATION_TOTALS["projects"]
    drafts = []  # (street, project)
    for street, count in STREET_PROJECTS.items():
        drafts += [(street, name) for name in rng.sample(_COMPOUNDS[street], count)]
    buildings = exact_split(rng, RENOVATION_TOTALS["buildings"], n, 3, 11)
    households = apportion(RENOVATION_TOTALS["households"], [b * rng.uniform(48, 72) for b in buildings])
    scopes = [rng.choices([s for s, _w in _SCOPE_CHOICES], [w for _s, w in _SCOPE_CHOICES])[0] for _ in range(n)]
    investment = apportion(
        INVESTMENT_FEN,
        [
            h * (1 + 0.3 * ("燃气管网改造" in s) + 0.2 * ("楼本体改造" in s)) * rng.uniform(0.85, 1.15)
            for h, s in zip(households, scopes)
        ],
    )
    cameras = apportion(RENOVATION_TOTALS["cameras"], [b * rng.uniform(0.8, 1.2) for b in buildings], minimum=4)
    doors = apportion(RENOVATION_TOTALS["access_doors"], [b * rng.uniform(0.9, 1.1) for b in buildings], minimum=6)
    statuses = [s for s, k in STATUS_COUNTS.items() for _ in range(k)]
    rng.shuffle(statuses)
    overdue = set(rng.sample([i for i, s in enumerate(statuses) if s == "在建"], RENOVATION_OVERDUE))
    rows = []
    seen: dict[str, int] = {}
    for i, ((street, project), status) in enumerate(zip(drafts, statuses, strict=True)):
        k = seen[street] = seen.get(street, -1) + 1
        short = _SHORT_STREET_ROWS.get(street)
        written_street = street.removesuffix("街道") if short == "all" or short == k else street
        if status == "已完工":
            start, due = _start(rng, date(2022, 4, 1), date(2022, 6, 15)), rng.choice(_DONE_DUE)
        elif status == "在建":
            start = _start(rng, date(2022, 5, 10), date(2022, 10, 20))
            due = date(2022, 11, 30) if i in overdue else rng.choice(_OPEN_DUE)
        else:  # 未开工: planned for 2023, no start date yet
            start, due = None, rng.choice(_OPEN_DUE[3:])
        rows.append(
            {
                "project": project,
                "district": DISTRICT,
                "street": written_street,
                "street_name": street,
                "buildings": buildings[i],
                "households": households[i],
                "scope": ("，" if i % 3 == 1 else "、").join(scopes[i]),
                "investment_fen": investment[i],
                "investment_10k_yuan": Decimal(investment[i]) / 100,
                "start_date": start,
                "due_date": due,
                "due_text": None,
                "status": status,
                "cameras": cameras[i],
                "access_doors": doors[i],
            }
        )
    # some 计划完工时间 typed as text: 2023年10月31日 on four rows, 2023.8.31 on two
    open_rows = [i for i, r in enumerate(rows) if r["due_date"].year == 2023]
    for j, i in enumerate(rng.sample(open_rows, 6)):
        due = rows[i]["due_date"]
        rows[i]["due_text"] = f"{due.year}年{due.month}月{due.day}日" if j < 4 else f"{due.year}.{due.month}.{due.day}"
    assert all(_month_end(r["due_date"]) and r["due_date"] <= DUE_BY for r in rows)
    assert len({r["project"] for r in rows}) == n
    return rows


def write_renovation(inbox: Path) -> Path:
    rows = renovation_rows()
    wb = Workbook()
    ws = wb.active
    ws.title = "12月"
    ncol = len(COLUMNS)
    col = {name: i + 1 for i, name in enumerate(COLUMNS)}
    ws.cell(1, 1, f"{DISTRICT}老旧小区改造项目台账（2022年12月）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(2, 1, f"填报单位：{DISTRICT}住房和城乡建设局")
    ws.cell(2, col["status"], "填报日期：2023年1月4日")
    ws.append([HEADERS[c] for c in COLUMNS])
    for letter, width in zip("ABCDEFGHIJKL", (16, 8, 10, 12, 12, 34, 12, 12, 14, 10, 12, 10)):
        ws.column_dimensions[letter].width = width
    first = 4
    for offset, r in enumerate(rows):
        row = first + offset
        values = {
            "project": r["project"],
            "district": r["district"] if offset == 0 else None,
            "street": r["street"],
            "buildings": r["buildings"],
            "households": r["households"],
            "scope": r["scope"],
            "investment_10k_yuan": float(r["investment_10k_yuan"]),
            "start_date": r["start_date"],
            "due_date": r["due_text"] or r["due_date"],
            "status": r["status"],
            "cameras": r["cameras"],
            "access_doors": r["access_doors"],
        }
        for name, value in values.items():
            cell = ws.cell(row, col[name], value)
            if isinstance(value, date):
                cell.number_format = "yyyy/m/d"
            elif name == "investment_10k_yuan":
                cell.number_format = "0.00"
    last = first + len(rows) - 1
    ws.merge_cells(start_row=first, start_column=col["district"], end_row=last, end_column=col["district"])
    total = last + 1
    ws.cell(total, 1, "合计")
    for name in TOTAL_COLUMNS:
        if name == "investment_10k_yuan":
            ws.cell(total, col[name], float(sum(r["investment_fen"] for r in rows) / 100)).number_format = "0.00"
        else:
            ws.cell(total, col[name], sum(r[name] for r in rows))
    ws.cell(total + 1, 1, "填报人：")
    ws.cell(total + 1, 4, "审核人：")
    ws.cell(total + 1, 7, "联系电话：")
    path = inbox / DISTRICT / f"{DISTRICT}_老旧小区改造项目台账_{PERIOD}.xlsx"
    save_xlsx(wb, path, datetime(2023, 1, 4, 9, 40))
    return path


def write(shared_dir: Path) -> list[Path]:
    """明山区's December 2022 ledger, into shared_dir/'inbox'/明山区/."""
    return [write_renovation(inbox_of(shared_dir))]


def submitted_at(path: Path) -> datetime | None:
    """When the clerk dropped the ledger (due 2023-01-05 24:00); None for any other file."""
    return SUBMITTED_AT if FILE_MARKER in path.name else None
