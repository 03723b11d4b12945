"""Demo **service_items** (政务服务事项清单), period 2021Q4.

One xlsx per reporting unit (市本级 + 6 districts), ``<folder>_政务服务事项清单_2021Q4.xlsx``. Sheets:
``填表说明`` (one instruction line) and ``事项清单`` (merged title row 1, header row 2, data from row 3).
City-wide: 24,671 items, 6,861 依申请, of which 48 not in the service hall (each with a 不进厅原因) → in-hall
rate 6,813 / 6,861. Non-application items are written 是否进驻政务服务中心 = 否 with an empty 不进厅原因 (as in
the 本溪县 sample). Units write their headers and yes/no marks differently (是/否, √/×), as clerks do.

Submitted on 2022-01-04 16:00, before the deadline 2022-01-05 24:00 — except 桓仁满族自治县's register,
which arrives late (2022-01-07 09:30).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from demo import common
from demo.common import CITY_FOLDER, CODE, SHORT, UNIT_FOLDERS, inbox_of, save_xlsx

REPORT_TYPES = ("service_items",)
PERIOD = "2021Q4"
PERIODS = {"service_items": PERIOD}
FILE_MARKER = "_政务服务事项清单_"
LATE_UNITS = {"桓仁满族自治县"}

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
        ("食品经营许可", "审批"),
        ("药品零售企业经营许可", "审批"),
        ("建筑工程施工许可证核发", "审批"),
        ("建设工程规划许可证核发", "审批"),
        ("公共场所卫生许可", "审批"),
        ("取水许可", "审批"),
        ("道路旅客运输经营许可", "审批"),
        ("出租汽车经营许可", "交通"),
        ("危险化学品经营许可", "应急"),
        ("城镇污水排入排水管网许可", "审批"),
        ("城市建筑垃圾处置核准", "城管"),
        ("娱乐场所经营许可", "文旅"),
        ("医疗机构执业登记", "卫健"),
        ("民办学校办学许可", "教育"),
        ("燃气经营许可", "住建"),
        ("特种设备使用登记", "市监"),
        ("户外广告设施设置审批", "城管"),
        ("占用、挖掘城市道路审批", "城管"),
        ("临时占用林地审批", "自然资源"),
        ("机动车驾驶证核发", "公安"),
        ("互联网上网服务营业场所经营许可", "文旅"),
        ("人力资源服务许可", "人社"),
        ("排污许可", "生态"),
        ("河道管理范围内建设项目工程建设方案审批", "水利"),
    ],
    "行政给付": [
        ("最低生活保障金给付", "民政"),
        ("特困人员救助供养金给付", "民政"),
        ("临时救助金给付", "民政"),
        ("困难残疾人生活补贴和重度残疾人护理补贴给付", "民政"),
        ("高龄津贴发放", "民政"),
        ("优抚对象抚恤金给付", "退役"),
        ("失业保险金申领", "人社"),
        ("工伤保险待遇支付", "人社"),
    ],
    "行政确认": [
        ("居民身份证申领", "公安"),
        ("户口迁移登记", "公安"),
        ("婚姻登记", "民政"),
        ("不动产登记", "自然资源"),
        ("退役士兵身份确认", "退役"),
        ("专业技术职务任职资格评审", "人社"),
        ("工伤认定", "人社"),
        ("职业病诊断机构备案", "卫健"),
    ],
    "行政裁决": [
        ("林木林地权属争议裁决", "自然资源"),
        ("土地权属争议裁决", "自然资源"),
        ("专利侵权纠纷行政裁决", "市监"),
    ],
    "行政奖励": [("见义勇为人员奖励", "公安"), ("科学技术奖励", "审批")],
    "公共服务": [
        ("社会保障卡申领", "人社"),
        ("住房公积金提取", "住建"),
        ("住房公积金贷款申请", "住建"),
        ("义务教育阶段入学登记", "教育"),
        ("灵活就业人员参保登记", "人社"),
        ("就业登记与失业登记", "人社"),
        ("基本医疗保险关系转移接续", "医保"),
        ("基本养老保险关系转移接续", "人社"),
        ("个人档案查询", "人社"),
        ("生育登记服务", "卫健"),
        ("个体工商户设立登记", "市监"),
        ("企业设立登记", "市监"),
        ("异地就医备案", "医保"),
        ("用水用气报装", "住建"),
    ],
}
_APPLICATION_TYPE_WEIGHTS = {
    "行政许可": 40,
    "行政给付": 10,
    "行政确认": 18,
    "行政裁决": 2,
    "行政奖励": 2,
    "公共服务": 28,
}

_OTHER_ITEMS: dict[str, list[tuple[str, str]]] = {
    "行政处罚": [
        ("对未取得食品经营许可从事食品经营活动的处罚", "市监"),
        ("对违反道路交通安全法律法规行为的处罚", "公安"),
        ("对擅自占用城市道路的处罚", "城管"),
        ("对生产经营单位未按规定进行安全生产教育培训的处罚", "应急"),
        ("对违法排放污染物的处罚", "生态"),
        ("对医疗机构使用非卫生技术人员的处罚", "卫健"),
        ("对违反价格法律法规行为的处罚", "市监"),
        ("对违法建设的处罚", "城管"),
        ("对非法采矿的处罚", "自然资源"),
        ("对用人单位拖欠劳动者工资的处罚", "人社"),
        ("对未经许可从事道路运输经营的处罚", "交通"),
        ("对违反治安管理行为的处罚", "公安"),
        ("对在河道管理范围内违法建设的处罚", "水利"),
        ("对违法经营性演出的处罚", "文旅"),
    ],
    "行政强制": [
        ("查封、扣押不符合食品安全标准的食品", "市监"),
        ("强制拆除违法建筑物、构筑物", "城管"),
        ("扣留违法车辆", "公安"),
        ("查封违法排放污染物的设施设备", "生态"),
        ("加处罚款", "税务"),
    ],
    "行政检查": [
        ("对食品生产经营活动的监督检查", "市监"),
        ("安全生产监督检查", "应急"),
        ("建筑施工扬尘污染防治检查", "住建"),
        ("对用人单位遵守劳动保障法律法规情况的检查", "人社"),
        ("公共场所卫生监督检查", "卫健"),
        ("对校外培训机构的监督检查", "教育"),
        ("道路运输企业安全检查", "交通"),
        ("消防监督检查", "应急"),
    ],
    "行政征收": [
        ("城市基础设施配套费征收", "住建"),
        ("污水处理费征收", "住建"),
        ("土地闲置费征收", "自然资源"),
        ("水土保持补偿费征收", "水利"),
    ],
    "其他行政权力": [
        ("建设工程竣工验收备案", "住建"),
        ("农村集体经济组织财务审计", "自然资源"),
        ("体育赛事活动备案", "文旅"),
        ("社会组织年度检查", "民政"),
        ("生产安全事故应急预案备案", "应急"),
    ],
}
_OTHER_TYPE_WEIGHTS = {"行政处罚": 55, "行政强制": 8, "行政检查": 20, "行政征收": 4, "其他行政权力": 13}

_ITEM_VARIANTS = ("", "", "", "（新办）", "（变更）", "（延续）", "（注销）")
_LEGAL_DAYS = (1, 3, 5, 5, 7, 10, 10, 15, 15, 20, 20, 20, 30, 30, 45, 60)


def _department(unit: str, key: str) -> str:
    short = SHORT[unit]
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
class ServiceLayout:
    title: str
    headers: dict[str, str]  # column name → header text as the clerk typed it
    order: tuple[str, ...]
    yes: str = "是"
    no: str = "否"
    online_yes: str = "是"
    online_no: str = "否"


SERVICE_ORDER = (
    "item_code",
    "item_name",
    "department",
    "district",
    "item_type",
    "is_application",
    "in_service_hall",
    "not_in_hall_reason",
    "online",
    "legal_days",
    "promised_days",
    "max_visits",
)
SERVICE_CANONICAL = {
    "item_code": "事项编码",
    "item_name": "事项名称",
    "department": "实施部门",
    "district": "所属区县",
    "item_type": "事项类型",
    "is_application": "是否依申请",
    "in_service_hall": "是否进驻政务服务中心",
    "not_in_hall_reason": "不进厅原因",
    "online": "是否网上可办",
    "legal_days": "法定时限（工作日）",
    "promised_days": "承诺时限（工作日）",
    "max_visits": "最多跑动次数",
}
_QUARTER_TITLE = "（2021年第四季度）"


def service_layout(unit: str) -> ServiceLayout:
    h = dict(SERVICE_CANONICAL)
    title = f"{unit if unit != CITY_FOLDER else '本溪市市本级'}政务服务事项清单{_QUARTER_TITLE}"
    order = SERVICE_ORDER
    kw: dict[str, str] = {}
    if unit == "平山区":
        h.update(in_service_hall="是否进厅", promised_days="承诺时限(工作日)")
    elif unit == "溪湖区":
        h.update(
            department="实施主体", district="区县", legal_days="法定时限(工作日)", promised_days="承诺时限(工作日)"
        )
        order = ("item_code", "item_name", "district", "department", *SERVICE_ORDER[4:])
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
    return ServiceLayout(title, h, order, **kw)


def service_rows(unit: str) -> list[dict]:
    rng = common.rng("service_items", unit)
    total, applications, out_of_hall = SERVICE_ITEM_COUNTS[unit]
    kinds = ["app_hall"] * (applications - out_of_hall) + ["app_out"] * out_of_hall + ["other"] * (total - applications)
    rng.shuffle(kinds)
    app_types, app_w = zip(*_APPLICATION_TYPE_WEIGHTS.items())
    other_types, other_w = zip(*_OTHER_TYPE_WEIGHTS.items())
    prefix = f"11{CODE[unit]}"
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
        rows.append(
            {
                "item_code": f"{prefix}{seq:08d}",
                "item_name": name,
                "department": _department(unit, dept)
                if rng.random() < 0.85 or not is_app
                else _department(unit, "审批"),
                "district": SHORT[unit],
                "item_type": item_type,
                "is_application": is_app,
                "in_service_hall": kind == "app_hall",
                "not_in_hall_reason": rng.choice(NOT_IN_HALL_REASONS) if kind == "app_out" else None,
                "online": rng.random() < (0.93 if is_app else 0.86),
                "legal_days": legal,
                "promised_days": promised,
                "max_visits": rng.choices((0, 1, 2), (55, 38, 7))[0],
            }
        )
    return rows


def write_service_items(inbox: Path, unit: str) -> Path:
    layout = service_layout(unit)
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
    for r, row in enumerate(service_rows(unit), start=3):
        values = dict(row)
        values["is_application"] = yn(row["is_application"], layout.yes, layout.no)
        values["in_service_hall"] = yn(row["in_service_hall"], layout.yes, layout.no)
        values["online"] = yn(row["online"], layout.online_yes, layout.online_no)
        ws.append([values[c] for c in layout.order])
        ws.cell(r, code_col).number_format = "@"  # 16-digit codes must stay text
    path = inbox / unit / f"{unit}_政务服务事项清单_{PERIOD}.xlsx"
    save_xlsx(wb, path, datetime(2022, 1, 5, 9, 30))
    return path


def write(shared_dir: Path) -> list[Path]:
    """The register of every reporting unit, into shared_dir/'inbox'/<folder>/."""
    inbox = inbox_of(shared_dir)
    return [write_service_items(inbox, unit) for unit in UNIT_FOLDERS]


def submitted_at(path: Path) -> datetime | None:
    """When the clerk dropped a register (due 2022-01-05 24:00); None for any other file."""
    if FILE_MARKER not in path.name:
        return None
    return datetime(2022, 1, 7, 9, 30) if path.parent.name in LATE_UNITS else datetime(2022, 1, 4, 16, 0)
