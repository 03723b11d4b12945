"""志愿服务活动统计 — one row per volunteer activity."""

from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract
from etl.contracts.publication import Chart, Col, DailySeries, Definition, Publication

PUBLICATION = Publication(
    order=40,
    sheet="志愿服务",
    title_zh="志愿服务",
    title_en="Volunteer service",
    view="mart_volunteer_daily",
    period_col="date",
    period_label="日期",
    columns=(
        Col("activities", "活动场次"),
        Col("participations", "参与志愿者（人次）", width=16),
        Col("teams", "志愿服务队（支）", width=15),
        Col("units", "组织单位（个）", width=14),
        Col("service_hours", "服务时长（小时）", "dec1", 15),
    ),
    rank_key="participations",
    rank_header="参与人次排名",
    deltas=(Col("participations", "人次较上期", "d_int"), Col("teams", "服务队较上期", "d_int")),
    chart=Chart("bar", "各区县参与志愿者（人次）", ("participations",), y_title="人次"),
    headline=(
        ("participations", "参与志愿者", "int", "人次"),
        ("teams", "志愿服务队", "int", "支"),
        ("units", "组织单位", "int", "个"),
    ),
    notes=("参与人次为各项活动参与志愿者人数之和；服务队、组织单位为去重计数，全市合计行中同一单位只计一次。",),
    definitions=(
        Definition(
            "参与志愿者（人次）/ 志愿服务队 / 组织单位",
            ("当日各项活动参与志愿者人数之和；服务队、组织单位为去重计数（全市合计行中同一单位只计一次）。"),
            "volunteer drive, 4 March | 314 units, 365 teams, 11,302 volunteers",
            "mart_volunteer_daily",
            "participations, teams, units",
        ),
    ),
    printout=("activities", "participations", "teams", "units"),
    busiest_day_note="（{month} 全市参与人次最多的一天，即集中行动日；各日见下表）",
    series=DailySeries(
        "month",
        "全市每日志愿服务（{month}）",
        "人次较上一活动日",
        Chart("bar", "全市每日参与志愿者（人次，{month}）", ("participations",), category="period", y_title="人次"),
    ),
)

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
    publication=PUBLICATION,
)
