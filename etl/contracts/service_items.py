"""政务服务事项清单 — the government service item register (quarterly snapshot)."""

from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract
from etl.contracts.publication import Chart, Col, Definition, Publication

PUBLICATION = Publication(
    order=10,
    sheet="政务服务",
    title_zh="政务服务事项",
    title_en="Government service items",
    view="mart_service_items_by_district",
    period_col="period",
    period_label="季度",
    columns=(
        Col("items", "事项总数"),
        Col("application_items", "依申请事项"),
        Col("application_items_in_hall", "依申请进厅事项", width=14),
        Col("application_items_not_in_hall", "依申请未进厅事项", width=14),
        Col("in_hall_rate_pct", "依申请事项进厅率", "pct", 14),
        Col("online_items", "网上可办事项"),
        Col("online_rate_pct", "网上可办率", "pct"),
    ),
    rank_key="in_hall_rate_pct",
    rank_header="进厅率排名",
    deltas=(Col("items", "事项数较上期", "d_int"), Col("in_hall_rate_pct", "进厅率较上期（百分点）", "d_pp", 16)),
    chart=Chart("bar", "各区县依申请事项进厅率（%）", ("in_hall_rate_pct",), y_title="%"),
    headline=(
        ("items", "事项总数", "int", "项"),
        ("application_items", "依申请事项", "int", "项"),
        ("in_hall_rate_pct", "依申请事项进厅率", "pct", ""),
        ("online_rate_pct", "网上可办率", "pct", ""),
    ),
    notes=("依申请事项进厅率 = 进驻政务服务中心的依申请事项 ÷ 依申请事项。",),
    definitions=(
        Definition(
            "事项总数",
            "政务服务事项清单中的事项数（每个区县当期有效的最新一版清单）。",
            "service items on the integrated platform | 24,671 | Benxi, Jan 2022",
            "mart_service_items_by_district",
            "items",
        ),
        Definition(
            "依申请事项",
            "是否依申请 = 是 的事项数。",
            "application-based (依申请) items",
            "mart_service_items_by_district",
            "application_items",
        ),
        Definition(
            "依申请事项进厅率",
            "依申请且进驻政务服务中心的事项 ÷ 依申请事项 × 100%，保留两位小数。",
            "In-hall rate: application-based items in the service hall ÷ application-based items.",
            "mart_service_items_by_district",
            "in_hall_rate_pct",
        ),
        Definition(
            "网上可办率",
            "网上可办事项 ÷ 事项总数 × 100%（DOMAIN.md 未规定，按视图口径）。",
            "",
            "mart_service_items_by_district",
            "online_rate_pct",
        ),
    ),
    printout=(
        "items",
        "application_items",
        "application_items_in_hall",
        "in_hall_rate_pct",
        "online_items",
        "online_rate_pct",
    ),
)

CONTRACT = ReportContract(
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
    publication=PUBLICATION,
)
