"""老旧小区改造项目台账 — the monthly ledger of old residential compound renovation projects.

Each district sends its whole ledger every month: one row per compound project with its state at the end
of the month. Like the other ledgers the period is the ledger's month, read from the title or the file
name, never from the data (start and due dates span the whole programme).

Key: ``project`` (项目名称, or the compound's name when the ledger lists 小区名称): a compound listed twice
would count its buildings, households and investment twice, so a duplicate is critical.

改造内容 lists one or more of the three kinds of work, separated by 、 or ， (clerks use both, and commas
and semicolons too). ``derive`` writes it back in one canonical form (the kinds joined by 、, in the order
written) and adds one flag per kind, so the views can count compounds by kind of work without parsing
text in SQL. A part that is none of the three stays in the text and the suite names it.

Derived (ours; DOMAIN.md has no rule beyond the columns):

* ``scope_building`` / ``scope_facilities`` / ``scope_gas``  the row's 改造内容 includes 楼本体改造 /
  基础配套设施改造 / 燃气管网改造.
* ``overdue``  工程状态 is not 已完工 and 计划完工时间 is on or before the last day of the ledger's month.
"""

from __future__ import annotations

import re

import pandas as pd

from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract
from etl.contracts.publication import Chart, Col, Definition, Publication
from etl.ingest.parse.frames import dates, texts
from etl.reference.periods import period_end

COMPLETED = "已完工"
STATUSES = ("未开工", "在建", "已完工")
SCOPES = {"scope_building": "楼本体改造", "scope_facilities": "基础配套设施改造", "scope_gas": "燃气管网改造"}
_SEPARATOR_RUN = re.compile(r"(?:\s*[、，,；;/]\s*)+")


def canonical_scopes(values: pd.Series) -> pd.Series:
    """' 楼本体改造，燃气管网改造 ' → '楼本体改造、燃气管网改造', cell by cell in one vectorised pass; a missing
    value, or one of separators only, is None."""
    text = values.astype("string").str.strip().str.replace(_SEPARATOR_RUN, "、", regex=True).str.strip("、")
    text = text.mask(text == "")
    return text.astype(object).where(text.notna(), None)


def derive(frame: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    out = frame.copy()
    scope = canonical_scopes(texts(frame, "scope"))
    if "scope" in frame:
        out["scope"] = scope
    for column, kind in SCOPES.items():
        listed = scope.astype("string").str.contains(f"(?:^|、){kind}(?:、|$)", regex=True)
        out[column] = listed.fillna(False).astype("boolean")
    status, due = texts(frame, "status"), dates(frame, "due_date")
    end = period_end(period)
    if end is None:
        out["overdue"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    else:
        finished = (status == COMPLETED).fillna(False).astype(bool)
        out["overdue"] = (status.notna() & ~finished & due.notna() & (due <= pd.Timestamp(end))).astype("boolean")
    return out


_BY_DISTRICT = "mart_old_compound_renovation_by_district"

PUBLICATION = Publication(
    order=70,
    sheet="老旧小区改造",
    title_zh="老旧小区改造",
    title_en="Old residential compound renovation",
    view=_BY_DISTRICT,
    period_col="period",
    period_label="月份",
    columns=(
        Col("projects", "改造小区（个）", width=14),
        Col("streets", "涉及街道（个）", width=14),
        Col("buildings", "改造楼栋（栋）", width=14),
        Col("households", "受益户数（户）", width=14),
        Col("investment_10k_yuan", "总投资（万元）", "dec2", 14),
        Col("completed", "已完工（个）", width=13),
        Col("completed_share_pct", "完工占比", "pct"),
        Col("in_construction", "在建（个）"),
        Col("not_started", "未开工（个）", width=13),
        Col("overdue", "逾期未完工（个）", width=15),
        Col("cameras", "视频监控点位（个）", width=17),
        Col("access_doors", "门禁（个）"),
    ),
    rank_key="households",
    rank_header="受益户数排名",
    deltas=(
        Col("households", "受益户数较上期", "d_int", 15),
        Col("completed_share_pct", "完工占比较上期（百分点）", "d_pp", 18),
    ),
    chart=Chart("bar", "各区县老旧小区改造受益户数（户）", ("households",), y_title="户"),
    headline=(
        ("projects", "改造小区", "int", "个"),
        ("buildings", "改造楼栋", "int", "栋"),
        ("households", "受益户数", "int", "户"),
        ("investment_10k_yuan", "总投资", "dec2", "万元"),
        ("completed_share_pct", "完工占比", "pct", ""),
    ),
    notes=("完工占比 = 工程状态为已完工的小区 ÷ 台账所列小区；各项数量为当月台账（最新一版）之和。",),
    definitions=(
        Definition(
            "改造小区 / 改造楼栋 / 受益户数 / 总投资",
            "当月台账所列改造项目（小区）数，及其改造楼栋数、受益户数、总投资（万元）之和；各区县以最新一版台账为准。",
            "old compound renovation, 明山区 2022 | 13 compounds (明山, 北地, 高峪 streets), 85 residential "
            "buildings, 5,113 households, total investment 7,874.97 万元",
            _BY_DISTRICT,
            "projects, buildings, households, investment_10k_yuan",
        ),
        Definition(
            "完工占比",
            "工程状态为已完工的小区 ÷ 台账所列小区 × 100%，保留两位小数（DOMAIN.md 未规定，按视图口径）。",
            "",
            _BY_DISTRICT,
            "completed, completed_share_pct",
        ),
        Definition(
            "逾期未完工",
            "未完工且计划完工时间不晚于台账月末的小区（DOMAIN.md 未规定，按视图口径）。",
            "",
            _BY_DISTRICT,
            "overdue",
        ),
        Definition(
            "视频监控点位 / 门禁",
            "各项目安装的视频监控点位、门禁数之和（智慧小区）。",
            "166 video points and 334 access-controlled doors installed (智慧小区)",
            _BY_DISTRICT,
            "cameras, access_doors",
        ),
    ),
    printout=(
        "projects",
        "buildings",
        "households",
        "investment_10k_yuan",
        "completed_share_pct",
        "cameras",
        "access_doors",
    ),
)

CONTRACT = ReportContract(
    report_type="old_compound_renovation",
    title_zh="老旧小区改造项目台账",
    period_grain="month",
    fact_table="fct_old_compound_renovation",
    key=("project",),
    date_column=None,  # a month-end ledger: the period is in the title or the file name
    columns=(
        C("seq", "序号", "int"),
        C("project", "项目名称", aliases=("小区名称", "改造项目", "项目（小区）名称"), required=True),
        C("district", "区县", "district", aliases=("县区", "所属区县"), required=True),
        C("street", "街道", "street", aliases=("街道（乡镇）", "所属街道", "乡镇")),
        C("buildings", "改造楼栋数（栋）", "int", aliases=("楼栋数", "改造楼栋"), unit="栋", required=True),
        C("households", "受益户数（户）", "int", aliases=("户数", "受益居民户数"), unit="户", required=True),
        C("scope", "改造内容", aliases=("改造类型", "主要改造内容")),
        C("investment_10k_yuan", "总投资（万元）", "decimal", aliases=("投资额", "项目总投资"), unit="万元"),
        C("start_date", "开工日期", "date", aliases=("开工时间",)),
        C("due_date", "计划完工时间", "date", aliases=("计划完工日期", "计划竣工时间")),
        C("status", "工程状态", aliases=("项目状态", "进展情况"), required=True),
        C("cameras", "视频监控点位（个）", "int", aliases=("视频监控", "监控点位"), unit="个", blank_is_zero=True),
        C("access_doors", "门禁（个）", "int", aliases=("门禁系统",), unit="个", blank_is_zero=True),
    ),
    derived=(
        C("scope_building", "含楼本体改造", "bool"),
        C("scope_facilities", "含基础配套设施改造", "bool"),
        C("scope_gas", "含燃气管网改造", "bool"),
        C("overdue", "是否逾期未完工", "bool"),
    ),
    derive=derive,
    publication=PUBLICATION,
)
