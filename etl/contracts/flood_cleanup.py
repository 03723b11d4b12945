"""防汛救灾清理情况日报 — flood clean-up, one row per street per day while a flood event is declared."""

from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract
from etl.contracts.publication import Chart, Col, DailySeries, Definition, Publication

PUBLICATION = Publication(
    order=50,
    sheet="防汛清理",
    title_zh="防汛救灾清理",
    title_en="Flood clean-up",
    view="mart_flood_cleanup_daily",
    period_col="date",
    period_label="日期",
    columns=(
        Col("streets_reported", "报送街道数"),
        Col("personnel", "出动人员（人次）", width=15),
        Col("vehicles", "出动车辆（台次）", width=15),
        Col("garbage_tons", "清运垃圾（吨）", "dec2", 14),
        Col("garbage_trips", "清运垃圾（车次）", width=15),
        Col("silt_m3", "清理淤泥（立方米）", "dec2", 17),
        Col("water_pumped_m3", "排水量（立方米）", "dec2", 16),
        Col("disinfected_streets", "消杀街道（条）", width=14),
        Col("disinfected_toilets", "消杀公厕（座）", width=14),
        Col("disinfected_bins", "消杀垃圾箱（个）", width=15),
        Col("power_restored_households", "恢复供电（户）", width=14),
        Col("rows_with_approximate_values", "含约数的行", width=11),
    ),
    rank_key="personnel",
    rank_header="出动人员排名",
    deltas=(Col("personnel", "出动人员较前日", "d_int", 14), Col("garbage_tons", "清运垃圾较前日（吨）", "d_dec2", 18)),
    chart=Chart("bar", "各区县出动人员（人次）", ("personnel",), y_title="人次"),
    headline=(
        ("personnel", "出动人员", "int", "人次"),
        ("vehicles", "出动车辆", "int", "台次"),
        ("garbage_tons", "清运垃圾", "dec2", "吨"),
    ),
    notes=("含约数的行：报送中写作“30余”“60多”等的行，按其数字入库并标注。",),
    definitions=(
        Definition(
            "防汛清理各项数量",
            (
                "各街道日报之和（出动人员、车辆、清运垃圾、淤泥、排水、消杀、恢复供电）；全市合计为各区县之和。"
                "“30余”等约数按数字计入并计数于“含约数的行”。"
            ),
            "",
            "mart_flood_cleanup_daily",
            "personnel, vehicles, garbage_tons, …, rows_with_approximate_values",
        ),
    ),
    printout=("streets_reported", "personnel", "vehicles", "garbage_tons"),
    city_row_in_view=False,
    series=DailySeries(
        "trailing",
        "全市每日防汛清理合计（{start} 至 {end}）",
        "出动人员较前日",
        Chart("line", "全市每日出动人员与清运垃圾", ("personnel", "garbage_tons", "vehicles"), category="period"),
        days=31,
        notes=("全市合计为各区县当日数值之和（按视图求和）。",),
    ),
)

CONTRACT = ReportContract(
    report_type="flood_cleanup",
    title_zh="防汛救灾清理情况日报",
    period_grain="day",
    fact_table="fct_flood_cleanup",
    key=("date", "street"),
    date_column="date",
    history_columns=(
        "personnel",
        "vehicles",
        "garbage_tons",
        "garbage_trips",
        "silt_m3",
        "water_pumped_m3",
        "disinfected_streets",
        "disinfected_toilets",
        "disinfected_bins",
        "power_restored_households",
    ),
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
    publication=PUBLICATION,
)
