"""为群众办实事项目台账 — the monthly ledger of "doing practical things for the people" tasks.

Each reporting unit (市本级 and every district) sends its whole ledger every month: every task listed
so far with its state at the end of the month. The period comes from the title or the file name
(``（2021年12月）`` / ``_2021-12``), never from the data: due and done dates span the whole campaign.

Key: ``task`` (实事名称). The task name is what the clerk, the 组织部 and the leaders track from month to
month; 序号 is a row number that clerks renumber whenever tasks are added (the seeds: 59 tasks added in
Q4 2021 alone) and is often left blank, so it identifies nothing. A task listed twice in one ledger is
counted twice in "tasks listed" and would distort the completion rate, so a duplicate name is critical.

Derived, computed once at parse time from the ledger's month (DOMAIN.md has no rule here; these are ours):

* ``overdue``         status is not 已完成 and 计划完成时间 is on or before the last day of the ledger's
                      month. The ledger states each task as at the end of the month, so a task due on the
                      last day that is still not done has missed it. Tasks without a due date are not
                      overdue. NULL only when the period is unknown (the file is then rejected anyway).
* ``completed_late``  status is 已完成 and 实际完成时间 is after 计划完成时间; False when either date is
                      missing (the suite rejects 已完成 without a completion date).
"""

from __future__ import annotations

import pandas as pd

from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract
from etl.contracts.publication import Chart, Col, Definition, Publication
from etl.ingest.parse.frames import dates, texts
from etl.reference.periods import period_end

COMPLETED = "已完成"
STATUSES = ("已完成", "推进中", "未启动", "跨年推进")
CATEGORIES = ("就业", "医疗卫生", "交通出行", "教育", "住房", "环境", "基层治理", "其他")


def derive(frame: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    status = texts(frame, "status")
    due, done = dates(frame, "due_date"), dates(frame, "done_date")
    completed = (status == COMPLETED).fillna(False).astype(bool)
    out = frame.copy()
    end = period_end(period)
    if end is None:
        out["overdue"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    else:
        overdue = status.notna() & ~completed & due.notna() & (due <= pd.Timestamp(end))
        out["overdue"] = overdue.astype("boolean")
    late = completed & due.notna() & done.notna() & (done > due)
    out["completed_late"] = late.astype("boolean")
    return out


PUBLICATION = Publication(
    order=20,
    sheet="为民办实事",
    title_zh="我为群众办实事",
    title_en="Practical tasks for the people",
    view="mart_task_completion_by_district",
    period_col="period",
    period_label="月份",
    columns=(
        Col("tasks", "实事总数"),
        Col("completed", "已完成"),
        Col("completion_rate_pct", "实事完成率", "pct"),
        Col("in_progress", "推进中"),
        Col("not_started", "未启动"),
        Col("cross_year", "跨年推进"),
        Col("overdue", "逾期未完成"),
        Col("completed_late", "逾期完成"),
    ),
    rank_key="completion_rate_pct",
    rank_header="完成率排名",
    deltas=(
        Col("completed", "已完成较上期", "d_int"),
        Col("completion_rate_pct", "完成率较上期（百分点）", "d_pp", 16),
    ),
    chart=Chart("bar", "各区县实事完成率（%）", ("completion_rate_pct",), y_title="%"),
    headline=(
        ("tasks", "实事总数", "int", "项"),
        ("completed", "已完成", "int", "项"),
        ("completion_rate_pct", "实事完成率", "pct", ""),
    ),
    notes=("实事完成率 = 已完成的实事 ÷ 清单所列实事；逾期未完成：未完成且计划完成时间不晚于台账月末。",),
    definitions=(
        Definition(
            "实事完成率",
            "完成状态为已完成的实事 ÷ 清单所列实事 × 100%，保留两位小数（1,697 ÷ 1,735 = 97.81%，公开发布为97.8%）。",
            "Task completion rate: tasks 已完成 ÷ tasks listed.",
            "mart_task_completion_by_district",
            "completion_rate_pct",
        ),
        Definition(
            "逾期未完成 / 逾期完成",
            "未完成且计划完成时间不晚于台账月末 / 已完成但实际完成时间晚于计划完成时间（DOMAIN.md 未规定，按视图口径）。",
            "",
            "mart_task_completion_by_district",
            "overdue, completed_late",
        ),
    ),
    printout=("tasks", "completed", "completion_rate_pct", "overdue"),
)

CONTRACT = ReportContract(
    report_type="task_ledger",
    title_zh="为群众办实事项目台账",
    period_grain="month",
    fact_table="fct_task_ledger",
    key=("task",),
    date_column=None,  # the ledger is a month-end snapshot: the period is in the title or file name
    columns=(
        C("seq", "序号", "int"),
        C("task", "实事名称", aliases=("项目名称", "实事项目"), required=True),
        C("district", "区县", "district", aliases=("县区", "所属区县"), required=True),
        C("lead_unit", "牵头单位", aliases=("责任单位",)),
        C("category", "类别", aliases=("项目类别",), required=True),
        C("due_date", "计划完成时间", "date", aliases=("计划完成时限",)),
        C("status", "完成状态", aliases=("进展情况", "状态"), required=True),
        C("done_date", "实际完成时间", "date", aliases=("完成时间",)),
    ),
    derived=(
        C("overdue", "是否逾期未完成", "bool"),
        C("completed_late", "是否逾期完成", "bool"),
    ),
    derive=derive,
    publication=PUBLICATION,
)
