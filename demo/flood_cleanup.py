"""Demo **flood_cleanup** (防汛救灾清理情况日报), 2021-07-26 … 2021-08-01.

One xlsx per day for 平山区, 溪湖区 and 明山区 (21 files), ``<folder>_防汛日报_<date>.xlsx``, laid out like the
溪湖区 sample (two-row header with merged parents 清运垃圾 and 消杀, 区县 merged down the data rows, 合计 row of
=SUM formulas, footer). Zero counts are written ``—`` in some districts (see ``FLOOD_DASH_COLUMNS``) and
exactly three cells are written as text with a magnitude/approximation marker (see ``FLOOD_TEXT_CELLS``).

Each daily is due at 10:00 the next day and dropped at 08:30 — except 明山区's report of 2021-07-29, which
arrives at 14:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from demo import common
from demo.common import default_places_streets, inbox_of, save_xlsx

REPORT_TYPES = ("flood_cleanup",)
PERIODS = {"flood_cleanup": ("2021-07-26", "2021-08-01")}
FILE_MARKER = "_防汛日报_"
LATE = {("明山区", "2021-07-29")}  # (district, day of the report)

FLOOD_DISTRICTS = ("平山区", "溪湖区", "明山区")
FLOOD_DAYS = [date(2021, 7, 26) + timedelta(days=i) for i in range(7)]

FLOOD_ORDER = (
    "date",
    "district",
    "street",
    "personnel",
    "vehicles",
    "garbage_tons",
    "garbage_trips",
    "silt_m3",
    "water_pumped_m3",
    "disinfected_streets",
    "disinfected_toilets",
    "disinfected_bins",
    "power_restored_households",
)
_FLOOD_COUNT_COLUMNS = (
    "vehicles",
    "garbage_trips",
    "disinfected_streets",
    "disinfected_toilets",
    "disinfected_bins",
    "power_restored_households",
)

# In these districts a zero in these count columns is written "—" (meaning 0).
FLOOD_DASH_COLUMNS: dict[str, tuple[str, ...]] = {
    "平山区": (),
    "溪湖区": ("vehicles", "garbage_trips", "disinfected_streets", "disinfected_toilets", "disinfected_bins"),
    "明山区": ("power_restored_households",),
}

# The only text-with-marker numbers in the week: (folder, date, street, column) →
# (text as written, value it parses to, approximate?)
FLOOD_TEXT_CELLS: dict[tuple[str, str, str, str], tuple[str, int, bool]] = {
    ("平山区", "2021-07-27", "千金街道", "garbage_tons"): ("30余", 30, True),
    ("溪湖区", "2021-07-28", "彩屯街道", "water_pumped_m3"): ("1.2万", 12000, False),
    ("溪湖区", "2021-07-29", "东风街道", "personnel"): ("60余", 60, True),
}

# Day curves (index = day of the week 07-26 … 08-01): work rises to a peak on 07-28/29 and falls off;
# pumping is front-loaded, disinfection follows the receding water, power is restored early.
_WORK_CURVE = (0.40, 0.72, 1.00, 0.94, 0.70, 0.46, 0.25)
_WATER_CURVE = (0.85, 1.00, 0.80, 0.45, 0.18, 0.05, 0.0)
_DISINFECT_CURVE = (0.0, 0.25, 0.65, 1.00, 0.95, 0.70, 0.45)
_POWER_CURVE = (0.75, 1.00, 0.50, 0.15, 0.0, 0.0, 0.0)

# district → (sheet title, 填报单位 line, date text at the right, sheet name pattern, header overrides)
_FLOOD_LAYOUT: dict[str, tuple[str, str, str, str, dict[str, str]]] = {
    "溪湖区": ("溪湖区防汛救灾清理情况统计表", "填报单位：溪湖区城市管理局", "{y}年{m}月{d}日", "{m}月{d}日", {}),
    "平山区": (
        "平山区防汛救灾清理情况日报",
        "填报单位：平山区城市管理综合行政执法局",
        "填报日期：{y}年{m}月{d}日",
        "日报",
        {"street": "街道", "personnel": "出动人员(人次)", "vehicles": "出动车辆(台次)"},
    ),
    "明山区": (
        "明山区防汛救灾清理情况日报表",
        "填报单位：明山区防汛抗旱指挥部办公室",
        "{y}年{m}月{d}日",
        "{m}月{d}日",
        {
            "district": "县区",
            "silt_m3": "清理淤泥\n（立方米）",
            "water_pumped_m3": "排水量(立方米)",
            "power_restored_households": "恢复供电(户)",
            "disinfected_streets": "街道(条)",
            "disinfected_toilets": "公厕(座)",
            "disinfected_bins": "垃圾箱(个)",
        },
    ),
}
FLOOD_HEADERS = {
    "date": "日期",
    "district": "区县",
    "street": "街道（乡镇）",
    "personnel": "出动人员（人次）",
    "vehicles": "出动车辆（台次）",
    "garbage_tons": "吨",
    "garbage_trips": "车次",
    "silt_m3": "清理淤泥（立方米）",
    "water_pumped_m3": "排水量（立方米）",
    "disinfected_streets": "街道（条）",
    "disinfected_toilets": "公厕（座）",
    "disinfected_bins": "垃圾箱（个）",
    "power_restored_households": "恢复供电（户）",
}
_FLOOD_PARENTS = {
    "garbage_tons": "清运垃圾",
    "garbage_trips": "清运垃圾",
    "disinfected_streets": "消杀",
    "disinfected_toilets": "消杀",
    "disinfected_bins": "消杀",
}


def flood_values(district: str) -> dict[tuple[date, str], dict[str, int | float]]:
    """(day, street) → numeric values for the whole week of one district."""
    rng = common.rng("flood_cleanup", district)
    out: dict[tuple[date, str], dict[str, int | float]] = {}
    for street in default_places_streets(district):
        size = rng.uniform(0.55, 1.45)
        hit = rng.uniform(0.5, 1.5)  # how badly the street flooded
        for i, day in enumerate(FLOOD_DAYS):
            w, water, dis, power = _WORK_CURVE[i], _WATER_CURVE[i], _DISINFECT_CURVE[i], _POWER_CURVE[i]
            jitter = lambda: rng.uniform(0.8, 1.2)  # noqa: E731
            tons = round(22 * size * w * jitter(), 1)
            out[(day, street)] = {
                "personnel": max(8, round(70 * size * w * jitter())),
                "vehicles": max(0, round(5 * size * w * jitter() - 0.6)),
                "garbage_tons": tons,
                "garbage_trips": max(0, round(tons / rng.uniform(3.5, 6.0))),
                "silt_m3": round(180 * hit * size * w * jitter()),
                "water_pumped_m3": round(1500 * hit * size * water * jitter()),
                "disinfected_streets": round(8 * size * dis * jitter()),
                "disinfected_toilets": round(4 * size * dis * jitter()),
                "disinfected_bins": round(35 * size * dis * jitter()),
                "power_restored_households": round(rng.uniform(0, 60) * hit * power),
            }
    return out


def write_flood(inbox: Path, district: str, day: date, values: dict[tuple[date, str], dict]) -> Path:
    title, reporter, date_text, sheet_pattern, overrides = _FLOOD_LAYOUT[district]
    fmt = {"y": day.year, "m": day.month, "d": day.day}
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_pattern.format(**fmt)
    ncol = len(FLOOD_ORDER)
    col = {name: i + 1 for i, name in enumerate(FLOOD_ORDER)}
    ws.cell(1, 1, title)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(2, 1, reporter)
    ws.cell(2, col["disinfected_streets"], date_text.format(**fmt))
    # two-row header: parents over their children, every other header merged over both rows
    seen_parents: set[str] = set()
    for name in FLOOD_ORDER:
        c = col[name]
        text = overrides.get(name, FLOOD_HEADERS[name])
        parent = _FLOOD_PARENTS.get(name)
        if parent is None:
            ws.cell(3, c, text)
            ws.merge_cells(start_row=3, start_column=c, end_row=4, end_column=c)
            continue
        if parent not in seen_parents:
            seen_parents.add(parent)
            span = [col[n] for n, p in _FLOOD_PARENTS.items() if p == parent]
            ws.cell(3, c, parent)
            ws.merge_cells(start_row=3, start_column=min(span), end_row=3, end_column=max(span))
        ws.cell(4, c, text)
    for letter, width in zip("ABCDEFGHIJKLM", (12, 8, 14, 10, 10, 8, 8, 12, 12, 10, 10, 10, 10)):
        ws.column_dimensions[letter].width = width

    streets = default_places_streets(district)
    dash = FLOOD_DASH_COLUMNS[district]
    first = 5
    for offset, street in enumerate(streets):
        r = first + offset
        v = values[(day, street)]
        ws.cell(r, 1, day).number_format = "yyyy-mm-dd"
        if offset == 0:
            ws.cell(r, 2, district)
        ws.cell(r, 3, street)
        for name in FLOOD_ORDER[3:]:
            value: object = v[name]
            if value == 0 and name in dash:
                value = "—"
            special = FLOOD_TEXT_CELLS.get((district, day.isoformat(), street, name))
            if special:
                value = special[0]
            ws.cell(r, col[name], value)
    last = first + len(streets) - 1
    ws.merge_cells(start_row=first, start_column=2, end_row=last, end_column=2)
    total = last + 1
    ws.cell(total, 1, "合计")
    for name in FLOOD_ORDER[3:]:
        letter = ws.cell(total, col[name]).column_letter
        ws.cell(total, col[name], f"=SUM({letter}{first}:{letter}{last})")
    ws.cell(total + 1, 1, "填报人：")
    ws.cell(total + 1, 4, "审核人：")
    ws.cell(total + 1, 7, "联系电话：")
    path = inbox / district / f"{district}_防汛日报_{day.isoformat()}.xlsx"
    stamp = datetime.combine(day + timedelta(days=1), datetime.min.time()).replace(hour=8, minute=40)
    save_xlsx(wb, path, stamp)
    return path


def apply_text_cells(district: str, values: dict[tuple[date, str], dict]) -> None:
    """Make the stored numbers agree with what the marked text cells parse to."""
    for (d, day, street, name), (_text, number, _approx) in FLOOD_TEXT_CELLS.items():
        if d == district:
            values[(date.fromisoformat(day), street)][name] = number


def write(shared_dir: Path) -> list[Path]:
    """The week's dailies of every flood district, into shared_dir/'inbox'/<folder>/."""
    inbox = inbox_of(shared_dir)
    paths = []
    for district in FLOOD_DISTRICTS:
        values = flood_values(district)
        apply_text_cells(district, values)
        for day in FLOOD_DAYS:
            paths.append(write_flood(inbox, district, day, values))
    return paths


def submitted_at(path: Path) -> datetime | None:
    """When the clerk dropped a daily (due 10:00 the next day); None for any other file."""
    if FILE_MARKER not in path.name:
        return None
    day = date.fromisoformat(path.name.rsplit("_", 1)[1][:10])
    late = (path.parent.name, day.isoformat()) in LATE
    return datetime.combine(day + timedelta(days=1), datetime.min.time()) + (
        timedelta(hours=14) if late else timedelta(hours=8, minutes=30)
    )
