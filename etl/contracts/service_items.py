"""政务服务事项清单 — the government service item register (quarterly snapshot)."""
from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract

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
)
