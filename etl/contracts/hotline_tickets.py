"""12345 便民服务热线工单 — one row per ticket of the month, as exported by the 12345 platform.

The seeds' handling rule (DOMAIN.md, "Exact rules"): a first reply within 2 hours, closure within 3
working days. Both are computed here, once, when the file is parsed, and loaded with the facts:

* ``reply_minutes``      (first_reply_at − received_at) in minutes, clock time; NULL without a reply.
* ``replied_within_2h``  first_reply_at − received_at ≤ 2 h (clock time, exactly 2 h counts);
                         NULL while there is no reply (the mart counts it as not replied in time).
* ``closure_deadline``   24:00 of the third working day strictly after the calendar day of receipt
                         (see ``etl.reference.workdays``), stored as the following midnight; NULL when the receipt
                         is missing or outside the years the holiday calendar covers (the GX suite
                         rejects such rows, so a loaded row always has a deadline).
* ``closed_within_3wd``  True iff closed_at is not NULL and closed_at ≤ closure_deadline; False otherwise
                         (not closed yet, or closed late). Whether an open ticket will still make its
                         deadline is unknowable at load time, so the honest count is "closed in time as of
                         the export". NULL only when the deadline itself is unknown.
"""

from __future__ import annotations

import pandas as pd

from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract
from etl.contracts.publication import Chart, Col, Definition, Publication
from etl.ingest.parse.frames import dates, datetime_objects
from etl.reference.workdays import closure_deadlines

REPLY_LIMIT = pd.Timedelta(hours=2)
SATISFACTION_VALUES = ("满意", "基本满意", "不满意", "未评价")


def derive(frame: pd.DataFrame, period: str | None = None, keep_datetime64: bool = False) -> pd.DataFrame:
    """Add reply_minutes, replied_within_2h, closure_deadline and closed_within_3wd, column-wise. With
    ``keep_datetime64`` (etl.ingest.check reading a large CSV in chunks, whose consumers take them as they are) the datetime columns
    stay datetime64 with NaT for blanks: making a Python datetime per cell costs seconds per million rows."""
    received = dates(frame, "received_at")
    replied = dates(frame, "first_reply_at")
    closed = dates(frame, "closed_at")
    deadline = closure_deadlines(received)

    reply_delay = replied - received  # NaT when either is missing
    out = frame.copy()
    # The parser's datetime columns can carry NaT for blank cells (pandas infers datetime64 when mapping);
    # NaT is not NULL to the loader and the database drivers, so hand them on as datetime / None.
    for name, values in (("received_at", received), ("first_reply_at", replied), ("closed_at", closed)):
        if name in out:
            out[name] = values if keep_datetime64 else datetime_objects(values)
    out["reply_minutes"] = (reply_delay.dt.total_seconds() / 60).astype("float64")
    out["replied_within_2h"] = (reply_delay <= REPLY_LIMIT).astype("boolean").where(reply_delay.notna(), pd.NA)
    out["closure_deadline"] = deadline if keep_datetime64 else datetime_objects(deadline)
    in_time = (closed.notna() & (closed <= deadline)).astype("boolean")
    out["closed_within_3wd"] = in_time.where(deadline.notna(), pd.NA)
    return out


PUBLICATION = Publication(
    order=60,
    sheet="12345热线",
    title_zh="12345便民服务热线",
    title_en="12345 citizen hotline",
    view="mart_hotline_by_district",
    period_col="period",
    period_label="月份",
    columns=(
        Col("tickets", "工单数"),
        Col("replied_within_2h", "2小时内首次答复", width=15),
        Col("reply_rate_pct", "2小时首次答复率", "pct", 15),
        Col("closed", "已办结"),
        Col("closed_within_3wd", "3个工作日内办结", width=15),
        Col("deadline_pending", "期限待定"),
        Col("closure_rate_pct", "按时办结率", "pct"),
        Col("rated", "已评价"),
        Col("satisfied", "满意（含基本满意）", width=17),
        Col("satisfaction_rate_pct", "满意率", "pct"),
    ),
    rank_key="closure_rate_pct",
    rank_header="按时办结率排名",
    deltas=(Col("tickets", "工单数较上期", "d_int"), Col("closure_rate_pct", "按时办结率较上期（百分点）", "d_pp", 18)),
    chart=Chart(
        "bar",
        "各区县12345热线办理情况（%）",
        ("reply_rate_pct", "closure_rate_pct", "satisfaction_rate_pct"),
        y_title="%",
    ),
    headline=(
        ("tickets", "工单数", "int", "件"),
        ("reply_rate_pct", "2小时首次答复率", "pct", ""),
        ("closure_rate_pct", "按时办结率（3个工作日）", "pct", ""),
        ("satisfaction_rate_pct", "满意率", "pct", ""),
    ),
    notes=(
        "首次答复不超过2小时；办结期限为受理日之后第3个工作日24:00（法定节假日、调休按国务院通知）。",
        "期限待定：受理后的3个工作日落入节假日安排尚未配置的年份的工单，不计入按时或超时（按时办结率的分母不含它们）。",
    ),
    provisional=(
        "deadline_pending",
        "【暂定】{period} 有 {n} 张工单办结期限待定（节假日日历尚未配置其所需年份），按时办结率为暂定值；"
        "数据管理员补充节假日日历后自动补算，数字将随之变化。",
    ),
    definitions=(
        Definition(
            "2小时首次答复率",
            "首次答复时间 − 受理时间 ≤ 2小时（按钟点计）的工单 ÷ 工单数 × 100%；未答复的工单计为未及时。",
            "2-hour reply: first_reply_at − received_at ≤ 2 h, clock time.",
            "mart_hotline_by_district",
            "replied_within_2h, reply_rate_pct",
        ),
        Definition(
            "按时办结率（3个工作日）",
            (
                "在受理日之后第3个工作日24:00前办结的工单 ÷ 办结期限已确定的工单 × 100%；未办结计为未按时。"
                "期限待定（所需年份的节假日安排尚未配置）的工单不计入分子和分母，单列为“期限待定”，该期数字为暂定。"
            ),
            (
                "3-working-day closure: the deadline is 24:00 of the third working day strictly after the day of receipt "
                "(received Monday 10:00 → Thursday 24:00; received Saturday → Wednesday 24:00; received Friday 2021-09-24 → "
                "Sunday 09-26 is an adjusted working day, so the deadline is 2021-09-28 24:00). Working days follow the "
                "State Council holiday notice of each year, adjusted weekends included."
            ),
            "mart_hotline_by_district",
            "closed_within_3wd, deadline_pending, closure_rate_pct, provisional",
        ),
        Definition(
            "满意率",
            "满意与基本满意的工单 ÷ 已评价工单（不含“未评价”）× 100%（DOMAIN.md 未规定，按视图口径）。",
            "",
            "mart_hotline_by_district",
            "satisfaction_rate_pct",
        ),
    ),
    printout=("tickets", "reply_rate_pct", "closure_rate_pct", "satisfaction_rate_pct", "deadline_pending"),
)

CONTRACT = ReportContract(
    report_type="hotline_tickets",
    title_zh="12345便民服务热线工单",
    period_grain="month",
    fact_table="fct_hotline_ticket",
    key=("ticket_id",),
    date_column="received_at",
    # A month's export runs to hundreds of thousands of machine-written tickets: one malformed ticket must
    # not hold back the month's rates, so bad rows are quarantined and the rest is loaded.
    row_errors="quarantine_rows",
    columns=(
        C("ticket_id", "工单编号", "code", aliases=("工单号", "工单编码", "工单流水号"), required=True),
        C(
            "received_at",
            "受理时间",
            "datetime",
            aliases=("受理日期", "来电时间", "来电日期", "登记时间"),
            required=True,
            clock=True,
        ),
        C("district", "区县", "district", aliases=("县区", "所属区县", "承办区县"), required=True),
        C("street", "街道", "street", aliases=("街道（乡镇）", "乡镇", "街道乡镇", "所属街道", "承办街道")),
        C("category", "诉求类别", "text", aliases=("诉求分类", "诉求类型", "工单类别", "工单类型"), required=True),
        C(
            "first_reply_at",
            "首次答复时间",
            "datetime",
            aliases=("答复时间", "首次回复时间", "回复时间", "首次答复日期"),
            clock=True,
        ),
        C("closed_at", "办结时间", "datetime", aliases=("办结日期", "结案时间", "办理完结时间")),
        C("satisfaction", "满意度", "text", aliases=("满意度评价", "回访满意度", "回访评价")),
    ),
    derived=(
        C("reply_minutes", "首次答复用时（分钟）", "decimal", unit="分钟"),
        C("replied_within_2h", "2小时内首次答复", "bool"),
        C("closure_deadline", "办结期限（3个工作日）", "datetime"),
        C("closed_within_3wd", "3个工作日内办结", "bool"),
    ),
    derive=derive,
    derive_keeps_datetime64=True,
    publication=PUBLICATION,
)
