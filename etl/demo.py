"""Deterministic demo data: the district files a clerk would drop into the shared inbox.

``write_demo_files(shared_dir)`` writes, under ``shared_dir/inbox/<reporting unit>/``:

* **service_items** (政务服务事项清单), period 2021Q4 — one xlsx per reporting unit (市本级 + 6 districts),
  ``<folder>_政务服务事项清单_2021Q4.xlsx``. Sheets: ``填表说明`` (one instruction line) and ``事项清单``
  (merged title row 1, header row 2, data from row 3). City-wide: 24,671 items, 6,861 依申请, of which 48
  not in the service hall (each with a 不进厅原因) → in-hall rate 6,813 / 6,861.
  Non-application items are written 是否进驻政务服务中心 = 否 with an empty 不进厅原因 (as in the 本溪县 sample).
* **volunteer_activity** (志愿服务活动统计), period 2022-03 — one file per district (no 市本级 file),
  ``<folder>_志愿服务_2022-03.xlsx``; 南芬区 sends a GBK CSV (``.csv``, CRLF, no title) like the sample.
  On 2022-03-04: 314 distinct 组织单位, 365 distinct 志愿服务队, 11,302 volunteers city-wide. Unit and team
  names carry the district name so they are unique city-wide.
* **task_ledger** and **rectification_ledger**, period 2021-12 (etl/demo_ledgers.py): 1,735 tasks of which
  1,697 已完成; 357 inspection problems, 293 with a deadline, 203 已整改.
* **hotline_tickets**, period 2021-09 (etl/demo_hotline.py): 186 tickets from four districts; 本溪县 and
  桓仁县 send none, so the completeness views have someone missing.
* **flood_cleanup** (防汛救灾清理情况日报), 2021-07-26 … 2021-08-01 — one xlsx per day for 平山区, 溪湖区 and
  明山区 (21 files), ``<folder>_防汛日报_<date>.xlsx``, laid out like the 溪湖区 sample (two-row header with
  merged parents 清运垃圾 and 消杀, 区县 merged down the data rows, 合计 row of =SUM formulas, footer).
  Zero counts are written ``—`` in some districts (see ``FLOOD_DASH_COLUMNS``) and exactly three cells are
  written as text with a magnitude/approximation marker (see ``FLOOD_TEXT_CELLS``).

Each file's modification time is set to when its clerk would have dropped it (``submitted_at``): on time,
except 桓仁县's register, 南芬区's volunteer report and 明山区's flood report of 2021-07-29, which are late.
Everything comes from ``random.Random`` seeded per file from ``SEED``; xlsx files are written with fixed
document-property dates and fixed zip entry timestamps, so two runs give byte-identical files.
"""
from __future__ import annotations

import csv
import io
import os
import random
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from etl.places import default_places

SEED = 20220105

DEMO_PERIODS = {
    "service_items": "2021Q4",
    "volunteer_activity": "2022-03",
    "flood_cleanup": ("2021-07-26", "2021-08-01"),
    "task_ledger": "2021-12",
    "rectification_ledger": "2021-12",
    "hotline_tickets": "2021-09",
}

CITY_FOLDER = "市本级"
CITY_CODE = "210500"

# Reporting units in output order: folder name (canonical), place code, the name a clerk writes.
_UNITS: list[tuple[str, str, str]] = [
    ("市本级", "210500", "市本级"),
    ("平山区", "210502", "平山区"),
    ("溪湖区", "210503", "溪湖区"),
    ("明山区", "210504", "明山区"),
    ("南芬区", "210505", "南芬区"),
    ("本溪满族自治县", "210521", "本溪县"),
    ("桓仁满族自治县", "210522", "桓仁县"),
]
_SHORT = {folder: short for folder, _code, short in _UNITS}
_CODE = {folder: code for folder, code, _short in _UNITS}
DISTRICTS = [folder for folder, _c, _s in _UNITS if folder != CITY_FOLDER]


def _rng(*parts: object) -> random.Random:
    """An independent, reproducible generator per file (str seeds are hashed with SHA-512)."""
    return random.Random(":".join([str(SEED), *map(str, parts)]))


# --------------------------------------------------------------------------------------------------
# xlsx writing with stable bytes

_ZIP_EPOCH = (2022, 1, 5, 0, 0, 0)


def _save_xlsx(wb: Workbook, path: Path, stamp: datetime) -> None:
    """Save like openpyxl.save_workbook but without the "modified = now" it forces, and with fixed zip
    entry timestamps, so the bytes depend only on the content."""
    wb.properties.creator = "Administrator"
    wb.properties.lastModifiedBy = "Administrator"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # closes the archive
    raw.seek(0)
    out = io.BytesIO()
    stamp_tuple = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp_tuple if stamp.year >= 1980 else _ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def _exact_split(rng: random.Random, total: int, n: int, lo: int, hi: int) -> list[int]:
    """n integers in [lo, hi] summing exactly to total."""
    if not n * lo <= total <= n * hi:
        raise ValueError(f"cannot split {total} into {n} values in [{lo}, {hi}]")
    values = [rng.randint(lo, hi) for _ in range(n)]
    diff = total - sum(values)
    while diff:
        i = rng.randrange(n)
        if diff > 0 and values[i] < hi:
            values[i] += 1
            diff -= 1
        elif diff < 0 and values[i] > lo:
            values[i] -= 1
            diff += 1
    return values


# --------------------------------------------------------------------------------------------------
# 1. service_items — 政务服务事项清单 2021Q4

# unit folder → (items, 依申请 items, 依申请 items not in the service hall)
SERVICE_ITEM_COUNTS: dict[str, tuple[int, int, int]] = {
    "市本级": (7012, 1950, 14),
    "平山区": (3986, 1108, 8),
    "溪湖区": (3705, 1031, 7),
    "明山区": (3528, 982, 6),
    "南芬区": (1893, 526, 3),
    "本溪满族自治县": (2406, 669, 5),
    "桓仁满族自治县": (2141, 595, 5),
}
SERVICE_TOTALS = (24671, 6861, 48)
assert tuple(map(sum, zip(*SERVICE_ITEM_COUNTS.values()))) == SERVICE_TOTALS

NOT_IN_HALL_REASONS = ("涉密", "场地限制", "需现场勘验", "专业设备限制")

_DEPARTMENTS = {
    "审批": "行政审批局",
    "市监": "市场监督管理局",
    "公安": "公安局",
    "人社": "人力资源和社会保障局",
    "民政": "民政局",
    "住建": "住房和城乡建设局",
    "自然资源": "自然资源局",
    "卫健": "卫生健康局",
    "教育": "教育局",
    "交通": "交通运输局",
    "应急": "应急管理局",
    "城管": "城市管理综合行政执法局",
    "退役": "退役军人事务局",
    "医保": "医疗保障局",
    "水利": "水利局",
    "生态": "生态环境局",
    "文旅": "文化旅游和广播电视局",
    "税务": "税务局",
}

# item type → [(base item name, department key)]
_APPLICATION_ITEMS: dict[str, list[tuple[str, str]]] = {
    "行政许可": [
        ("食品经营许可", "审批"), ("药品零售企业经营许可", "审批"), ("建筑工程施工许可证核发", "审批"),
        ("建设工程规划许可证核发", "审批"), ("公共场所卫生许可", "审批"), ("取水许可", "审批"),
        ("道路旅客运输经营许可", "审批"), ("出租汽车经营许可", "交通"), ("危险化学品经营许可", "应急"),
        ("城镇污水排入排水管网许可", "审批"), ("城市建筑垃圾处置核准", "城管"), ("娱乐场所经营许可", "文旅"),
        ("医疗机构执业登记", "卫健"), ("民办学校办学许可", "教育"), ("燃气经营许可", "住建"),
        ("特种设备使用登记", "市监"), ("户外广告设施设置审批", "城管"), ("占用、挖掘城市道路审批", "城管"),
        ("临时占用林地审批", "自然资源"), ("机动车驾驶证核发", "公安"), ("互联网上网服务营业场所经营许可", "文旅"),
        ("人力资源服务许可", "人社"), ("排污许可", "生态"), ("河道管理范围内建设项目工程建设方案审批", "水利"),
    ],
    "行政给付": [
        ("最低生活保障金给付", "民政"), ("特困人员救助供养金给付", "民政"), ("临时救助金给付", "民政"),
        ("困难残疾人生活补贴和重度残疾人护理补贴给付", "民政"), ("高龄津贴发放", "民政"),
        ("优抚对象抚恤金给付", "退役"), ("失业保险金申领", "人社"), ("工伤保险待遇支付", "人社"),
    ],
    "行政确认": [
        ("居民身份证申领", "公安"), ("户口迁移登记", "公安"), ("婚姻登记", "民政"), ("不动产登记", "自然资源"),
        ("退役士兵身份确认", "退役"), ("专业技术职务任职资格评审", "人社"), ("工伤认定", "人社"),
        ("职业病诊断机构备案", "卫健"),
    ],
    "行政裁决": [
        ("林木林地权属争议裁决", "自然资源"), ("土地权属争议裁决", "自然资源"), ("专利侵权纠纷行政裁决", "市监"),
    ],
    "行政奖励": [("见义勇为人员奖励", "公安"), ("科学技术奖励", "审批")],
    "公共服务": [
        ("社会保障卡申领", "人社"), ("住房公积金提取", "住建"), ("住房公积金贷款申请", "住建"),
        ("义务教育阶段入学登记", "教育"), ("灵活就业人员参保登记", "人社"), ("就业登记与失业登记", "人社"),
        ("基本医疗保险关系转移接续", "医保"), ("基本养老保险关系转移接续", "人社"), ("个人档案查询", "人社"),
        ("生育登记服务", "卫健"), ("个体工商户设立登记", "市监"), ("企业设立登记", "市监"),
        ("异地就医备案", "医保"), ("用水用气报装", "住建"),
    ],
}
_APPLICATION_TYPE_WEIGHTS = {"行政许可": 40, "行政给付": 10, "行政确认": 18, "行政裁决": 2, "行政奖励": 2,
                             "公共服务": 28}

_OTHER_ITEMS: dict[str, list[tuple[str, str]]] = {
    "行政处罚": [
        ("对未取得食品经营许可从事食品经营活动的处罚", "市监"), ("对违反道路交通安全法律法规行为的处罚", "公安"),
        ("对擅自占用城市道路的处罚", "城管"), ("对生产经营单位未按规定进行安全生产教育培训的处罚", "应急"),
        ("对违法排放污染物的处罚", "生态"), ("对医疗机构使用非卫生技术人员的处罚", "卫健"),
        ("对违反价格法律法规行为的处罚", "市监"), ("对违法建设的处罚", "城管"), ("对非法采矿的处罚", "自然资源"),
        ("对用人单位拖欠劳动者工资的处罚", "人社"), ("对未经许可从事道路运输经营的处罚", "交通"),
        ("对违反治安管理行为的处罚", "公安"), ("对在河道管理范围内违法建设的处罚", "水利"),
        ("对违法经营性演出的处罚", "文旅"),
    ],
    "行政强制": [
        ("查封、扣押不符合食品安全标准的食品", "市监"), ("强制拆除违法建筑物、构筑物", "城管"),
        ("扣留违法车辆", "公安"), ("查封违法排放污染物的设施设备", "生态"), ("加处罚款", "税务"),
    ],
    "行政检查": [
        ("对食品生产经营活动的监督检查", "市监"), ("安全生产监督检查", "应急"), ("建筑施工扬尘污染防治检查", "住建"),
        ("对用人单位遵守劳动保障法律法规情况的检查", "人社"), ("公共场所卫生监督检查", "卫健"),
        ("对校外培训机构的监督检查", "教育"), ("道路运输企业安全检查", "交通"), ("消防监督检查", "应急"),
    ],
    "行政征收": [
        ("城市基础设施配套费征收", "住建"), ("污水处理费征收", "住建"), ("土地闲置费征收", "自然资源"),
        ("水土保持补偿费征收", "水利"),
    ],
    "其他行政权力": [
        ("建设工程竣工验收备案", "住建"), ("农村集体经济组织财务审计", "自然资源"), ("体育赛事活动备案", "文旅"),
        ("社会组织年度检查", "民政"), ("生产安全事故应急预案备案", "应急"),
    ],
}
_OTHER_TYPE_WEIGHTS = {"行政处罚": 55, "行政强制": 8, "行政检查": 20, "行政征收": 4, "其他行政权力": 13}

_ITEM_VARIANTS = ("", "", "", "（新办）", "（变更）", "（延续）", "（注销）")
_LEGAL_DAYS = (1, 3, 5, 5, 7, 10, 10, 15, 15, 20, 20, 20, 30, 30, 45, 60)


def _department(unit: str, key: str) -> str:
    short = _SHORT[unit]
    if unit == CITY_FOLDER:
        return f"本溪市{_DEPARTMENTS[key]}"
    if key == "公安":
        return f"本溪市公安局{short.removesuffix('区').removesuffix('县')}分局"
    if key == "税务":
        return f"国家税务总局本溪市{short}税务局"
    if key == "自然资源":
        return f"本溪市自然资源局{short}分局"
    return f"{short}{_DEPARTMENTS[key]}"


@dataclass(frozen=True)
class _ServiceLayout:
    title: str
    headers: dict[str, str]  # column name → header text as the clerk typed it
    order: tuple[str, ...]
    yes: str = "是"
    no: str = "否"
    online_yes: str = "是"
    online_no: str = "否"


_SERVICE_ORDER = ("item_code", "item_name", "department", "district", "item_type", "is_application",
                  "in_service_hall", "not_in_hall_reason", "online", "legal_days", "promised_days",
                  "max_visits")
_SERVICE_CANONICAL = {
    "item_code": "事项编码", "item_name": "事项名称", "department": "实施部门", "district": "所属区县",
    "item_type": "事项类型", "is_application": "是否依申请", "in_service_hall": "是否进驻政务服务中心",
    "not_in_hall_reason": "不进厅原因", "online": "是否网上可办", "legal_days": "法定时限（工作日）",
    "promised_days": "承诺时限（工作日）", "max_visits": "最多跑动次数",
}
_QUARTER_TITLE = "（2021年第四季度）"


def _service_layout(unit: str) -> _ServiceLayout:
    h = dict(_SERVICE_CANONICAL)
    title = f"{unit if unit != CITY_FOLDER else '本溪市市本级'}政务服务事项清单{_QUARTER_TITLE}"
    order = _SERVICE_ORDER
    kw: dict[str, str] = {}
    if unit == "平山区":
        h.update(in_service_hall="是否进厅", promised_days="承诺时限(工作日)")
    elif unit == "溪湖区":
        h.update(department="实施主体", district="区县", legal_days="法定时限(工作日)",
                 promised_days="承诺时限(工作日)")
        order = ("item_code", "item_name", "district", "department", *_SERVICE_ORDER[4:])
    elif unit == "明山区":
        h.update(online="是否一网通办", max_visits="最多跑动次数（次）")
    elif unit == "南芬区":
        h.update(district="县区", legal_days="法定时限\n（工作日）", promised_days="承诺时限\n（工作日）")
    elif unit == "本溪满族自治县":  # like the 本溪县 sample
        title = "本溪满族自治县政务服务事项清单"
        h.update(district="县区", promised_days="承诺时限(工作日)")
        kw = {"online_yes": "√"}
    elif unit == "桓仁满族自治县":
        h.update(in_service_hall="是否进厅", online="是否一网通办")
        kw = {"yes": "√", "no": "×", "online_yes": "√", "online_no": "×"}
    return _ServiceLayout(title, h, order, **kw)


def _service_rows(unit: str) -> list[dict]:
    rng = _rng("service_items", unit)
    total, applications, out_of_hall = SERVICE_ITEM_COUNTS[unit]
    kinds = (["app_hall"] * (applications - out_of_hall) + ["app_out"] * out_of_hall
             + ["other"] * (total - applications))
    rng.shuffle(kinds)
    app_types, app_w = zip(*_APPLICATION_TYPE_WEIGHTS.items())
    other_types, other_w = zip(*_OTHER_TYPE_WEIGHTS.items())
    prefix = f"11{_CODE[unit]}"
    rows = []
    for seq, kind in enumerate(kinds, start=1):
        is_app = kind != "other"
        if is_app:
            item_type = rng.choices(app_types, app_w)[0]
            name, dept = rng.choice(_APPLICATION_ITEMS[item_type])
            name += rng.choice(_ITEM_VARIANTS)
        else:
            item_type = rng.choices(other_types, other_w)[0]
            name, dept = rng.choice(_OTHER_ITEMS[item_type])
        legal = rng.choice(_LEGAL_DAYS) if rng.random() < 0.8 else rng.randint(1, 60)
        r = rng.random()
        if legal <= 2 or r < 0.12:
            promised = legal
        elif r < 0.85:
            promised = max(1, round(legal / 2))
        else:
            promised = rng.randint(1, legal)
        rows.append({
            "item_code": f"{prefix}{seq:08d}",
            "item_name": name,
            "department": _department(unit, dept) if rng.random() < 0.85 or not is_app
            else _department(unit, "审批"),
            "district": _SHORT[unit],
            "item_type": item_type,
            "is_application": is_app,
            "in_service_hall": kind == "app_hall",
            "not_in_hall_reason": rng.choice(NOT_IN_HALL_REASONS) if kind == "app_out" else None,
            "online": rng.random() < (0.93 if is_app else 0.86),
            "legal_days": legal,
            "promised_days": promised,
            "max_visits": rng.choices((0, 1, 2), (55, 38, 7))[0],
        })
    return rows


def _write_service_items(inbox: Path, unit: str) -> Path:
    layout = _service_layout(unit)
    wb = Workbook()
    notes = wb.active
    notes.title = "填表说明"
    notes["A1"] = "请按模板填写，是否类填“是/否”，时限单位为工作日；不进驻政务服务中心的依申请事项须填写不进厅原因。"
    notes.column_dimensions["A"].width = 90
    ws = wb.create_sheet("事项清单")
    ncol = len(layout.order)
    ws.cell(1, 1, layout.title)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.append([layout.headers[c] for c in layout.order])
    for letter, width in zip("ABCDEFGHIJKL", (20, 36, 26, 10, 12, 10, 12, 12, 10, 10, 10, 10)):
        ws.column_dimensions[letter].width = width

    def yn(value: bool, yes: str, no: str) -> str:
        return yes if value else no

    code_col = layout.order.index("item_code") + 1
    for r, row in enumerate(_service_rows(unit), start=3):
        values = dict(row)
        values["is_application"] = yn(row["is_application"], layout.yes, layout.no)
        values["in_service_hall"] = yn(row["in_service_hall"], layout.yes, layout.no)
        values["online"] = yn(row["online"], layout.online_yes, layout.online_no)
        ws.append([values[c] for c in layout.order])
        ws.cell(r, code_col).number_format = "@"  # 16-digit codes must stay text
    path = inbox / unit / f"{unit}_政务服务事项清单_{DEMO_PERIODS['service_items']}.xlsx"
    _save_xlsx(wb, path, datetime(2022, 1, 5, 9, 30))
    return path


# --------------------------------------------------------------------------------------------------
# 2. volunteer_activity — 志愿服务活动统计 2022-03

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

_COMMUNITY_NAMES = (
    "幸福", "和平", "东兴", "光明", "新华", "胜利", "铁路", "向阳", "建设", "永丰", "站前",
    "工人", "园林", "春光", "育才", "富民", "北山", "南山", "河畔", "丽景", "朝阳", "民主", "团结", "文化",
    "康乐", "福泰", "新兴", "宏达", "金山", "翠湖", "紫金", "太平", "长青", "振兴", "红旗", "锦绣", "安乐",
    "兴隆", "永安", "祥和", "东升", "新城", "华育", "景福", "钢城", "滨河", "溪园", "明珠", "彩虹", "桥北",
    "桥南", "东胜", "西城", "牡丹", "迎宾", "温泉", "广裕", "友谊", "曙光", "健康", "山城", "清河", "铁东",
    "金桥", "荣华", "丰收", "花园", "龙泉",
)
# communities named in the seed articles, pinned to their streets
_SEED_COMMUNITIES = {("平山区", "千金街道"): "化肥社区", ("本溪满族自治县", "观音阁街道"): "棉织社区"}
_VILLAGE_NAMES = (
    "大堡", "双岭", "老秃顶", "夹河", "偏岭", "南甸", "高台", "黑沟", "石门", "马家", "红土", "柳河",
    "东营坊", "西江", "二道沟", "三道岭", "碱厂", "太平哨", "北甸", "下甸", "蒲石河", "汤沟", "大川", "青石",
    "古城", "八里甸", "四平", "砬子", "对面", "头道岭", "榆树", "沙河", "向阳", "新开岭", "卧龙", "窑沟",
    "老边沟", "宽甸", "荒沟", "平岭",
)
_DISTRICT_UNITS = (
    "文明办", "新时代文明实践中心", "团委", "妇联", "总工会", "教育局", "卫生健康局", "民政局", "城市管理局",
    "市场监督管理局", "住房和城乡建设局", "应急管理局", "司法局", "人力资源和社会保障局", "退役军人事务局",
    "残联", "红十字会", "科协", "文化旅游和广播电视局", "消防救援大队", "人民医院", "中医院", "实验小学",
    "第一中学", "第二中学", "融媒体中心",
)


def _communities(rng: random.Random, district: str) -> dict[str, list[str]]:
    """street → community/village names (made up; the reference data has streets only)."""
    streets = default_places_streets(district)
    pool = list(_COMMUNITY_NAMES)
    villages = list(_VILLAGE_NAMES)
    rng.shuffle(pool)
    rng.shuffle(villages)
    out: dict[str, list[str]] = {}
    for street in streets:
        k = rng.randint(5, 8)
        if street.endswith("镇"):
            out[street] = [f"{villages.pop()}村" for _ in range(k)]
        else:
            out[street] = [f"{pool.pop()}社区" for _ in range(k)]
        pinned = _SEED_COMMUNITIES.get((district, street))
        if pinned:
            out[street][0] = pinned
    return out


def default_places_streets(district: str) -> list[str]:
    """Street names of a district (canonical folder name), in places.yaml order."""
    places = default_places()
    code = _CODE[district]
    return [p.name for p in places.places if p.level == "street" and p.parent_code == code]


@dataclass(frozen=True)
class _Team:
    name: str
    unit: str
    home: str  # a place the team usually serves


def _volunteer_teams(district: str) -> list[_Team]:
    rng = _rng("volunteer_activity", "teams", district)
    n_units, n_teams, _ = VOLUNTEER_DRIVE[district]
    communities = _communities(rng, district)
    pool: list[tuple[str, list[str]]] = []  # (unit name, places it serves)
    all_places = [f"{s}{c}" for s, cs in communities.items() for c in cs]
    prefix = _SHORT[district]  # the name the clerk writes: 本溪县, 桓仁县, 平山区 …
    for suffix in _DISTRICT_UNITS:
        pool.append((f"{prefix}{suffix}", all_places))
    for street, comms in communities.items():
        pool.append((f"{prefix}{street}新时代文明实践所", [f"{street}{c}" for c in comms] + [street]))
        for c in comms:
            pool.append((f"{prefix}{street}{c}新时代文明实践站", [f"{street}{c}"]))
    chosen = sorted(rng.sample(range(len(pool)), n_units))
    units = [pool[i] for i in chosen]
    owners = list(range(n_units)) + [rng.randrange(n_units) for _ in range(n_teams - n_units)]
    owners.sort()
    teams = []
    short = _SHORT[district]
    for seq, owner in enumerate(owners, start=1):
        unit, places = units[owner]
        name = f"南芬志愿{seq}队" if district == "南芬区" else f"{short}志愿服务队{seq:03d}"
        teams.append(_Team(name, unit, rng.choice(places)))
    return teams


def _volunteer_rows(district: str) -> list[dict]:
    rng = _rng("volunteer_activity", "rows", district)
    teams = _volunteer_teams(district)
    _units, _n, total = VOLUNTEER_DRIVE[district]
    counts = _exact_split(rng, total, len(teams), 8, 90)
    streets = default_places_streets(district)
    rows = []
    per_person = (1, 1.5, 2, 2, 2.5, 3, 3, 4)
    for team, n in zip(teams, counts):
        kind = rng.choices(("创城", "环境清洁", "文明交通"), (70, 20, 10))[0]
        rows.append({"date": DRIVE_DATE, "team": team, "type": kind, "volunteers": n,
                     "hours": n * rng.choice(per_person), "place": team.home})
    for day, share, kinds in _OTHER_DAYS:
        out = rng.sample(teams, max(1, round(len(teams) * share)))
        for team in out:
            n = rng.randint(6, 45)
            kind = rng.choice(kinds)
            place = team.home if rng.random() < 0.7 else rng.choice(streets)
            rows.append({"date": day, "team": team, "type": kind, "volunteers": n,
                         "hours": n * rng.choice(per_person), "place": place})
    order = {t.name: i for i, t in enumerate(teams)}
    rows.sort(key=lambda r: (r["date"], order[r["team"].name]))
    return rows


_VOLUNTEER_ORDER = ("date", "district", "unit", "team", "activity_type", "volunteers", "hours", "place")
_VOLUNTEER_CANONICAL = {
    "date": "活动日期", "district": "区县", "unit": "组织单位", "team": "志愿服务队", "activity_type": "活动类型",
    "volunteers": "参与志愿者（人）", "hours": "服务时长（小时）", "place": "服务地点",
}
# district → (header overrides, date number format)
_VOLUNTEER_LAYOUT: dict[str, tuple[dict[str, str], str]] = {
    "平山区": ({}, "yyyy-mm-dd"),
    "溪湖区": ({"date": "日期", "district": "县区", "team": "服务队", "volunteers": "参与人数",
              "hours": "服务时长(小时)"}, 'yyyy"年"m"月"d"日"'),
    "明山区": ({"volunteers": "参与志愿者(人)", "hours": "服务时长(小时)"}, "yyyy/m/d"),
    "南芬区": ({}, ""),  # CSV, exactly the sample header
    "本溪满族自治县": ({"district": "所属区县", "team": "志愿队", "volunteers": "志愿者人数"}, 'm"月"d"日"'),
    "桓仁满族自治县": ({"volunteers": "参与志愿者\n（人）", "hours": "服务时长\n（小时）"}, "yyyy-mm-dd"),
}
_VOLUNTEER_REPORTER = {
    "平山区": "平山区文明办", "溪湖区": "溪湖区委宣传部（文明办）", "明山区": "明山区新时代文明实践中心",
    "南芬区": "南芬区文明办", "本溪满族自治县": "本溪县文明办", "桓仁满族自治县": "桓仁县文明办",
}


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(x, 1)


def _write_volunteer(inbox: Path, district: str) -> Path:
    rows = _volunteer_rows(district)
    overrides, date_format = _VOLUNTEER_LAYOUT[district]
    headers = [overrides.get(c, _VOLUNTEER_CANONICAL[c]) for c in _VOLUNTEER_ORDER]
    period = DEMO_PERIODS["volunteer_activity"]
    clerk_district = _SHORT[district]

    def record(r: dict) -> dict:
        return {"date": r["date"], "district": clerk_district, "unit": r["team"].unit, "team": r["team"].name,
                "activity_type": r["type"], "volunteers": r["volunteers"], "hours": _number(r["hours"]),
                "place": r["place"]}

    if district == "南芬区":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(headers)
        for r in map(record, rows):
            d = r["date"]
            r["date"] = f"{d.year}年{d.month}月{d.day}日"
            writer.writerow([r[c] for c in _VOLUNTEER_ORDER])
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
        ws.append([r[c] for c in _VOLUNTEER_ORDER])
        ws.cell(first + i, 1).number_format = date_format
    last = first + len(rows) - 1
    total_row = last + 1
    ws.cell(total_row, 1, "合计")
    ws.cell(total_row, _VOLUNTEER_ORDER.index("volunteers") + 1, sum(r["volunteers"] for r in rows))
    ws.cell(total_row, _VOLUNTEER_ORDER.index("hours") + 1, _number(sum(r["hours"] for r in rows)))
    ws.cell(total_row + 1, 1, "填报人：  审核人：  联系电话：")
    assert first <= last
    path = inbox / district / f"{district}_志愿服务_{period}.xlsx"
    _save_xlsx(wb, path, datetime(2022, 4, 2, 16, 20))
    return path


# --------------------------------------------------------------------------------------------------
# 3. flood_cleanup — 防汛救灾清理情况日报 2021-07-26 … 2021-08-01

FLOOD_DISTRICTS = ("平山区", "溪湖区", "明山区")
FLOOD_DAYS = [date(2021, 7, 26) + timedelta(days=i) for i in range(7)]

_FLOOD_ORDER = ("date", "district", "street", "personnel", "vehicles", "garbage_tons", "garbage_trips",
                "silt_m3", "water_pumped_m3", "disinfected_streets", "disinfected_toilets", "disinfected_bins",
                "power_restored_households")
_FLOOD_COUNT_COLUMNS = ("vehicles", "garbage_trips", "disinfected_streets", "disinfected_toilets",
                        "disinfected_bins", "power_restored_households")

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
    "平山区": ("平山区防汛救灾清理情况日报", "填报单位：平山区城市管理综合行政执法局", "填报日期：{y}年{m}月{d}日", "日报",
            {"street": "街道", "personnel": "出动人员(人次)", "vehicles": "出动车辆(台次)"}),
    "明山区": ("明山区防汛救灾清理情况日报表", "填报单位：明山区防汛抗旱指挥部办公室", "{y}年{m}月{d}日", "{m}月{d}日",
            {"district": "县区", "silt_m3": "清理淤泥\n（立方米）", "water_pumped_m3": "排水量(立方米)",
             "power_restored_households": "恢复供电(户)", "disinfected_streets": "街道(条)",
             "disinfected_toilets": "公厕(座)", "disinfected_bins": "垃圾箱(个)"}),
}
_FLOOD_HEADERS = {
    "date": "日期", "district": "区县", "street": "街道（乡镇）", "personnel": "出动人员（人次）",
    "vehicles": "出动车辆（台次）", "garbage_tons": "吨", "garbage_trips": "车次", "silt_m3": "清理淤泥（立方米）",
    "water_pumped_m3": "排水量（立方米）", "disinfected_streets": "街道（条）", "disinfected_toilets": "公厕（座）",
    "disinfected_bins": "垃圾箱（个）", "power_restored_households": "恢复供电（户）",
}
_FLOOD_PARENTS = {"garbage_tons": "清运垃圾", "garbage_trips": "清运垃圾", "disinfected_streets": "消杀",
                  "disinfected_toilets": "消杀", "disinfected_bins": "消杀"}


def _flood_values(district: str) -> dict[tuple[date, str], dict[str, int | float]]:
    """(day, street) → numeric values for the whole week of one district."""
    rng = _rng("flood_cleanup", district)
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


def _write_flood(inbox: Path, district: str, day: date, values: dict[tuple[date, str], dict]) -> Path:
    title, reporter, date_text, sheet_pattern, overrides = _FLOOD_LAYOUT[district]
    fmt = {"y": day.year, "m": day.month, "d": day.day}
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_pattern.format(**fmt)
    ncol = len(_FLOOD_ORDER)
    col = {name: i + 1 for i, name in enumerate(_FLOOD_ORDER)}
    ws.cell(1, 1, title)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.cell(2, 1, reporter)
    ws.cell(2, col["disinfected_streets"], date_text.format(**fmt))
    # two-row header: parents over their children, every other header merged over both rows
    seen_parents: set[str] = set()
    for name in _FLOOD_ORDER:
        c = col[name]
        text = overrides.get(name, _FLOOD_HEADERS[name])
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
        for name in _FLOOD_ORDER[3:]:
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
    for name in _FLOOD_ORDER[3:]:
        letter = ws.cell(total, col[name]).column_letter
        ws.cell(total, col[name], f"=SUM({letter}{first}:{letter}{last})")
    ws.cell(total + 1, 1, "填报人：")
    ws.cell(total + 1, 4, "审核人：")
    ws.cell(total + 1, 7, "联系电话：")
    path = inbox / district / f"{district}_防汛日报_{day.isoformat()}.xlsx"
    stamp = datetime.combine(day + timedelta(days=1), datetime.min.time()).replace(hour=8, minute=40)
    _save_xlsx(wb, path, stamp)
    return path


def _apply_text_cells(district: str, values: dict[tuple[date, str], dict]) -> None:
    """Make the stored numbers agree with what the marked text cells parse to."""
    for (d, day, street, name), (_text, number, _approx) in FLOOD_TEXT_CELLS.items():
        if d == district:
            values[(date.fromisoformat(day), street)][name] = number


# --------------------------------------------------------------------------------------------------


def write_demo_files(shared_dir: Path) -> list[Path]:
    """Write the demo district files into shared_dir/'inbox'/<folder>/ and return their paths."""
    inbox = Path(shared_dir) / "inbox"
    paths: list[Path] = []
    for unit, _code, _short in _UNITS:
        paths.append(_write_service_items(inbox, unit))
    for district in DISTRICTS:
        paths.append(_write_volunteer(inbox, district))
    for district in FLOOD_DISTRICTS:
        values = _flood_values(district)
        _apply_text_cells(district, values)
        for day in FLOOD_DAYS:
            paths.append(_write_flood(inbox, district, day, values))
    from etl.demo_hotline import write_hotline_files  # local imports: both modules import this one
    from etl.demo_ledgers import write_ledger_files

    paths += write_ledger_files(shared_dir) + write_hotline_files(shared_dir)
    for path in paths:
        stamp = submitted_at(path).replace(tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
        os.utime(path, (stamp, stamp))
    return paths


def record_demo_submissions(settings, paths: list[Path]) -> None:
    """Demo only — not the production path: the received time of each demo file is its clerk's realistic
    submission time (``submitted_at``), set in the warehouse as if a scan had seen it then
    (etl.sightings). Production takes the moment a scan first sees a file; nothing in the shared folder
    can set it."""
    from etl import sightings
    from etl.names import path_key
    from etl.schema import ensure_schema
    from etl.warehouse import get_engine

    engine = get_engine(settings.warehouse_url)
    ensure_schema(engine)
    for path in paths:
        sightings.preset(engine, path_key(settings.inbox, path), submitted_at(path), sightings.DEMO, path.stat().st_mtime)


LATE = {("桓仁满族自治县", "政务服务事项清单"), ("南芬区", "志愿服务"), ("明山区", "防汛日报_2021-07-29")}


def submitted_at(path: Path) -> datetime:
    """When the clerk dropped the file, Beijing time (its mtime, and its received time through
    ``record_demo_submissions``)."""
    folder, name = path.parent.name, path.name
    late = any(folder == f and marker in name for f, marker in LATE)
    if "政务服务事项清单" in name:  # due 2022-01-05 24:00
        return datetime(2022, 1, 7, 9, 30) if late else datetime(2022, 1, 4, 16, 0)
    if "志愿服务" in name:  # due 2022-04-05 24:00
        return datetime(2022, 4, 8, 11, 0) if late else datetime(2022, 4, 2, 10, 0)
    if "防汛日报" in name:  # due 10:00 the next day
        day = date.fromisoformat(name.rsplit("_", 1)[1][:10]) + timedelta(days=1)
        return datetime.combine(day, datetime.min.time()) + (timedelta(hours=14) if late else timedelta(hours=8, minutes=30))
    if "12345" in name:  # due 2021-10-03 24:00
        return datetime(2021, 10, 2, 9, 0)
    return datetime(2022, 1, 5, 15, 0)  # ledgers, due 2022-01-05 24:00
