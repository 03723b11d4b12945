"""Receipts (回执) and quarantine as the clerk and the steward see them."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from openpyxl import load_workbook
from warehouse_helpers import ingest
from workbooks import SERVICE_HEADER, service_item, write_xlsx

from etl.contracts import CONTRACTS
from etl.excel_safe import csv_safe, set_cell
from etl.ingest.load.record import FileMeta, record
from etl.ingest.parse.tables import parse_file
from etl.warehouse.engine import get_engine, now
from etl.warehouse.schema import ensure_schema

RED = "00FFC7CE"


def test_receipt_marks_each_wrong_cell_and_lists_every_finding(sqlite_settings):
    settings = sqlite_settings
    write_xlsx(
        settings.inbox / "明山区" / "明山区_政务服务事项清单_2021Q4.xlsx",
        [
            SERVICE_HEADER,
            service_item("112105040001"),
            service_item("112105040002", promised=30),
            service_item("112105040003", visits="三次"),
        ],
        title="明山区政务服务事项清单",
        sheet="事项清单",
    )
    outcome = ingest(settings)["明山区/明山区_政务服务事项清单_2021Q4.xlsx"]

    assert outcome.status == "rejected"
    assert outcome.receipt == "receipts/明山区/明山区_政务服务事项清单_2021Q4.xlsx.回执.xlsx"
    book = load_workbook(settings.shared_dir / outcome.receipt)
    assert book.sheetnames == ["处理结果", "事项清单"]
    data = book["事项清单"]
    assert data["K4"].fill.fgColor.rgb == RED and "承诺时限不能超过法定时限" in data["K4"].comment.text
    assert data["L5"].fill.fgColor.rgb == RED and "「三次」不是有效的数字" in data["L5"].comment.text
    assert data["A3"].comment is None and data["A3"].fill.fgColor.rgb != RED
    result = book["处理结果"]
    assert result["B5"].value == "已退回，请修改后重新提交"
    assert result["B1"].value == "明山区_政务服务事项清单_2021Q4.xlsx"
    listed = [
        (row[5].value, row[5].hyperlink.location if row[5].hyperlink else None)
        for row in result.iter_rows(min_row=12)
        if row[0].value
    ]
    assert sorted(listed) == [("K4", "'事项清单'!K4"), ("L5", "'事项清单'!L5")]


def test_rejected_file_is_quarantined_with_a_reason_note_and_archived(sqlite_settings):
    settings = sqlite_settings
    path = write_xlsx(
        settings.inbox / "明山区" / "明山区_政务服务事项清单_2021Q4.xlsx",
        [SERVICE_HEADER, service_item("112105040001", district="平山区")],
        title="明山区政务服务事项清单",
    )
    raw = path.read_bytes()
    outcome = ingest(settings)["明山区/明山区_政务服务事项清单_2021Q4.xlsx"]
    assert outcome.status == "rejected"
    moved = list((settings.rejected / "明山区").glob("*_明山区_政务服务事项清单_2021Q4.xlsx"))
    notes = list((settings.rejected / "明山区").glob("*.退回原因.txt"))
    assert len(moved) == 1 and moved[0].read_bytes() == raw
    assert "本行区县与提交文件夹「明山区」不一致" in notes[0].read_text(encoding="utf-8-sig")
    assert [p.read_bytes() for p in settings.archive.rglob("*.xlsx")] == [raw]
    with get_engine(settings.warehouse_url).connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM fct_service_item")).scalar() == 0


def test_every_file_gets_a_receipt_even_duplicates_and_unreadable_ones(sqlite_settings):
    settings = sqlite_settings
    folder = settings.inbox / "南芬区"
    folder.mkdir(parents=True)
    (folder / "坏文件.xlsx").write_bytes(b"PK\x03\x04broken")
    ingest(settings)
    (folder / "坏文件.xlsx").write_bytes(b"PK\x03\x04broken")
    ingest(settings)
    receipts = sorted(p.name for p in (settings.receipts / "南芬区").iterdir())
    assert receipts == ["坏文件.xlsx.回执(2).xlsx", "坏文件.xlsx.回执.xlsx"]
    second = load_workbook(settings.receipts / "南芬区" / "坏文件.xlsx.回执(2).xlsx")
    assert second.sheetnames == ["处理结果"] and second["处理结果"]["B5"].value == "重复提交（未处理）"


def test_formula_looking_values_stay_text_in_receipts(sqlite_settings):
    settings = sqlite_settings
    path = settings.inbox / "南芬区" / "志愿服务_2022-03.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        "活动日期,区县,组织单位,志愿服务队,活动类型,参与志愿者（人）,服务时长（小时）,服务地点\r\n"
        '2022-03-04,南芬区,=HYPERLINK("http://x"),@SUM(A1),创城,-3,+5,=1+1\r\n',
        encoding="gbk",
    )
    outcome = ingest(settings)["南芬区/志愿服务_2022-03.csv"]
    book = load_workbook(settings.shared_dir / outcome.receipt)
    values = [
        (c.coordinate, c.value, c.data_type)
        for sheet in book
        for row in sheet.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value[:1] in "=+-@"
    ]
    assert values and all(data_type == "s" for _, _, data_type in values)
    assert ("C2", '=HYPERLINK("http://x")', "s") in values and ("H2", "=1+1", "s") in values


def test_set_cell_and_csv_safe():
    from openpyxl import Workbook

    cell = Workbook().active["A1"]
    set_cell(cell, "=cmd|'/c calc'!A1")
    assert cell.data_type == "s" and cell.value == "=cmd|'/c calc'!A1"
    assert (
        csv_safe("=1+1") == "'=1+1" and csv_safe("-5") == "'-5" and csv_safe("平山区") == "平山区" and csv_safe(3) == 3
    )


def test_quarantine_policy_loads_good_rows_and_holds_back_bad_ones(tmp_path):
    contract = dataclasses.replace(CONTRACTS["volunteer_activity"], row_errors="quarantine_rows")
    inbox = tmp_path / "inbox"
    path = write_xlsx(
        inbox / "南芬区" / "志愿服务_2022-03.xlsx",
        [
            [
                "活动日期",
                "区县",
                "组织单位",
                "志愿服务队",
                "活动类型",
                "参与志愿者（人）",
                "服务时长（小时）",
                "服务地点",
            ],
            ["2022-03-04", "南芬区", "文明办", "1队", "创城", 30, 2, "南芬街道"],
            ["2022-03-04", "南芬区", "文明办", "2队", "创城", "很多", 2, "南芬街道"],
            ["2022-03-05", "南芬区", "文明办", "3队", "环境清洁", 12, 1, "南芬街道"],
        ],
    )
    report = parse_file(path, inbox=inbox, contracts={contract.report_type: contract})
    assert not report.rejected and report.quarantined_rows == {("Sheet1", 3)}
    engine = get_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    ensure_schema(engine)
    meta = FileMeta(path.name, "南芬区", "南芬区/" + path.name, "archive/x", "0" * 64, 1, now(), now())
    ((load_id, status),) = record(engine, meta, [(report, "x", "x")])
    assert status == "flagged"
    with engine.connect() as conn:
        teams = conn.execute(sa.text("SELECT team FROM fct_volunteer_activity ORDER BY source_row")).scalars().all()
        held = conn.execute(sa.text("SELECT source_row, reason_zh, row_json FROM stg_quarantined_row")).one()
        loaded = conn.execute(
            sa.text("SELECT rows_loaded FROM stg_file_load WHERE load_id = :i"), {"i": load_id}
        ).scalar()
    assert teams == ["1队", "3队"] and loaded == 2
    assert held.source_row == 3 and "「很多」不是有效的数字" in held.reason_zh and '"team": "2队"' in held.row_json


def test_a_finding_on_a_cell_inside_a_merged_range_is_marked_on_the_range(sqlite_settings):
    """平山区 merged down over two rows of a file in 溪湖区's folder: both rows' district cells (C3, and C4
    inside the merge) have a finding. The receipt's copy of the table marks the range's cell, with both
    rows' messages; a cell inside a merge takes no comment, and the copy was dropped."""
    import openpyxl

    settings = sqlite_settings
    path = settings.inbox / "溪湖区" / "溪湖区防汛日报2021-07-29.xlsx"
    path.parent.mkdir(parents=True)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["溪湖区防汛救灾清理情况日报（2021年7月29日）"])
    sheet.append(["日期", "区县", "街道（乡镇）", "出动人员（人次）"])
    sheet.append(["2021-07-29", "平山区", "河西街道", 10])
    sheet.append(["2021-07-29", None, "彩屯街道", 12])
    sheet.merge_cells("B3:B4")
    book.save(path)
    outcome = ingest(settings)["溪湖区/溪湖区防汛日报2021-07-29.xlsx"]
    receipt = load_workbook(settings.shared_dir / outcome.receipt)
    assert len(receipt.sheetnames) == 2  # 处理结果 and the copy of the clerk's sheet
    copy = receipt[receipt.sheetnames[1]]
    assert copy["B3"].comment is not None and copy["B3"].comment.text.count("不一致") == 2
