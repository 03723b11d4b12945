"""The per-file job without a scheduler, on SQLite and the real PostgreSQL: every file gets a status
and a reason, every raw file is archived, bad files never stop good ones, reruns change nothing, and a
corrected resubmission replaces the earlier version while keeping it as history."""

from __future__ import annotations

import os
import time

from conftest import drop_samples
from openpyxl import load_workbook
from warehouse_helpers import ingest, query


def test_samples_and_broken_files_each_get_a_status(settings):
    drop_samples(settings.inbox)
    (settings.inbox / "明山区").mkdir()
    (settings.inbox / "明山区" / "说明.docx").write_bytes(b"word document")
    (settings.inbox / "明山区" / "~$明山区报表.xlsx").write_bytes(b"office lock file")
    (settings.inbox / "平山区").mkdir()
    (settings.inbox / "平山区" / "空文件.csv").write_bytes(b"")

    outcomes = ingest(settings)

    statuses = {name: o.status for name, o in outcomes.items()}
    assert statuses == {
        "溪湖区/溪湖区_防汛日报_2021-07-29.xlsx": "flagged",  # 60余 is approximate: loaded and flagged
        "本溪县/本溪县_政务服务事项清单_2021Q4.xlsx": "accepted",
        "南芬区/南芬区_志愿服务_2022-03.csv": "accepted",
        "明山区/说明.docx": "rejected",
        "平山区/空文件.csv": "rejected",
    }
    assert "无法识别的文件格式" in outcomes["明山区/说明.docx"].reason_zh
    assert outcomes["平山区/空文件.csv"].reason_zh.startswith("已退回：")
    assert (settings.inbox / "明山区" / "~$明山区报表.xlsx").exists()  # lock files are left alone
    assert sorted(p.name for p in (settings.rejected / "明山区").iterdir())[0].endswith("说明.docx")
    assert len(list(settings.archive.rglob("*.*"))) == 5
    rows = query(settings, "SELECT status, rows_loaded, reason_zh, archive_path FROM mart_file_status")
    assert len(rows) == 5 and all(r["reason_zh"] and r["archive_path"] for r in rows)
    facts = query(settings, "SELECT COUNT(*) AS n FROM fct_service_item")[0]["n"]
    assert facts == 40
    flood = query(
        settings,
        "SELECT street, personnel, water_pumped_m3, approximate_cols FROM fct_flood_cleanup ORDER BY source_row",
    )
    assert [r["street"] for r in flood] == ["河西街道", "彩屯街道", "东风街道", "日月岛街道", "石桥子街道"]
    assert flood[1]["water_pumped_m3"] == 12000 and flood[2]["personnel"] == 60
    assert flood[2]["approximate_cols"] == "personnel"
    finding = query(settings, "SELECT * FROM mart_finding WHERE rule = 'approximate_value'")
    assert [(f["cell_ref"], f["row_number"], f["value_text"]) for f in finding] == [("D7", 7, "60余")]


def test_rerun_and_byte_identical_copy_change_nothing(settings):
    drop_samples(settings.inbox)
    ingest(settings)
    before = query(settings, "SELECT COUNT(*) AS n FROM fct_volunteer_activity")[0]["n"]
    assert ingest(settings) == {}  # the inbox is empty after filing: nothing to do
    drop_samples(settings.inbox)
    (settings.inbox / "南芬区" / "南芬区_志愿服务_2022-03.csv").rename(settings.inbox / "南芬区" / "另存为.csv")
    outcomes = ingest(settings)
    assert {o.status for o in outcomes.values()} == {"duplicate"}
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_volunteer_activity")[0]["n"] == before == 8


def test_corrected_resubmission_replaces_and_keeps_history(settings):
    drop_samples(settings.inbox)
    ingest(settings)
    corrected = settings.inbox / "本溪县" / "本溪县_政务服务事项清单_2021Q4_更正.xlsx"
    corrected.parent.mkdir(parents=True, exist_ok=True)
    wb = load_workbook(
        settings.processed.parent / "archive" / _archived(settings, "本溪县_政务服务事项清单_2021Q4.xlsx")
    )
    ws = wb["事项清单"]
    ws.delete_rows(40, 3)  # the corrected register has 37 items
    wb.save(corrected)
    later = time.time() + 60
    os.utime(corrected, (later, later))

    outcome = ingest(settings)["本溪县/本溪县_政务服务事项清单_2021Q4_更正.xlsx"]

    assert outcome.status == "accepted"
    loads = query(
        settings,
        "SELECT load_id, is_current, superseded_by FROM stg_file_load "
        "WHERE report_type = 'service_items' ORDER BY load_id",
    )
    assert [(r["is_current"], r["superseded_by"]) for r in loads] == [(0, loads[1]["load_id"]), (1, None)]
    view = query(settings, "SELECT items FROM mart_service_items_by_district WHERE district_code = '210521'")
    assert view == [{"items": 37}]
    history = query(settings, "SELECT COUNT(*) AS n FROM fct_service_item WHERE load_id = :id", id=loads[0]["load_id"])
    assert history[0]["n"] == 40


def test_file_with_row_errors_is_rejected_and_loads_nothing(settings):
    from workbooks import SERVICE_HEADER, service_item, write_xlsx

    write_xlsx(
        settings.inbox / "明山区" / "明山区_政务服务事项清单_2021Q4.xlsx",
        [SERVICE_HEADER, service_item("112105040001"), service_item("112105040002", promised=99)],
        title="明山区政务服务事项清单",
    )
    outcome = ingest(settings)["明山区/明山区_政务服务事项清单_2021Q4.xlsx"]
    assert outcome.status == "rejected" and outcome.errors == 1
    assert "第4行" in outcome.reason_zh and "承诺时限不能超过法定时限" in outcome.reason_zh
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_service_item")[0]["n"] == 0
    finding = query(settings, "SELECT row_number, cell_ref, column_header FROM stg_finding")
    assert finding == [{"row_number": 4, "cell_ref": "K4", "column_header": "承诺时限（工作日）"}]


def _archived(settings, name: str) -> str:
    row = query(settings, "SELECT archive_path FROM stg_file_load WHERE file_name = :n", n=name)[0]
    return row["archive_path"].removeprefix("archive/")


def test_lineage_traces_a_figure_to_its_files_and_rows(settings):
    drop_samples(settings.inbox)
    ingest(settings)
    lineage = query(
        settings,
        "SELECT * FROM mart_lineage WHERE report_type = 'service_items' "
        "AND district_code = '210521' AND period = '2021Q4'",
    )
    assert len(lineage) == 1
    trace = lineage[0]
    assert (trace["file_name"], trace["sheet_name"], trace["fact_rows"], trace["first_row"], trace["last_row"]) == (
        "本溪县_政务服务事项清单_2021Q4.xlsx",
        "事项清单",
        40,
        3,
        42,
    )
    rows = query(
        settings,
        "SELECT source_sha256, source_sheet, source_row, item_code FROM fct_service_item "
        "WHERE load_id = :id ORDER BY source_row",
        id=trace["load_id"],
    )
    assert {r["source_sha256"] for r in rows} == {trace["sha256"]} and rows[0]["source_sheet"] == "事项清单"
    assert (rows[0]["source_row"], rows[0]["item_code"]) == (3, "1121052100000000")
