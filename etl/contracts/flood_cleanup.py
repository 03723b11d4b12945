"""防汛救灾清理情况日报 — flood clean-up, one row per street per day while a flood event is declared."""
from etl.contracts.base import Column as C
from etl.contracts.base import ReportContract

CONTRACT = ReportContract(
    report_type="flood_cleanup",
    title_zh="防汛救灾清理情况日报",
    period_grain="day",
    fact_table="fct_flood_cleanup",
    key=("date", "street"),
    date_column="date",
    history_columns=("personnel", "vehicles", "garbage_tons", "garbage_trips", "silt_m3", "water_pumped_m3",
                     "disinfected_streets", "disinfected_toilets", "disinfected_bins", "power_restored_households"),
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
