"""Demo ledgers for December 2021: the 办实事 **task_ledger** and the 创城 **rectification_ledger**.

``write(shared_dir)`` (also ``write_ledger_files``) writes, under ``shared_dir/inbox/<reporting unit>/``,
for 市本级 and the six districts:

* **task_ledger** (为群众办实事项目台账), period 2021-12 — ``<folder>_为群众办实事项目台账_2021-12.xlsx``:
  merged title ``平山区“我为群众办实事”项目台账（2021年12月）``, a 填报单位 / 统计截止 line, the header, one row
  per task, a 合计 row and a 填报人 / 审核人 footer. City-wide 1,735 tasks listed, 1,697 已完成 (→ 97.8%,
  as published by Benxi in January 2022); the 38 others are 跨年推进 (30), 推进中 (6) and 未启动 (2).
  Every date is in 2021 (计划完成时间 at a month end, none later than 2021-12-31), so every unfinished task
  is overdue in the December ledger; 44 tasks were completed after their planned date.
* **rectification_ledger** (创城督查整改问题台账), period 2021-12 —
  ``<folder>_创城督查整改问题台账_2021-12.xlsx``: cumulative since the inspections began in October 2021.
  City-wide 357 problems assigned, 293 with an 整改期限, 203 已整改 — all 203 among the 293 with a deadline,
  so "已整改 ÷ problems with a deadline" reads the same whichever way the rule is taken (203 / 293 = 69.28%).
  The 64 problems without a deadline are all 整改中. Every date is on or before 2021-12-31.

Units write their ledgers differently, as clerks do: header aliases (项目名称, 责任单位, 进展情况, 整改时限 …),
date cells in several number formats or dates typed as text (2021.11.30, 2021年11月30日), 区县 merged down
the column (明山区), and an empty 整改期限 left blank, written 无 or —. Everything parses with no finding.

Both ledgers of every unit are dropped on 2022-01-05 15:00, before the deadline 2022-01-05 24:00.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from demo import common
from demo.common import (
    CITY_FOLDER,
    CODE,
    DISTRICTS,
    SHORT,
    UNIT_FOLDERS,
    communities,
    default_places_streets,
    inbox_of,
    save_xlsx,
)

REPORT_TYPES = ("task_ledger", "rectification_ledger")
PERIOD = "2021-12"
PERIODS = {"task_ledger": PERIOD, "rectification_ledger": PERIOD}
LEDGER_END = date(2021, 12, 31)

# --------------------------------------------------------------------------------------------------
# Figures

# unit → (tasks listed, 已完成, 推进中, 未启动, 跨年推进, completed after the planned date)
TASK_COUNTS: dict[str, tuple[int, int, int, int, int, int]] = {
    "市本级": (412, 403, 2, 0, 7, 11),
    "平山区": (268, 262, 1, 0, 5, 7),
    "溪湖区": (259, 254, 1, 1, 3, 6),
    "明山区": (281, 275, 1, 0, 5, 8),
    "南芬区": (142, 139, 0, 0, 3, 3),
    "本溪满族自治县": (196, 191, 1, 1, 3, 5),
    "桓仁满族自治县": (177, 173, 0, 0, 4, 4),
}
TASK_TOTALS = (1735, 1697, 6, 2, 30, 44)
assert tuple(map(sum, zip(*TASK_COUNTS.values()))) == TASK_TOTALS
assert all(t == c + p + n + x for t, c, p, n, x, _late in TASK_COUNTS.values())
TASK_OVERDUE = TASK_TOTALS[0] - TASK_TOTALS[1]  # every unfinished task was due by 2021-12-31

# unit → (problems assigned, with an 整改期限, 已整改); every 已整改 problem has a deadline
RECTIFICATION_COUNTS: dict[str, tuple[int, int, int]] = {
    "市本级": (41, 35, 26),
    "平山区": (78, 63, 43),
    "溪湖区": (71, 58, 40),
    "明山区": (74, 61, 42),
    "南芬区": (28, 23, 16),
    "本溪满族自治县": (35, 28, 19),
    "桓仁满族自治县": (30, 25, 17),
}
RECTIFICATION_TOTALS = (357, 293, 203)
assert tuple(map(sum, zip(*RECTIFICATION_COUNTS.values()))) == RECTIFICATION_TOTALS
RECTIFICATION_OVERDUE = RECTIFICATION_TOTALS[1] - RECTIFICATION_TOTALS[2]  # every deadline is ≤ 2021-12-31


# --------------------------------------------------------------------------------------------------
# Places a unit's ledgers talk about (made up around the reference streets, like demo.common.communities)

_ROADS = (
    "解放路",
    "永丰路",
    "胜利路",
    "光明路",
    "人民路",
    "站前街",
    "建设路",
    "滨河路",
    "北地路",
    "彩屯路",
    "东明路",
    "平山路",
    "溪湖路",
    "明山路",
    "卧龙路",
    "环山路",
    "新华街",
    "文化路",
    "和平路",
    "钢铁路",
)
_CITY_SCHOOLS = ("本溪市高级中学", "本溪市第一中学", "本溪市实验小学", "本溪市第十二中学", "本溪市育才小学")
_CITY_HOSPITALS = ("本溪市中心医院", "本溪市第二人民医院", "本溪市中医院", "本溪市妇幼保健院", "本溪市第三人民医院")
_CITY_HALLS = (
    "本溪市政务服务中心",
    "本溪市不动产登记中心服务大厅",
    "本溪市住房公积金管理中心服务大厅",
    "本溪市医疗保障事务服务中心",
    "本溪市社会保险事业服务中心",
)
_CITY_MARKETS = ("永丰农贸市场", "东明综合市场", "彩屯农贸市场", "站前农贸大厅")


@dataclass
class _Places:
    streets: list[str]
    communities: list[str]  # "街道+社区" for districts, "区县+街道+社区" for 市本级
    roads: list[str]
    schools: list[str]
    hospitals: list[str]
    halls: list[str]
    markets: list[str]


def _short_street(street: str) -> str:
    return street.removesuffix("街道").removesuffix("镇")


def _district_places(district: str, prefix: str = "") -> _Places:
    rng = common.rng("ledgers", "places", district)
    by_street = communities(rng, district)
    short = SHORT[district]
    streets = default_places_streets(district)
    return _Places(
        streets=[f"{prefix}{s}" for s in streets],
        communities=[f"{prefix}{s}{c}" for s, cs in by_street.items() for c in cs],
        roads=rng.sample(_ROADS, 8),
        schools=[f"{short}实验小学", f"{short}第一中学", f"{short}第二中学"]
        + [f"{short}{_short_street(s)}{'中心小学' if s.endswith('镇') else '小学'}" for s in streets],
        hospitals=[f"{short}人民医院", f"{short}中医院"] + [f"{short}{s}社区卫生服务中心" for s in streets[:4]],
        halls=[f"{short}政务服务中心"] + [f"{short}{s}便民服务中心" for s in streets],
        markets=[f"{short}{_short_street(s)}农贸市场" for s in streets[: max(2, len(streets) // 2)]],
    )


def _places(unit: str) -> _Places:
    if unit != CITY_FOLDER:
        return _district_places(unit)
    city = _Places(
        [], [], list(_ROADS), list(_CITY_SCHOOLS), list(_CITY_HOSPITALS), list(_CITY_HALLS), list(_CITY_MARKETS)
    )
    for district in DISTRICTS:
        part = _district_places(district, prefix=SHORT[district])
        city.streets += part.streets
        city.communities += part.communities
    return city


def _organ(unit: str, name: str) -> str:
    """A government department of the unit: 本溪市住房和城乡建设局, 平山区住房和城乡建设局 …"""
    return f"本溪市{name}" if unit == CITY_FOLDER else f"{SHORT[unit]}{name}"


def _street_office(street: str) -> str:
    return f"{street}人民政府" if street.endswith("镇") else f"{street}办事处"


# --------------------------------------------------------------------------------------------------
# 1. task_ledger — 为群众办实事项目台账 2021-12

TASK_CATEGORY_WEIGHTS = {
    "住房": 20,
    "环境": 18,
    "交通出行": 14,
    "医疗卫生": 12,
    "就业": 10,
    "教育": 10,
    "基层治理": 9,
    "其他": 7,
}

# category → task name templates; slots: {c} community, {s} street, {r} road, {sch} school, {h} hospital
_TASK_TEMPLATES: dict[str, tuple[str, ...]] = {
    "就业": (
        "{s}举办“春风行动”专场招聘会",
        "{s}建设就业服务驿站",
        "{s}为就业困难人员开发公益性岗位",
        "{s}开展下岗失业人员职业技能培训",
        "{c}“家门口”就业服务站建设",
        "{s}零工市场规范提升",
        "{s}组织高校毕业生就业见习",
        "{c}帮扶零就业家庭实现就业",
    ),
    "医疗卫生": (
        "{c}卫生服务站标准化建设",
        "{c}65岁以上老年人免费健康体检",
        "{h}开通老年人就医绿色通道",
        "{c}家庭医生签约服务提质扩面",
        "{h}推行门诊分时段预约就诊",
        "{c}新冠疫苗接种上门服务",
        "{h}候诊区改造改善就医环境",
        "{h}增设24小时自助服务机",
    ),
    "交通出行": (
        "{r}（{s}段）道路维修改造",
        "{c}周边增设公交站点",
        "{r}（{s}段）路灯亮化改造",
        "{c}周边施划停车泊位",
        "{sch}门前增设交通信号灯和护栏",
        "{c}背街小巷道路硬化",
        "{r}（{s}段）人行道破损修复",
        "{s}新开通社区公交线路",
    ),
    "教育": (
        "{sch}校舍维修改造",
        "{sch}开展课后延时服务",
        "{sch}食堂“明厨亮灶”改造",
        "{s}关爱留守儿童课业辅导",
        "{sch}操场塑胶跑道改造",
        "{sch}直饮水设备更新",
        "{sch}教室照明改造",
    ),
    "住房": (
        "{c}老旧小区改造",
        "{c}居民楼自来水管网铺设",
        "{c}供暖管网改造",
        "{c}楼顶防水维修",
        "{c}单元门禁和楼道照明改造",
        "{c}下水管网疏通改造",
        "{c}危险山体护坡治理",
        "{c}燃气管线更新改造",
    ),
    "环境": (
        "{c}垃圾分类示范点建设",
        "{s}背街小巷环境整治",
        "{c}楼道堆积杂物清理",
        "{s}辖区河道清淤整治",
        "{c}绿化补植",
        "{c}“小开荒”清理复绿",
        "{c}违建棚厦拆除",
        "{c}公厕新建改造",
    ),
    "基层治理": (
        "{c}党群服务中心改造提升",
        "{c}引入“红色物业”管理",
        "{s}网格化管理精细化提升",
        "{c}建立居民议事会",
        "{c}“三无小区”物业托管",
        "{c}矛盾纠纷调解室建设",
    ),
    "其他": (
        "{c}老年人日间照料中心建设",
        "{c}开展“文明家庭”评选",
        "{s}便民服务站建设",
        "{c}增设健身器材",
        "{c}老年助餐点建设",
        "{c}新时代文明实践站阵地建设",
    ),
}
# category → lead departments (without the unit prefix); "街道" means the street's office
_TASK_LEADS: dict[str, tuple[str, ...]] = {
    "就业": ("人力资源和社会保障局",),
    "医疗卫生": ("卫生健康局",),
    "交通出行": ("交通运输局", "住房和城乡建设局"),
    "教育": ("教育局",),
    "住房": ("住房和城乡建设局",),
    "环境": ("城市管理综合行政执法局", "生态环境局", "街道"),
    "基层治理": ("民政局", "街道"),
    "其他": ("民政局", "文明办", "街道"),
}
_DUE_MONTH_ENDS = (
    date(2021, 5, 31),
    date(2021, 6, 30),
    date(2021, 7, 31),
    date(2021, 8, 31),
    date(2021, 9, 30),
    date(2021, 10, 31),
    date(2021, 11, 30),
    date(2021, 12, 31),
)
_DUE_WEIGHTS = (4, 14, 6, 8, 16, 14, 14, 24)
_TASK_ORDER = ("seq", "task", "district", "lead_unit", "category", "due_date", "status", "done_date")
_TASK_CANONICAL = {
    "seq": "序号",
    "task": "实事名称",
    "district": "区县",
    "lead_unit": "牵头单位",
    "category": "类别",
    "due_date": "计划完成时间",
    "status": "完成状态",
    "done_date": "实际完成时间",
}


@dataclass(frozen=True)
class _Layout:
    headers: dict[str, str] = field(default_factory=dict)  # overrides of the canonical headers
    date_style: str = "cell:yyyy-mm-dd"  # cell:<number format> or text:<strftime-like pattern>
    reporter: str = ""
    merge_district: bool = False
    sheet: str = "Sheet1"
    notes: bool = False  # a 填表说明 sheet before the ledger
    blank_deadline: str | None = None  # how an empty 整改期限 is written (None = left blank)


_TASK_LAYOUT: dict[str, _Layout] = {
    "市本级": _Layout(
        date_style="cell:yyyy-mm-dd",
        sheet="办实事台账",
        notes=True,
        reporter="填报单位：中共本溪市委组织部（市“我为群众办实事”实践活动领导小组办公室）",
    ),
    "平山区": _Layout(
        {"task": "项目名称", "lead_unit": "责任单位"},
        "text:{y}.{m}.{d}",
        "填报单位：中共平山区委组织部",
        sheet="2021年12月",
    ),
    "溪湖区": _Layout(
        {"category": "项目类别", "status": "进展情况", "done_date": "完成时间"},
        'cell:yyyy"年"m"月"d"日"',
        "填报单位：中共溪湖区委组织部",
        sheet="台账",
    ),
    "明山区": _Layout(
        {"due_date": "计划完成\n时间", "done_date": "实际完成\n时间"},
        "cell:yyyy/m/d",
        "填报单位：中共明山区委组织部",
        merge_district=True,
        sheet="12月",
    ),
    "南芬区": _Layout(
        {"district": "县区", "due_date": "计划完成时限"}, "text:{y}年{m}月{d}日", "填报单位：中共南芬区委组织部"
    ),
    "本溪满族自治县": _Layout(
        {"task": "实事项目", "status": "状态"},
        "text:{y}-{m:02d}-{d:02d}",
        "填报单位：中共本溪满族自治县委组织部",
        sheet="办实事台账",
        notes=True,
    ),
    "桓仁满族自治县": _Layout({"district": "所属区县"}, "cell:yyyy-mm-dd", "填报单位：中共桓仁满族自治县委组织部"),
}


@dataclass(frozen=True)
class Task:
    seq: int
    task: str
    district: str  # as the clerk writes it
    lead_unit: str
    category: str
    due_date: date
    status: str
    done_date: date | None

    @property
    def completed_late(self) -> bool:
        return self.done_date is not None and self.done_date > self.due_date


def _task_name(rng: random.Random, template: str, places: _Places) -> tuple[str, str]:
    """(task name, the street it is in): a community and its own street, so 牵头单位 can be that street."""
    community = rng.choice(places.communities)
    street = next(s for s in places.streets if community.startswith(s))
    name = template.format(
        c=community,
        s=street,
        r=rng.choice(places.roads),
        sch=rng.choice(places.schools),
        h=rng.choice(places.hospitals),
    )
    return name, street


def _lead(rng: random.Random, unit: str, category: str, street: str) -> str:
    choice = rng.choice(_TASK_LEADS[category])
    if choice == "街道":
        return _street_office(street) if unit != CITY_FOLDER else _organ(unit, "城市管理综合行政执法局")
    if choice == "文明办":
        return "本溪市文明办" if unit == CITY_FOLDER else f"{SHORT[unit]}文明办"
    return _organ(unit, choice)


def task_rows(unit: str) -> list[Task]:
    """The unit's December 2021 ledger, in the order it is written (grouped by category)."""
    rng = common.rng("task_ledger", unit)
    total, completed, in_progress, not_started, cross_year, late = TASK_COUNTS[unit]
    places = _places(unit)
    categories, weights = zip(*TASK_CATEGORY_WEIGHTS.items())
    seen: set[str] = set()
    drafts: list[tuple[str, str, str]] = []  # (category, name, lead unit)
    while len(drafts) < total:
        category = rng.choices(categories, weights)[0]
        name, street = _task_name(rng, rng.choice(_TASK_TEMPLATES[category]), places)
        if name in seen:
            continue
        seen.add(name)
        drafts.append((category, name, _lead(rng, unit, category, street)))
    drafts.sort(key=lambda d: categories.index(d[0]))
    statuses = ["已完成"] * completed + ["推进中"] * in_progress + ["未启动"] * not_started + ["跨年推进"] * cross_year
    rng.shuffle(statuses)
    done_positions = [i for i, s in enumerate(statuses) if s == "已完成"]
    late_positions = set(rng.sample(done_positions, late))
    clerk_district = SHORT[unit]
    rows = []
    for i, ((category, name, lead), status) in enumerate(zip(drafts, statuses, strict=True)):
        done: date | None = None
        if status == "已完成" and i in late_positions:
            due = rng.choices(_DUE_MONTH_ENDS[:-1], _DUE_WEIGHTS[:-1])[0]
            done = due + timedelta(days=rng.randint(3, 28))
        elif status == "已完成":
            due = rng.choices(_DUE_MONTH_ENDS, _DUE_WEIGHTS)[0]
            done = due - timedelta(days=rng.choice((0, 0, 1, 2, 3, 5, 7, 10, 12, 15, 20, 26, 33, 41)))
        elif status == "推进中":
            due = rng.choice((date(2021, 11, 30), LEDGER_END))
        else:  # 未启动 / 跨年推进: planned for the year, carried over
            due = LEDGER_END
        rows.append(Task(i + 1, name, clerk_district, lead, category, due, status, done))
    assert sum(t.completed_late for t in rows) == late
    return rows


def _date_value(value: date | None, style: str) -> object:
    if value is None:
        return None
    kind, pattern = style.split(":", 1)
    if kind == "cell":
        return value
    return pattern.format(y=value.year, m=value.month, d=value.day)


def _write_cells(ws, row: int, values: list[object], date_columns: set[int], style: str) -> None:
    kind, pattern = style.split(":", 1)
    for c, value in enumerate(values, start=1):
        cell = ws.cell(row, c, value)
        if c in date_columns and kind == "cell" and value is not None:
            cell.number_format = pattern


def _title_rows(ws, title: str, reporter: str, ncol: int) -> None:
    ws.cell(1, 1, title)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(2, 1, reporter)
    ws.cell(2, ncol - 1, "统计截止：2021年12月31日")


def _unit_title(unit: str) -> str:
    return "本溪市市本级" if unit == CITY_FOLDER else unit


def write_task_ledger(inbox: Path, unit: str) -> Path:
    layout = _TASK_LAYOUT[unit]
    rows = task_rows(unit)
    wb = Workbook()
    ws = wb.active
    if layout.notes:
        ws.title = "填表说明"
        ws["A1"] = (
            "完成状态填写：已完成、推进中、未启动、跨年推进；已完成的项目须填写实际完成时间；"
            "类别填写：就业、医疗卫生、交通出行、教育、住房、环境、基层治理、其他。"
        )
        ws.column_dimensions["A"].width = 100
        ws = wb.create_sheet(layout.sheet)
    else:
        ws.title = layout.sheet
    ncol = len(_TASK_ORDER)
    _title_rows(ws, f"{_unit_title(unit)}“我为群众办实事”项目台账（2021年12月）", layout.reporter, ncol)
    ws.append([layout.headers.get(c, _TASK_CANONICAL[c]) for c in _TASK_ORDER])
    for letter, width in zip("ABCDEFGH", (6, 40, 10, 30, 10, 14, 10, 14)):
        ws.column_dimensions[letter].width = width
    first = 4
    dates = {_TASK_ORDER.index("due_date") + 1, _TASK_ORDER.index("done_date") + 1}
    for offset, t in enumerate(rows):
        district = t.district if not layout.merge_district or offset == 0 else None
        values = [
            t.seq,
            t.task,
            district,
            t.lead_unit,
            t.category,
            _date_value(t.due_date, layout.date_style),
            t.status,
            _date_value(t.done_date, layout.date_style),
        ]
        _write_cells(ws, first + offset, values, dates, layout.date_style)
    last = first + len(rows) - 1
    if layout.merge_district:
        ws.merge_cells(start_row=first, start_column=3, end_row=last, end_column=3)
    done = sum(t.status == "已完成" for t in rows)
    ws.cell(last + 1, 1, "合计")
    ws.cell(last + 1, 2, f"共{len(rows)}项，已完成{done}项，完成率{100 * done / len(rows):.1f}%")
    ws.cell(last + 2, 1, "填报人：")
    ws.cell(last + 2, 4, "审核人：")
    ws.cell(last + 2, 6, "联系电话：")
    path = inbox / unit / f"{unit}_为群众办实事项目台账_{PERIOD}.xlsx"
    save_xlsx(wb, path, datetime(2022, 1, 4, 16, 30))
    return path


# --------------------------------------------------------------------------------------------------
# 2. rectification_ledger — 创城督查整改问题台账 2021-12 (cumulative since October 2021)

RECTIFICATION_CATEGORIES = (
    "社区卫生环境类",
    "政务窗口服务类",
    "商业大街类",
    "农贸市场经营类",
    "中小学校及周边",
    "医院及周边",
)
_DISTRICT_CATEGORY_WEIGHTS = (40, 8, 18, 12, 12, 10)
_CITY_CATEGORY_WEIGHTS = (10, 30, 15, 5, 15, 25)

# category → (place kind, description templates)
_PROBLEMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "社区卫生环境类": (
        "communities",
        (
            "{p}楼道内堆放杂物，存在消防安全隐患",
            "{p}垃圾箱满溢，周边散落生活垃圾未及时清运",
            "{p}楼体外墙、电线杆张贴“牛皮癣”小广告",
            "{p}公益广告宣传栏破损、内容陈旧",
            "{p}绿地内“小开荒”种菜未清理",
            "{p}私搭乱建棚厦未拆除",
            "{p}下水井堵塞外溢，路面积存污水",
            "{p}非机动车乱停乱放，占用消防通道",
            "{p}健身器材破损，存在安全隐患",
            "{p}楼院内乱拉乱挂、晾晒衣物",
        ),
    ),
    "政务窗口服务类": (
        "halls",
        (
            "{p}未设置创建全国文明城市公益广告",
            "{p}窗口工作人员未佩戴工作牌",
            "{p}未公示办事指南和投诉监督电话",
            "{p}无障碍通道被占用，缺少爱心座椅",
            "{p}老花镜、饮水机等便民设施缺失",
            "{p}室内有烟头，禁烟标识缺失",
        ),
    ),
    "商业大街类": (
        "roads",
        (
            "{p}沿街商铺跨门营业、占道经营",
            "{p}机动车违规停放，占用盲道",
            "{p}店外乱挂横幅，牌匾破损",
            "{p}共享单车、非机动车停放无序",
            "{p}沿街垃圾桶破损、满溢",
            "{p}绿化带内有白色垃圾",
            "{p}公益广告数量不足、位置不醒目",
        ),
    ),
    "农贸市场经营类": (
        "markets",
        (
            "{p}活禽销售区未实行隔离宰杀",
            "{p}经营户占道摆摊，生熟食品混放",
            "{p}未设置公平秤，计量器具未检定",
            "{p}公共卫生间脏乱，无专人保洁",
            "{p}未公示食品安全信息和投诉电话",
            "{p}场内地面积水、垃圾未及时清理",
        ),
    ),
    "中小学校及周边": (
        "schools",
        (
            "{p}周边流动摊贩聚集，售卖“三无”食品",
            "{p}门前交通标线模糊，未设置护学岗",
            "{p}周边商店向未成年人售烟",
            "{p}校园周边公益广告不足",
            "{p}门前上下学时段车辆乱停乱放",
        ),
    ),
    "医院及周边": (
        "hospitals",
        (
            "{p}门前出租车、私家车乱停乱放",
            "{p}院内有吸烟现象，禁烟标识缺失",
            "{p}候诊区未设置公益广告",
            "{p}门前流动商贩占道经营",
            "{p}卫生间保洁不到位、异味大",
            "{p}未设置志愿服务站（导医台）",
        ),
    ),
}
_CATEGORY_UNIT = {
    "政务窗口服务类": "行政审批局",
    "商业大街类": "城市管理综合行政执法局",
    "农贸市场经营类": "市场监督管理局",
    "中小学校及周边": "教育局",
    "医院及周边": "卫生健康局",
}
# 市创城办 inspection days (实地督导 "40余次"), October–December 2021
_INSPECTION_DAYS = tuple(
    d
    for d in (date(2021, 10, 8) + timedelta(days=i) for i in range(78))
    if d.weekday() in (1, 3) or d.day in (8, 15, 22)
)
_DEADLINE_DAYS = (3, 5, 7, 7, 10, 10, 15, 15, 20, 30)
_RECT_ORDER = (
    "issue_code",
    "found_date",
    "district",
    "unit",
    "category",
    "description",
    "deadline",
    "status",
    "rectified_date",
)
_RECT_CANONICAL = {
    "issue_code": "问题编号",
    "found_date": "发现日期",
    "district": "区县",
    "unit": "责任单位",
    "category": "问题类别",
    "description": "问题描述",
    "deadline": "整改期限",
    "status": "整改状态",
    "rectified_date": "整改完成日期",
}
_RECT_LAYOUT: dict[str, _Layout] = {
    "市本级": _Layout(
        date_style="cell:yyyy-mm-dd",
        reporter="填报单位：本溪市创建全国文明城市指挥部办公室",
        sheet="整改台账",
        notes=True,
    ),
    "平山区": _Layout(
        {"deadline": "整改时限", "rectified_date": "整改完成时间"},
        "text:{y}.{m}.{d}",
        "填报单位：平山区创城办",
        sheet="2021年12月",
    ),
    "溪湖区": _Layout({}, 'cell:yyyy"年"m"月"d"日"', "填报单位：溪湖区创城办", blank_deadline="无"),
    "明山区": _Layout(
        {"unit": "责任部门", "description": "存在问题"}, "cell:yyyy/m/d", "填报单位：明山区创城办", sheet="问题台账"
    ),
    "南芬区": _Layout({"district": "县区"}, "text:{y}年{m}月{d}日", "填报单位：南芬区创城办", blank_deadline="—"),
    "本溪满族自治县": _Layout({"category": "问题类型"}, "text:{y}-{m:02d}-{d:02d}", "填报单位：本溪县创城办"),
    "桓仁满族自治县": _Layout({"status": "整改情况"}, "cell:yyyy-mm-dd", "填报单位：桓仁县创城办", sheet="台账"),
}


@dataclass(frozen=True)
class Problem:
    issue_code: str
    found_date: date
    district: str  # as the clerk writes it
    unit: str
    category: str
    description: str
    deadline: date | None
    status: str
    rectified_date: date | None


def _problem_unit(rng: random.Random, unit: str, category: str, place: str, places: _Places) -> str:
    if category == "社区卫生环境类":
        if unit == CITY_FOLDER:
            return _organ(unit, "城市管理综合行政执法局")
        street = next((s for s in places.streets if place.startswith(s)), rng.choice(places.streets))
        return _street_office(street)
    if category == "医院及周边" and unit == CITY_FOLDER:
        return place  # city hospitals answer for themselves
    return _organ(unit, _CATEGORY_UNIT[category])


def problem_rows(unit: str) -> list[Problem]:
    """The unit's cumulative ledger as at 2021-12-31, ordered by 发现日期."""
    rng = common.rng("rectification_ledger", unit)
    total, with_deadline, rectified = RECTIFICATION_COUNTS[unit]
    places = _places(unit)
    weights = _CITY_CATEGORY_WEIGHTS if unit == CITY_FOLDER else _DISTRICT_CATEGORY_WEIGHTS
    drafts = []
    for _ in range(total):
        category = rng.choices(RECTIFICATION_CATEGORIES, weights)[0]
        kind, templates = _PROBLEMS[category]
        place = rng.choice(getattr(places, kind))
        found = rng.choice(_INSPECTION_DAYS)
        drafts.append(
            (found, category, rng.choice(templates).format(p=place), _problem_unit(rng, unit, category, place, places))
        )
    drafts.sort(key=lambda d: d[0])
    # which problems got a deadline, and which of those are rectified (older ones more likely)
    has_deadline = [True] * with_deadline + [False] * (total - with_deadline)
    rng.shuffle(has_deadline)
    deadline_rows = [i for i, h in enumerate(has_deadline) if h]
    urgency = {i: rng.random() * (1 + rank / len(deadline_rows)) for rank, i in enumerate(deadline_rows)}
    done_rows = set(sorted(deadline_rows, key=urgency.__getitem__)[:rectified])
    clerk_district = SHORT[unit]
    code = CODE[unit]
    rows = []
    for i, (found, category, description, owner) in enumerate(drafts):
        deadline = min(found + timedelta(days=rng.choice(_DEADLINE_DAYS)), LEDGER_END) if has_deadline[i] else None
        rectified_date = None
        if i in done_rows:
            assert deadline is not None
            span = (deadline - found).days
            if rng.random() < 0.1 and deadline < LEDGER_END:  # rectified, but after the deadline
                rectified_date = min(deadline + timedelta(days=rng.randint(1, 10)), LEDGER_END)
            else:
                rectified_date = found + timedelta(days=rng.randint(min(1, span), span))
        rows.append(
            Problem(
                f"CCBX-{code}-{i + 1:03d}",
                found,
                clerk_district,
                owner,
                category,
                description,
                deadline,
                "已整改" if i in done_rows else "整改中",
                rectified_date,
            )
        )
    return rows


def write_rectification_ledger(inbox: Path, unit: str) -> Path:
    layout = _RECT_LAYOUT[unit]
    rows = problem_rows(unit)
    wb = Workbook()
    ws = wb.active
    if layout.notes:
        ws.title = "填表说明"
        ws["A1"] = (
            "问题类别填写：社区卫生环境类、政务窗口服务类、商业大街类、农贸市场经营类、中小学校及周边、医院及周边；"
            "整改状态填写：已整改、整改中；未设定整改期限的问题，整改期限一栏空白。"
        )
        ws.column_dimensions["A"].width = 100
        ws = wb.create_sheet(layout.sheet)
    else:
        ws.title = layout.sheet
    ncol = len(_RECT_ORDER)
    _title_rows(ws, f"{_unit_title(unit)}创城督查整改问题台账（2021年12月）", layout.reporter, ncol)
    ws.append([layout.headers.get(c, _RECT_CANONICAL[c]) for c in _RECT_ORDER])
    for letter, width in zip("ABCDEFGHI", (18, 14, 10, 30, 16, 44, 14, 10, 14)):
        ws.column_dimensions[letter].width = width
    dates = {_RECT_ORDER.index(c) + 1 for c in ("found_date", "deadline", "rectified_date")}
    for offset, p in enumerate(rows):
        deadline = _date_value(p.deadline, layout.date_style) if p.deadline else layout.blank_deadline
        values = [
            p.issue_code,
            _date_value(p.found_date, layout.date_style),
            p.district,
            p.unit,
            p.category,
            p.description,
            deadline,
            p.status,
            _date_value(p.rectified_date, layout.date_style),
        ]
        _write_cells(ws, 4 + offset, values, dates, layout.date_style)
    footer = 4 + len(rows)
    ws.cell(footer, 1, "填报人：")
    ws.cell(footer, 4, "审核人：")
    ws.cell(footer, 6, "联系电话：")
    path = inbox / unit / f"{unit}_创城督查整改问题台账_{PERIOD}.xlsx"
    save_xlsx(wb, path, datetime(2022, 1, 4, 17, 10))
    return path


# --------------------------------------------------------------------------------------------------

FILE_MARKERS = ("_为群众办实事项目台账_", "_创城督查整改问题台账_")


def write(shared_dir: Path) -> list[Path]:
    """Write both December 2021 ledgers of every reporting unit into shared_dir/'inbox'/<folder>/: the task
    ledgers of all units, then the rectification ledgers."""
    inbox = inbox_of(shared_dir)
    return [writer(inbox, unit) for writer in (write_task_ledger, write_rectification_ledger) for unit in UNIT_FOLDERS]


write_ledger_files = write


def submitted_at(path: Path) -> datetime | None:
    """When the clerk dropped a ledger (due 2022-01-05 24:00); None for any other file."""
    if not any(marker in path.name for marker in FILE_MARKERS):
        return None
    return datetime(2022, 1, 5, 15, 0)
