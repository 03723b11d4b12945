"""One declarative contract per report type: the single source of truth for columns, Chinese headers and
aliases, value kinds, units and keys. The parser, the loader and the warehouse checks are all driven from
here; business rules (enums, ranges, cross-column rules) live in the Great Expectations suite named by
``suite`` under ``expectations/``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from etl.text import fold

# Value kinds the parser knows how to normalise (see etl/values.py).
KINDS = {"text", "code", "int", "decimal", "date", "bool", "district", "street"}


@dataclass(frozen=True)
class Column:
    name: str
    header: str  # canonical Chinese header as printed on the official template
    kind: str = "text"
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    required: bool = False  # the column must be present in the file
    blank_is_zero: bool = False  # counts where clerks write —, -, /, 无 for "none"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind}")


@dataclass(frozen=True)
class ReportContract:
    report_type: str
    title_zh: str
    period_grain: str  # quarter | month | day
    fact_table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    date_column: str | None = None  # the column the period is read from, when the data carries one
    district_column: str = "district"
    suite: str = field(default="")

    @property
    def suite_name(self) -> str:
        return self.suite or self.report_type

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def header_index(self) -> dict[str, str]:
        """Folded header key → column name, covering the canonical header, every alias, and the
        header without its unit when that is unambiguous within this report type."""
        index: dict[str, str] = {}
        base_owners: dict[str, set[str]] = {}
        for col in self.columns:
            for text in (col.header, *col.aliases):
                index[header_key(text)] = col.name
                base_owners.setdefault(header_base(text), set()).add(col.name)
        for base, owners in base_owners.items():
            if len(owners) == 1:
                index.setdefault(base, next(iter(owners)))
        return index


_BRACKETS = re.compile(r"[()\[\]【】〔〕<>《》:：]")
_UNIT_SUFFIX = re.compile(r"\(.*\)$")


def header_key(text: object) -> str:
    """清运垃圾（吨）, 清运垃圾(吨), 清运垃圾 吨 and a two-row 清运垃圾 | 吨 all fold to 清运垃圾吨."""
    return _BRACKETS.sub("", fold(text))


def header_base(text: object) -> str:
    """The header without a trailing unit in brackets: 出动人员（人次） → 出动人员."""
    return header_key(_UNIT_SUFFIX.sub("", fold(text)))


C = Column

SERVICE_ITEMS = ReportContract(
    report_type="service_items",
    title_zh="政务服务事项清单",
    period_grain="quarter",
    fact_table="fct_service_item",
    key=("item_code",),
    columns=(
        C("item_code", "事项编码", "code", required=True),
        C("item_name", "事项名称", required=True),
        C("department", "实施部门", aliases=("实施主体",)),
        C("district", "所属区县", "district", aliases=("区县", "县区"), required=True),
        C("item_type", "事项类型", required=True),
        C("is_application", "是否依申请", "bool", required=True),
        C("in_service_hall", "是否进驻政务服务中心", "bool", aliases=("是否进厅",), required=True),
        C("not_in_hall_reason", "不进厅原因"),
        C("online", "是否网上可办", "bool", aliases=("是否一网通办",)),
        C("legal_days", "法定时限（工作日）", "int", unit="工作日"),
        C("promised_days", "承诺时限（工作日）", "int", unit="工作日"),
        C("max_visits", "最多跑动次数", "int", unit="次"),
    ),
)

FLOOD_CLEANUP = ReportContract(
    report_type="flood_cleanup",
    title_zh="防汛救灾清理情况日报",
    period_grain="day",
    fact_table="fct_flood_cleanup",
    key=("date", "street"),
    date_column="date",
    columns=(
        C("date", "日期", "date", required=True),
        C("district", "区县", "district", aliases=("县区", "所属区县"), required=True),
        C("street", "街道（乡镇）", "street", aliases=("街道", "乡镇", "街道乡镇"), required=True),
        C("personnel", "出动人员（人次）", "int", unit="人次", blank_is_zero=True, required=True),
        C("vehicles", "出动车辆（台次）", "int", unit="台次", blank_is_zero=True),
        C("garbage_tons", "清运垃圾（吨）", "decimal", unit="吨", blank_is_zero=True),
        C("garbage_trips", "清运垃圾（车次）", "int", unit="车次", blank_is_zero=True),
        C("silt_m3", "清理淤泥（立方米）", "decimal", unit="立方米", blank_is_zero=True),
        C("water_pumped_m3", "排水量（立方米）", "decimal", unit="立方米", blank_is_zero=True),
        C("disinfected_streets", "消杀街道（条）", "int", unit="条", blank_is_zero=True),
        C("disinfected_toilets", "消杀公厕（座）", "int", unit="座", blank_is_zero=True),
        C("disinfected_bins", "消杀垃圾箱（个）", "int", unit="个", blank_is_zero=True),
        C("power_restored_households", "恢复供电（户）", "int", unit="户", blank_is_zero=True),
    ),
)

VOLUNTEER_ACTIVITY = ReportContract(
    report_type="volunteer_activity",
    title_zh="志愿服务活动统计",
    period_grain="month",
    fact_table="fct_volunteer_activity",
    key=("date", "team", "place"),
    date_column="date",
    columns=(
        C("date", "活动日期", "date", aliases=("日期",), required=True),
        C("district", "区县", "district", aliases=("县区", "所属区县"), required=True),
        C("unit", "组织单位", required=True),
        C("team", "志愿服务队", aliases=("服务队", "志愿队"), required=True),
        C("activity_type", "活动类型", required=True),
        C("volunteers", "参与志愿者（人）", "int", unit="人", aliases=("参与人数", "志愿者人数"), required=True),
        C("hours", "服务时长（小时）", "decimal", unit="小时", blank_is_zero=True),
        C("place", "服务地点"),
    ),
)

CONTRACTS: dict[str, ReportContract] = {
    c.report_type: c for c in (SERVICE_ITEMS, FLOOD_CLEANUP, VOLUNTEER_ACTIVITY)
}
