"""创城督查整改问题台账 — problems found by the civilised-city (创城) inspections and their rectification.

The ledger is cumulative: each month the unit sends every problem assigned to it so far with its state at
the end of the month, so the period comes from the title or the file name (``（2021年12月）`` /
``_2021-12``), not from 发现日期. Key: 问题编号 (the code the 市创城办 gives when it assigns a problem).

整改期限 may be empty: not every problem gets a deadline (the seeds: 357 assigned, 293 with a deadline).
The rectification rate is 已整改 ÷ problems that have a deadline (DOMAIN.md, literally); see
``warehouse_sql/mart_rectification_by_district.sql``.

Derived, computed once at parse time:

* ``has_deadline``  整改期限 is filled in.
* ``overdue``       status 整改中 and 整改期限 on or before the last day of the ledger's month (the ledger
                    states each problem as at the end of the month, so a deadline on the last day that is
                    still open has been missed). No deadline → not overdue. NULL only when the period is
                    unknown (the file is then rejected anyway).
"""

from __future__ import annotations

import pandas as pd

from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract
from etl.contracts.publication import Chart, Col, Definition, Publication
from etl.ingest.parse.frames import dates, texts
from etl.reference.periods import period_end

RECTIFIED, IN_PROGRESS = "已整改", "整改中"
STATUSES = (RECTIFIED, IN_PROGRESS)
CATEGORIES = ("社区卫生环境类", "政务窗口服务类", "商业大街类", "农贸市场经营类", "中小学校及周边", "医院及周边")


def derive(frame: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    deadline, status = dates(frame, "deadline"), texts(frame, "status")
    out = frame.copy()
    out["has_deadline"] = deadline.notna().astype("boolean")
    end = period_end(period)
    if end is None:
        out["overdue"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    else:
        open_ = (status == IN_PROGRESS).fillna(False).astype(bool)
        out["overdue"] = (open_ & deadline.notna() & (deadline <= pd.Timestamp(end))).astype("boolean")
    return out


PUBLICATION = Publication(
    order=30,
    sheet="创城整改",
    title_zh="创城督查问题整改",
    title_en="Civilised-city inspection rectification",
    view="mart_rectification_by_district",
    period_col="period",
    period_label="月份",
    columns=(
        Col("problems", "交办问题"),
        Col("with_deadline", "设定整改期限", width=13),
        Col("rectified", "已整改"),
        Col("rectification_rate_pct", "整改率", "pct"),
        Col("rectified_with_deadline", "有期限且已整改", width=14),
        Col("in_progress", "整改中"),
        Col("overdue", "超期未整改", width=12),
    ),
    rank_key="rectification_rate_pct",
    rank_header="整改率排名",
    deltas=(
        Col("rectified", "已整改较上期", "d_int"),
        Col("rectification_rate_pct", "整改率较上期（百分点）", "d_pp", 16),
    ),
    chart=Chart("bar", "各区县整改率（%）", ("rectification_rate_pct",), y_title="%"),
    headline=(
        ("problems", "交办问题", "int", "个"),
        ("with_deadline", "设定整改期限", "int", "个"),
        ("rectified", "已整改", "int", "个"),
        ("rectification_rate_pct", "整改率", "pct", ""),
    ),
    notes=("整改率 = 已整改问题 ÷ 设定了整改期限的问题（台账为累计台账）。",),
    definitions=(
        Definition(
            "整改率",
            (
                "整改状态为已整改的问题 ÷ 设定了整改期限的问题 × 100%，保留两位小数（203 ÷ 293 = 69.28%）。"
                "未设期限但已整改的问题只计入分子，可与“有期限且已整改”对照。"
            ),
            "Rectification rate: problems 已整改 ÷ problems that have a deadline.",
            "mart_rectification_by_district",
            "rectification_rate_pct, rectified_with_deadline",
        ),
        Definition(
            "超期未整改",
            "整改中且整改期限不晚于台账月末的问题（DOMAIN.md 未规定，按视图口径）。",
            "",
            "mart_rectification_by_district",
            "overdue",
        ),
    ),
    printout=("problems", "with_deadline", "rectified", "rectification_rate_pct"),
)

CONTRACT = ReportContract(
    report_type="rectification_ledger",
    title_zh="创城督查整改问题台账",
    period_grain="month",
    fact_table="fct_rectification_issue",
    key=("issue_code",),
    date_column=None,  # a cumulative month-end snapshot: the period is in the title or file name
    columns=(
        C("issue_code", "问题编号", "code", aliases=("问题编码",), required=True),
        C("found_date", "发现日期", "date", aliases=("发现时间", "督查日期")),
        C("district", "区县", "district", aliases=("县区", "所属区县"), required=True),
        C("unit", "责任单位", aliases=("责任部门",)),
        C("category", "问题类别", aliases=("问题类型",), required=True),
        C("description", "问题描述", aliases=("问题内容", "存在问题")),
        C("deadline", "整改期限", "date", aliases=("整改时限",)),
        C("status", "整改状态", aliases=("整改情况",), required=True),
        C("rectified_date", "整改完成日期", "date", aliases=("整改完成时间", "完成整改日期")),
    ),
    derived=(
        C("has_deadline", "是否设定整改期限", "bool"),
        C("overdue", "是否逾期未整改", "bool"),
    ),
    derive=derive,
    publication=PUBLICATION,
)
