"""Demo **volunteer_activity** (志愿服务活动统计), period 2022-03.

One file per district (no 市本级 file), ``<folder>_志愿服务_2022-03.xlsx``; 南芬区 sends a GBK CSV
(``.csv``, CRLF, no title) like the sample. On 2022-03-04 (``DRIVE_DATE``): 314 distinct 组织单位, 365
distinct 志愿服务队, 11,302 volunteers city-wide (``VOLUNTEER_TOTALS``). Unit and team names carry the
district name so they are unique city-wide.

Submitted on 2022-04-02 10:00, before the deadline 2022-04-05 24:00 — except 南芬区's report, which arrives
late (2022-04-08 11:00).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from demo import common
from demo.common import DISTRICTS, SHORT, communities, default_places_streets, exact_split, inbox_of, save_xlsx

REPORT_TYPES = ("volunteer_activity",)
PERIOD = "2022-03"
PERIODS = {"volunteer_activity": PERIOD}
FILE_MARKER = "_志愿服务_"
LATE_DISTRICTS = {"南芬区"}

DRIVE_DATE = date(2022, 3, 4)
# district → (distinct units, distinct teams, volunteers) on 2022-03-04
VOLUNTEER_DRIVE: dict[str, tuple[int, int, int]] = {
    "平山区": (72, 84, 2590),
    "溪湖区": (64, 75, 2315),
    "明山区": (70, 81, 2506),
    "南芬区": (30, 34, 1052),
    "本溪满族自治县": (42, 49, 1516),
    "桓仁满族自治县": (36, 42, 1323),
}
VOLUNTEER_TOTALS = (314, 365, 11302)
assert tuple(map(sum, zip(*VOLUNTEER_DRIVE.values()))) == VOLUNTEER_TOTALS

# other March days: (date, share of the district's teams out that day, activity types)
_OTHER_DAYS = [
    (date(2022, 3, 5), 0.45, ("助老助残", "环境清洁", "文明交通", "其他")),  # 学雷锋纪念日
    (date(2022, 3, 12), 0.20, ("环境清洁", "其他")),  # 植树节
    (date(2022, 3, 20), 0.15, ("文明交通", "创城", "助老助残")),
    (date(2022, 3, 26), 0.10, ("环境清洁", "助老助残", "其他")),
]
VOLUNTEER_DAYS = [DRIVE_DATE, *(d for d, _s, _t in _OTHER_DAYS)]

_DISTRICT_UNITS = (
    "文明办",
    "新时代文明实践中心",
    "团委",
    "妇联",
    "总工会",
    "教育局",
    "卫生健康局",
    "民政局",
    "城市管理局",
    "市场监督管理局",
    "住房和城乡建设局",
    "应急管理局",
    "司法局",
    "人力资源和社会保障局",
    "退役军人事务局",
    "残联",
    "红十字会",
    "科协",
    "文化旅游和广播电视局",
    "消防救援大队",
    "人民医院",
    "中医院",
    "实验小学",
    "第一中学",
    "第二中学",
    "融媒体中心",
)


@dataclass(frozen=True)
class Team:
    name: str
    unit: str
    home: str  # a place the team usually serves


def volunteer_teams(district: str) -> list[Team]:
    rng = common.rng("volunteer_activity", "teams", district)
    n_units, n_teams, _ = VOLUNTEER_DRIVE[district]
    by_street = communities(rng, district)
    pool: list[tuple[str, list[str]]] = []  # (unit name, places it serves)
    all_places = [f"{s}{c}" for s, cs in by_street.items() for c in cs]
    prefix = SHORT[district]  # the name the clerk writes: 本溪县, 桓仁县, 平山区 …
    for suffix in _DISTRICT_UNITS:
        pool.append((f"{prefix}{suffix}", all_places))
    for street, comms in by_street.items():
        pool.append((f"{prefix}{street}新时代文明实践所", [f"{street}{c}" for c in comms] + [street]))
        for c in comms:
            pool.append((f"{prefix}{street}{c}新时代文明实践站", [f"{street}{c}"]))
    chosen = sorted(rng.sample(range(len(pool)), n_units))
    units = [pool[i] for i in chosen]
    owners = list(range(n_units)) + [rng.randrange(n_units) for _ in range(n_teams - n_units)]
    owners.sort()
    teams = []
    short = SHORT[district]
    for seq, owner in enumerate(owners, start=1):
        unit, places = units[owner]
        name = f"南芬志愿{seq}队" if district == "南芬区" else f"{short}志愿服务队{seq:03d}"
        teams.append(Team(name, unit, rng.choice(places)))
    return teams


def volunteer_rows(district: str) -> list[dict]:
    rng = common.rng("volunteer_activity", "rows", district)
    teams = volunteer_teams(district)
    _units, _n, total = VOLUNTEER_DRIVE[district]
    counts = exact_split(rng, total, len(teams), 8, 90)
    streets = default_places_streets(district)
    rows = []
    per_person = (1, 1.5, 2, 2, 2.5, 3, 3, 4)
    for team, n in zip(teams, counts):
        kind = rng.choices(("创城", "环境清洁", "文明交通"), (70, 20, 10))[0]
        rows.append(
            {
                "date": DRIVE_DATE,
                "team": team,
                "type": kind,
                "volunteers": n,
                "hours": n * rng.choice(per_person),
                "place": team.home,
            }
        )
    for day, share, kinds in _OTHER_DAYS:
        out = rng.sample(teams, max(1, round(len(teams) * share)))
        for team in out:
            n = rng.randint(6, 45)
            kind = rng.choice(kinds)
            place = team.home if rng.random() < 0.7 else rng.choice(streets)
            rows.append(
                {
                    "date": day,
                    "team": team,
                    "type": kind,
                    "volunteers": n,
                    "hours": n * rng.choice(per_person),
                    "place": place,
                }
            )
    order = {t.name: i for i, t in enumerate(teams)}
    rows.sort(key=lambda r: (r["date"], order[r["team"].name]))
    return rows


VOLUNTEER_ORDER = ("date", "district", "unit", "team", "activity_type", "volunteers", "hours", "place")
VOLUNTEER_CANONICAL = {
    "date": "活动日期",
    "district": "区县",
    "unit": "组织单位",
    "team": "志愿服务队",
    "activity_type": "活动类型",
    "volunteers": "参与志愿者（人）",
    "hours": "服务时长（小时）",
    "place": "服务地点",
}
# district → (header overrides, date number format)
_VOLUNTEER_LAYOUT: dict[str, tuple[dict[str, str], str]] = {
    "平山区": ({}, "yyyy-mm-dd"),
    "溪湖区": (
        {"date": "日期", "district": "县区", "team": "服务队", "volunteers": "参与人数", "hours": "服务时长(小时)"},
        'yyyy"年"m"月"d"日"',
    ),
    "明山区": ({"volunteers": "参与志愿者(人)", "hours": "服务时长(小时)"}, "yyyy/m/d"),
    "南芬区": ({}, ""),  # CSV, exactly the sample header
    "本溪满族自治县": ({"district": "所属区县", "team": "志愿队", "volunteers": "志愿者人数"}, 'm"月"d"日"'),
    "桓仁满族自治县": ({"volunteers": "参与志愿者\n（人）", "hours": "服务时长\n（小时）"}, "yyyy-mm-dd"),
}
_VOLUNTEER_REPORTER = {
    "平山区": "平山区文明办",
    "溪湖区": "溪湖区委宣传部（文明办）",
    "明山区": "明山区新时代文明实践中心",
    "南芬区": "南芬区文明办",
    "本溪满族自治县": "本溪县文明办",
    "桓仁满族自治县": "桓仁县文明办",
}


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(x, 1)


def write_volunteer(inbox: Path, district: str) -> Path:
    rows = volunteer_rows(district)
    overrides, date_format = _VOLUNTEER_LAYOUT[district]
    headers = [overrides.get(c, VOLUNTEER_CANONICAL[c]) for c in VOLUNTEER_ORDER]
    period = PERIOD
    clerk_district = SHORT[district]

    def record(r: dict) -> dict:
        return {
            "date": r["date"],
            "district": clerk_district,
            "unit": r["team"].unit,
            "team": r["team"].name,
            "activity_type": r["type"],
            "volunteers": r["volunteers"],
            "hours": _number(r["hours"]),
            "place": r["place"],
        }

    if district == "南芬区":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(headers)
        for r in map(record, rows):
            d = r["date"]
            r["date"] = f"{d.year}年{d.month}月{d.day}日"
            writer.writerow([r[c] for c in VOLUNTEER_ORDER])
        path = inbox / district / f"{district}_志愿服务_{period}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buf.getvalue().encode("gbk"))
        return path

    wb = Workbook()
    ws = wb.active
    ws.title = "2022年3月"
    ncol = len(headers)
    ws.cell(1, 1, f"{district}志愿服务活动统计表（2022年3月）")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(2, 1, f"填报单位：{_VOLUNTEER_REPORTER[district]}")
    ws.append(headers)
    for letter, width in zip("ABCDEFGH", (14, 10, 40, 22, 10, 12, 12, 24)):
        ws.column_dimensions[letter].width = width
    first = 4
    for i, r in enumerate(map(record, rows)):
        ws.append([r[c] for c in VOLUNTEER_ORDER])
        ws.cell(first + i, 1).number_format = date_format
    last = first + len(rows) - 1
    total_row = last + 1
    ws.cell(total_row, 1, "合计")
    ws.cell(total_row, VOLUNTEER_ORDER.index("volunteers") + 1, sum(r["volunteers"] for r in rows))
    ws.cell(total_row, VOLUNTEER_ORDER.index("hours") + 1, _number(sum(r["hours"] for r in rows)))
    ws.cell(total_row + 1, 1, "填报人：  审核人：  联系电话：")
    assert first <= last
    path = inbox / district / f"{district}_志愿服务_{period}.xlsx"
    save_xlsx(wb, path, datetime(2022, 4, 2, 16, 20))
    return path


def write(shared_dir: Path) -> list[Path]:
    """The March 2022 report of every district, into shared_dir/'inbox'/<folder>/."""
    inbox = inbox_of(shared_dir)
    return [write_volunteer(inbox, district) for district in DISTRICTS]


def submitted_at(path: Path) -> datetime | None:
    """When the clerk dropped a volunteer report (due 2022-04-05 24:00); None for any other file."""
    if FILE_MARKER not in path.name:
        return None
    return datetime(2022, 4, 8, 11, 0) if path.parent.name in LATE_DISTRICTS else datetime(2022, 4, 2, 10, 0)
