"""A street's flood figure far above its own history is flagged (loaded, with a warning on the cell)."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from workbooks import write_xlsx

from etl.ingest.pipeline import discover, prepare, process_file
from etl.ingest.validate.outliers import judge
from etl.warehouse.engine import get_engine

HEADER = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", "出动车辆（台次）"]


def flood_day(settings, day: str, personnel: int, vehicles: int = 3):
    write_xlsx(
        settings.inbox / "溪湖区" / f"溪湖区_防汛日报_{day}.xlsx",
        [HEADER, [day, "溪湖区", "河西街道", personnel, vehicles], [day, "溪湖区", "彩屯街道", 40, 2]],
    )


def ingest(settings):
    prepare(settings)
    return [process_file(f, settings) for f in discover(settings)]


def test_an_extra_digit_is_flagged_against_the_streets_history(sqlite_settings):
    for day, people in zip(
        ["2021-07-26", "2021-07-27", "2021-07-28", "2021-07-29", "2021-07-30"], [50, 55, 48, 60, 52]
    ):
        flood_day(sqlite_settings, day, people)
        assert ingest(sqlite_settings)[0].status == "accepted"
    flood_day(sqlite_settings, "2021-07-31", 530)
    outcome = ingest(sqlite_settings)[0]
    assert outcome.status == "flagged" and outcome.warnings == 1
    with get_engine(sqlite_settings.warehouse_url).connect() as conn:
        finding = conn.execute(
            sa.text("SELECT rule, severity, cell_ref, value_text, message_zh FROM mart_finding")
        ).one()
    assert finding[:4] == ("outlier", "warning", "D2", "530")
    assert finding.message_zh == "数值 530 与该街道此前5次填报相比明显偏高（中位数 52），请核实是否填错"


def test_a_falling_figure_is_not_flagged(sqlite_settings):
    for day, people in zip(
        ["2021-07-26", "2021-07-27", "2021-07-28", "2021-07-29", "2021-07-30"], [50, 55, 48, 60, 52]
    ):
        flood_day(sqlite_settings, day, people)
    ingest(sqlite_settings)
    flood_day(sqlite_settings, "2021-07-31", 5)
    assert ingest(sqlite_settings)[0].status == "accepted"


@pytest.mark.parametrize(
    ("value", "history", "verdict"),
    [
        (100, [10, 11, 12, 13, 14], "偏高"),
        (15, [10, 11, 12, 13, 14], None),
        (20, [5, 5, 5, 5, 5], "偏高"),  # MAD 0: above max + half the median
        (7, [5, 5, 5, 5, 5], None),
        (5, [2, 2, 1, 3, 2, 2], None),  # small counts: a jump of 3 is noise, not an extra digit
        (24, [12, 30, 11, 13, 12], None),  # not above what the street reported before
    ],
)
def test_judge(value, history, verdict):
    assert judge(value, pd.Series(history, dtype=float)) == verdict


def test_a_late_report_is_judged_against_earlier_days_only(sqlite_settings):
    for day, people in zip(
        ["2021-07-27", "2021-07-28", "2021-07-29", "2021-07-30", "2021-07-31", "2021-08-01"], [30, 31, 29, 32, 30, 28]
    ):
        flood_day(sqlite_settings, day, people)
    ingest(sqlite_settings)
    flood_day(sqlite_settings, "2021-07-26", 300)  # the first day arrives last: no earlier history to judge by
    assert ingest(sqlite_settings)[0].status == "accepted"
