"""志愿服务活动统计 — one row per volunteer activity."""
from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract

CONTRACT = ReportContract(
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
