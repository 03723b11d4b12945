"""flood_cleanup — 防汛救灾清理情况日报: a street's day is one figure, whichever file reports it."""

from __future__ import annotations

import time

from warehouse_helpers import ingest, query
from workbooks import write_xlsx

HEADER = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", "出动车辆（台次）", "清运垃圾（吨）"]


def daily(settings, day: str, rows: list[list[object]]) -> str:
    name = f"明山区防汛日报{day}.xlsx"
    write_xlsx(settings.inbox / "明山区" / name, [HEADER, *rows], title=f"明山区防汛救灾清理情况日报（{day}）")
    return f"明山区/{name}"


def test_a_late_row_of_an_earlier_day_counts_once_and_the_later_submission_wins(settings):
    """The 7-29 report carries a late 7-28 row for 北地 (12 people), which the 7-28 report gave as 10: the
    mart counts 北地's 7-28 once, as the later file gives it, and the 7-29 receipt says so on the row."""
    first = daily(settings, "2021-07-28", [["2021-07-28", "明山区", "北地街道", 10, 1, 3]])
    ingest(settings)
    time.sleep(0.01)
    second = daily(
        settings,
        "2021-07-29",
        [
            ["2021-07-28", "明山区", "北地街道", 12, 1, 3],
            ["2021-07-29", "明山区", "北地街道", 20, 2, 5],
            ["2021-07-29", "明山区", "高峪街道", 8, 1, 2],
        ],
    )
    outcome = ingest(settings)[second]
    assert outcome.status == "flagged"
    notes = query(settings, "SELECT cell_ref, message_zh FROM stg_finding WHERE rule = 'another_day'")
    assert [n["cell_ref"] for n in notes] == ["A3"] and "以较晚提交的为准" in notes[0]["message_zh"]
    days = {
        str(r["date"])[:10]: (r["streets_reported"], r["personnel"])
        for r in query(settings, "SELECT * FROM mart_flood_cleanup_daily WHERE district_code = '210504'")
    }
    assert days == {"2021-07-28": (1, 12), "2021-07-29": (2, 28)}
    assert first != second
