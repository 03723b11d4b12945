"""etl/ingest/parse/tables.py: one district file → typed DataFrame + findings, on the three shared samples and on
small files written here for the failure cases."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLES
from hostile import HOTLINE_HEADER

from etl.ingest import findings as F
from etl.ingest.parse.tables import APPROXIMATE, SOURCE_ROW, parse_file

FLOOD_SAMPLE = "溪湖区_防汛日报_2021-07-29.xlsx"
REGISTER_SAMPLE = "本溪县_政务服务事项清单_2021Q4.xlsx"
VOLUNTEER_SAMPLE = "南芬区_志愿服务_2022-03.csv"
VOLUNTEER_HEADER = [
    "活动日期",
    "区县",
    "组织单位",
    "志愿服务队",
    "活动类型",
    "参与志愿者（人）",
    "服务时长（小时）",
    "服务地点",
]


def drop(tmp_path: Path, folder: str, name: str, source: Path | None = None) -> tuple[Path, Path]:
    """(path, inbox) for a file placed in inbox/<folder>/<name> (copied from ``source`` if given)."""
    inbox = tmp_path / "inbox"
    (inbox / folder).mkdir(parents=True, exist_ok=True)
    path = inbox / folder / name
    if source is not None:
        shutil.copy(source, path)
    return path, inbox


def write_csv(path: Path, rows: list[list], encoding: str = "gbk") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def rules(report) -> list[tuple[str, str]]:
    return [(f.rule, f.severity) for f in report.findings]


# ---------------------------------------------------------------- the shared samples


@pytest.fixture(scope="module")
def flood(tmp_path_factory):
    path, inbox = drop(tmp_path_factory.mktemp("flood"), "溪湖区", FLOOD_SAMPLE, SAMPLES / FLOOD_SAMPLE)
    return parse_file(path, inbox=inbox)


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    path, inbox = drop(tmp_path_factory.mktemp("register"), "本溪县", REGISTER_SAMPLE, SAMPLES / REGISTER_SAMPLE)
    return parse_file(path, inbox=inbox)


@pytest.fixture(scope="module")
def volunteer(tmp_path_factory):
    path, inbox = drop(tmp_path_factory.mktemp("volunteer"), "南芬区", VOLUNTEER_SAMPLE, SAMPLES / VOLUNTEER_SAMPLE)
    return parse_file(path, inbox=inbox)


def test_flood_sample_identity(flood):
    assert flood.report_type == "flood_cleanup"
    assert flood.sheet == "7月29日"
    assert flood.district.code == "210503" and flood.district.name == "溪湖区"
    assert flood.period == "2021-07-29"
    assert len(flood.frame) == 5
    assert not flood.rejected


def test_flood_sample_rows(flood):
    frame = flood.frame
    assert frame[SOURCE_ROW].tolist() == [5, 6, 7, 8, 9]
    assert frame["street"].tolist() == ["河西街道", "彩屯街道", "东风街道", "日月岛街道", "石桥子街道"]
    assert frame["district"].tolist() == ["210503"] * 5  # merged B5:B9, forward-filled
    assert frame["date"].tolist() == [dt.date(2021, 7, 29)] * 5
    assert frame["personnel"].tolist() == [50, 67, 60, 44, 32]
    assert frame["garbage_tons"].tolist() == [11.1, 22.9, 7.5, 16.4, 21.7]
    assert frame["garbage_trips"].tolist() == [1, 4, 9, 1, 5]
    assert frame["disinfected_bins"].tolist() == [23, 26, 60, 14, 36]
    assert frame["power_restored_households"].tolist() == [0, 0, 0, 0, 0]
    by_street = frame.set_index("street")
    assert by_street.at["彩屯街道", "water_pumped_m3"] == 12000.0  # written 1.2万
    assert by_street.at["日月岛街道", "disinfected_toilets"] == 0  # written —
    assert by_street.at["东风街道", "personnel"] == 60  # written 60余


def test_flood_sample_approximate_flag(flood):
    flags = flood.frame.set_index("street")[APPROXIMATE]
    assert flags["东风街道"] == "personnel"
    assert all(pd.isna(flags[s]) for s in ("河西街道", "彩屯街道", "日月岛街道", "石桥子街道"))


def test_flood_sample_findings(flood):
    assert len(flood.findings) == 1
    f = flood.findings[0]
    assert (f.rule, f.severity) == ("approximate_value", F.WARNING)
    assert (f.sheet, f.row, f.cell, f.column, f.value) == ("7月29日", 7, "D7", "出动人员（人次）", "60余")
    assert f.message_zh == "「60余」是约数，按 60 入库并标记为约数"


def test_flood_sample_total_row(flood):
    assert len(flood.total_rows) == 1
    assert flood.total_rows[0]["row"] == 10
    assert flood.total_rows[0]["cells"][0] == "合计"


def test_flood_sample_header_cells(flood):
    assert flood.header_cells["personnel"] == ("出动人员（人次）", "D")
    assert flood.header_cells["garbage_trips"] == ("清运垃圾 / 车次", "G")
    assert flood.header_cells["disinfected_toilets"] == ("消杀 / 公厕（座）", "K")


def test_register_sample(register):
    assert register.report_type == "service_items"
    assert register.sheet == "事项清单"  # the 填表说明 sheet comes first
    assert register.district.code == "210521"
    assert register.period == "2021Q4"  # from the file name: a register snapshot has no date column
    assert len(register.frame) == 40
    assert register.findings == []
    frame = register.frame
    assert frame[SOURCE_ROW].tolist() == list(range(3, 43))
    first = frame.iloc[0]
    assert first["item_code"] == "1121052100000000"
    assert isinstance(first["item_code"], str)
    assert frame["item_code"].iat[39] == "1121052100000039"
    assert frame["item_code"].is_unique
    assert first["item_name"] == "本溪县事项0"
    assert first["department"] == "本溪县行政审批局"
    assert first["item_type"] == "行政处罚"
    assert frame["district"].tolist() == ["210521"] * 40  # header 县区, value 本溪县
    assert bool(first["is_application"]) is False and bool(first["online"]) is False
    second = frame.iloc[1]
    assert bool(second["online"]) is True  # written √
    assert bool(second["is_application"]) is True and bool(second["in_service_hall"]) is True
    assert (first["legal_days"], first["promised_days"], first["max_visits"]) == (19, 9, 0)
    assert frame["promised_days"].dtype == "Int64"  # header written 承诺时限(工作日)
    assert frame.iloc[7]["not_in_hall_reason"] == "涉密"
    assert pd.isna(first["not_in_hall_reason"])
    assert int(frame["online"].sum()) == 26
    assert int(frame["is_application"].sum()) == 32
    assert int((~frame["in_service_hall"]).sum()) == 9


def test_volunteer_gbk_csv_sample(volunteer):
    assert volunteer.report_type == "volunteer_activity"
    assert volunteer.sheet == "南芬区_志愿服务_2022-03"
    assert volunteer.district.code == "210505"
    assert volunteer.period == "2022-03"
    assert len(volunteer.frame) == 8
    assert volunteer.findings == []
    frame = volunteer.frame
    assert frame[SOURCE_ROW].tolist() == list(range(2, 10))
    assert frame["date"].iat[0] == dt.date(2022, 3, 4)
    assert frame["date"].iat[1] == dt.date(2022, 3, 5)
    assert frame["district"].tolist() == ["210505"] * 8
    assert frame["unit"].iat[0] == "南芬区文明办"
    assert frame["team"].tolist() == [f"南芬志愿{i}队" for i in range(1, 9)]
    assert frame["volunteers"].tolist() == [39, 18, 33, 25, 35, 25, 34, 32]
    assert frame["hours"].tolist() == [26.0, 73.0, 86.0, 33.0, 86.0, 106.0, 61.0, 45.0]
    assert frame["activity_type"].iat[1] == "环境清洁"


# ---------------------------------------------------------------- folders and districts


def test_unknown_folder_is_critical(tmp_path):
    path, inbox = drop(tmp_path, "某某单位", VOLUNTEER_SAMPLE, SAMPLES / VOLUNTEER_SAMPLE)
    report = parse_file(path, inbox=inbox)
    assert report.district is None
    unknown = [f for f in report.findings if f.rule == "unknown_folder"]
    assert len(unknown) == 1
    assert unknown[0].severity == F.CRITICAL
    assert unknown[0].message_zh == "提交文件夹「某某单位」不是本市区县，请放入本区县的文件夹"
    assert report.rejected
    assert report.report_type == "volunteer_activity"  # the file is still read, to tell the clerk everything
    assert not [f for f in report.findings if f.rule == "district_mismatch"]


def test_file_directly_in_inbox_takes_the_district_its_rows_name(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = write_csv(
        inbox / "v_2022-03.csv", [VOLUNTEER_HEADER, ["2022-03-04", "南芬区", "单位", "队", "创城", 3, 1, "x"]]
    )
    report = parse_file(path, inbox=inbox)
    assert report.district.code == "210505"
    assert report.findings == []


def test_file_outside_folders_naming_two_districts_is_rejected(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = write_csv(
        inbox / "v_2022-03.csv",
        [
            VOLUNTEER_HEADER,
            ["2022-03-04", "南芬区", "单位", "队", "创城", 3, 1, "x"],
            ["2022-03-04", "平山区", "单位", "队2", "创城", 3, 1, "x"],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert report.district is None
    assert rules(report) == [("unknown_district", F.CRITICAL)]
    assert report.findings[0].message_zh == "无法确定报表所属区县：请把文件放入本区县的文件夹（文件中出现了多个区县）"


def test_district_mismatch(tmp_path):
    path, inbox = drop(tmp_path, "南芬区", "南芬区_志愿服务_2022-03.csv")
    write_csv(
        path,
        [
            VOLUNTEER_HEADER,
            ["2022-03-04", "南芬区", "南芬区文明办", "队1", "创城", 10, 2, "南芬区"],
            ["2022-03-04", "平山区", "南芬区文明办", "队2", "创城", 10, 2, "南芬区"],
            ["2022-03-05", "南芬", "南芬区文明办", "队3", "创城", 10, 2, "南芬区"],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert rules(report) == [("district_mismatch", F.ERROR)]
    f = report.findings[0]
    assert (f.row, f.cell, f.column) == (3, "B3", "区县")
    assert f.message_zh == "本行区县与提交文件夹「南芬区」不一致，请核对是否放错文件夹或填错区县"
    assert report.rejected
    assert report.frame["district"].tolist() == ["210505", "210502", "210505"]


# ---------------------------------------------------------------- files that are not tables


@pytest.mark.parametrize(
    ("name", "content", "zh"),
    [
        ("通知.docx", b"PK\x03\x04 not really a docx", "文件不完整（可能在复制或上传时中断），请重新保存后提交"),
        ("随机.xlsx", bytes(range(256)) * 4, "无法识别的文件格式（.xlsx），请提交 Excel 表格（xlsx/xls）或 CSV"),
        ("空文件.xlsx", b"", "文件是空的，请重新导出后提交"),
        (
            "~$南芬区_志愿服务.xlsx",
            b"\x05\x00lockfile",
            "无法识别的文件格式（.xlsx），请提交 Excel 表格（xlsx/xls）或 CSV",
        ),
    ],
)
def test_unreadable_file_is_critical_and_does_not_crash(tmp_path, name, content, zh):
    path, inbox = drop(tmp_path, "南芬区", name)
    path.write_bytes(content)
    report = parse_file(path, inbox=inbox)
    assert rules(report) == [("unreadable_file", F.CRITICAL)]
    assert report.findings[0].message_zh == zh
    assert report.findings[0].sheet is None
    assert report.frame is None and report.contract is None and report.period is None
    assert report.district.code == "210505"
    assert report.rejected


def test_csv_in_an_unknown_encoding(tmp_path):
    path, inbox = drop(tmp_path, "南芬区", "x.csv")
    path.write_bytes(b"\x81\x20\xff\xfe\x00abc")
    report = parse_file(path, inbox=inbox)
    assert rules(report) == [("unreadable_file", F.CRITICAL)]
    assert report.findings[0].message_zh == "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"


def test_utf8_csv_is_read_too(tmp_path):
    path, inbox = drop(tmp_path, "南芬区", "v_2022-03.csv")
    write_csv(
        path, [VOLUNTEER_HEADER, ["2022/3/4", "南芬区", "单位", "队", "创城", "30余", "—", "x"]], encoding="utf-8-sig"
    )
    report = parse_file(path, inbox=inbox)
    assert report.report_type == "volunteer_activity"
    assert report.frame["volunteers"].tolist() == [30]
    assert report.frame["hours"].tolist() == [0.0]
    assert report.frame[APPROXIMATE].tolist() == ["volunteers"]
    assert rules(report) == [("approximate_value", F.WARNING)]
    assert report.findings[0].cell == "F2"


# ---------------------------------------------------------------- header problems


def test_unknown_report_type_lists_the_expected_headers(tmp_path):
    path, inbox = drop(tmp_path, "溪湖区", "花名册.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "性别", "年龄", "住址"])
    ws.append(["张三", "男", 30, "本溪"])
    wb.save(path)
    report = parse_file(path, inbox=inbox)
    assert rules(report) == [("unknown_report_type", F.CRITICAL)]
    zh = report.findings[0].message_zh
    assert zh.startswith("未识别出报表类型：前20行中没有找到任何报表的表头。各报表应有的表头为 —— ")
    assert "政务服务事项清单：事项编码、事项名称、所属区县、事项类型、是否依申请、是否进驻政务服务中心" in zh
    assert "防汛救灾清理情况日报：日期、区县、街道（乡镇）、出动人员（人次）" in zh
    assert "志愿服务活动统计：活动日期、区县、组织单位、志愿服务队、活动类型、参与志愿者（人）" in zh
    assert report.frame is None and report.contract is None


def test_missing_required_column(tmp_path):
    path, inbox = drop(tmp_path, "南芬区", "南芬区_志愿服务_2022-03.csv")
    header = [h for h in VOLUNTEER_HEADER if h != "组织单位"]
    write_csv(
        path,
        [
            ["南芬区志愿服务活动统计", "", "", "", "", "", ""],
            header,
            ["2022-03-04", "南芬区", "队1", "创城", 10, 2, "南芬区"],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert rules(report) == [("missing_column", F.CRITICAL)]
    f = report.findings[0]
    assert f.row == 2
    assert f.message_zh == "缺少必填列「组织单位」（第2行表头）"
    assert report.report_type == "volunteer_activity"
    assert "unit" not in report.frame
    assert report.frame["team"].tolist() == ["队1"]


def test_unknown_and_duplicate_columns(tmp_path):
    path, inbox = drop(tmp_path, "南芬区", "南芬区_志愿服务_2022-03.csv")
    write_csv(
        path,
        [
            [*VOLUNTEER_HEADER, "备注", "参与人数"],
            ["2022-03-04", "南芬区", "单位", "队1", "创城", 10, 2, "南芬区", "无", 11],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert rules(report) == [("unknown_column", F.WARNING), ("duplicate_column", F.CRITICAL)]
    assert [(f.column, f.cell) for f in report.findings] == [("备注", "I1"), ("参与人数", "J1")]
    assert report.frame["volunteers"].tolist() == [10]


# ---------------------------------------------------------------- values, streets and periods in context


def test_value_problems_point_at_the_cell(tmp_path):
    path, inbox = drop(tmp_path, "溪湖区", "溪湖区_防汛日报_2021-07-29.csv")
    header = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", "清运垃圾（吨）"]
    write_csv(
        path,
        [
            ["溪湖区防汛救灾清理情况统计表", "", "", "", ""],
            header,
            ["7月29日", "溪湖区", "河西街道", "abc", "30余吨"],
            ["7月29日", "溪湖区", "新街道", 12, "#DIV/0!"],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert report.period == "2021-07-29"
    assert report.frame["date"].tolist() == [dt.date(2021, 7, 29)] * 2  # year from the file name
    # findings come column by column, in the order the columns were matched
    assert [(f.rule, f.severity, f.cell, f.value) for f in report.findings] == [
        ("unknown_street", F.WARNING, "C4", "新街道"),
        ("value_format", F.ERROR, "D3", "abc"),
        ("value_format", F.ERROR, "E4", "#DIV/0!"),
        ("approximate_value", F.WARNING, "E3", "30余吨"),
    ]
    assert report.findings[1].message_zh == "「abc」不是有效的数字"
    assert report.findings[0].message_zh == "街道「新街道」不在本区县街道名录中"
    assert report.frame["personnel"].tolist() == [pd.NA, 12]
    assert report.frame["garbage_tons"].iat[0] == 30.0 and pd.isna(report.frame["garbage_tons"].iat[1])
    assert report.rejected


def test_unknown_period_is_critical(tmp_path):
    path, inbox = drop(tmp_path, "本溪县", "事项清单.csv")
    header = ["事项编码", "事项名称", "所属区县", "事项类型", "是否依申请", "是否进驻政务服务中心"]
    write_csv(path, [header, ["112105210000", "事项", "本溪县", "行政许可", "是", "是"]])
    report = parse_file(path, inbox=inbox)
    assert report.period is None
    assert rules(report) == [("unknown_period", F.CRITICAL)]
    assert report.findings[0].message_zh == "无法确定报表所属期间，请在标题、工作表名或文件名中注明（例如 2021Q4）"


def test_period_from_title_when_the_name_has_none(tmp_path):
    path, inbox = drop(tmp_path, "本溪县", "事项清单.csv")
    header = ["事项编码", "事项名称", "所属区县", "事项类型", "是否依申请", "是否进驻政务服务中心"]
    write_csv(
        path,
        [
            ["本溪县政务服务事项清单（2022年第一季度）", "", "", "", "", ""],
            header,
            ["112105210000", "事项", "市本级", "行政许可", "是", "否"],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert report.period == "2022Q1"
    assert report.frame["district"].tolist() == ["210500"]
    assert rules(report) == [("district_mismatch", F.ERROR)]  # 市本级 row in the 本溪县 folder


def test_no_data_rows(tmp_path):
    path, inbox = drop(tmp_path, "南芬区", "南芬区_志愿服务_2022-03.csv")
    write_csv(path, [VOLUNTEER_HEADER, ["合计", "", "", "", "", 0, 0, ""], ["填报人：张三"]])
    report = parse_file(path, inbox=inbox)
    assert ("no_data", F.CRITICAL) in rules(report)
    assert len(report.frame) == 0
    assert report.total_rows == [{"row": 2, "cells": ["合计", "", "", "", "", "0", "0", ""]}]
    assert report.period == "2022-03"  # from the file name


@pytest.mark.parametrize("row_number", ["序号", "序 号", "行号", "No."])
def test_a_row_number_column_is_no_finding_but_a_column_nobody_knows_is(tmp_path, row_number):
    """序号 numbers the rows of almost every form: read as an unknown column, every file was flagged."""
    path, inbox = drop(tmp_path, "南芬区", "南芬区_志愿服务_2022-03.csv")
    row = ["2022-03-04", "南芬区", "文明办", "1队", "创城", 30, 2, "南芬街道"]
    write_csv(path, [[row_number, *VOLUNTEER_HEADER, "备注"], [1, *row, "雨天"], [2, *row[:3], "2队", *row[4:], ""]])
    report = parse_file(path, inbox=inbox)
    assert len(report.frame) == 2
    assert [(f.rule, f.column) for f in report.findings] == [("unknown_column", "备注")]


def test_csv_with_unpadded_title_line_does_not_crash(tmp_path):
    path, inbox = drop(tmp_path, "南芬区", "南芬区_志愿服务_2022-03.csv")
    write_csv(
        path,
        [
            ["南芬区志愿服务活动统计表"],
            VOLUNTEER_HEADER,
            ["2022-03-04", "南芬区", "单位", "队1", "创城", 10, 2, "南芬区"],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert report.report_type == "volunteer_activity"
    assert len(report.frame) == 1


def test_the_garbage_collector_is_paused_while_a_file_is_read_and_restored(tmp_path, monkeypatch):
    import gc

    import etl.ingest.parse.tables

    seen = []

    def read(path, limits):
        seen.append(gc.isenabled())
        raise etl.ingest.parse.tables.UnreadableFile("坏", "broken")

    monkeypatch.setattr(etl.ingest.parse.tables, "read_isolated", read)
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"x")
    assert gc.isenabled()
    report = etl.ingest.parse.tables.parse_file(path)
    assert seen == [False] and gc.isenabled()
    assert [f.rule for f in report.findings] == ["unreadable_file"]
    gc.disable()  # a caller that runs without the collector keeps it off
    try:
        etl.ingest.parse.tables.parse_file(path)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_codes_whose_digits_excel_lost_are_named_on_their_cells(tmp_path):
    """A 12345 export opened in Excel and saved again (a ticket number as 2.02109E+12): the cell is an
    error naming it, never a code loaded with its digits gone (number cells of 16 digits or more:
    test_values.py)."""
    header = HOTLINE_HEADER
    tickets = [
        [number, "2021-09-01 08:00", "明山区", "新明街道", "城市管理", "2021-09-01 09:00", "2021-09-02 10:00", "满意"]
        for number in ("2021090100012", "2.02109E+12", "2021090100014")
    ]
    (tmp_path / "inbox" / "明山区").mkdir(parents=True)
    path = write_csv(tmp_path / "inbox" / "明山区" / "12345工单_2021-09.csv", [header, *tickets], encoding="utf-8-sig")
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert [(f.rule, f.severity, f.cell, f.value) for f in report.findings] == [
        ("value_format", F.ERROR, "A3", "2.02109E+12")
    ]
    assert report.frame["ticket_id"].tolist() == ["2021090100012", None, "2021090100014"]
