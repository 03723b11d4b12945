"""Every data sheet of a workbook is read (etl.ingest.parse.layout.find_tables, etl.ingest.parse.tables): a sheet per day or per month
is a load per period, sheets of one period are one load with each row's sheet in its lineage, and a sheet
of another report type, one missing required columns or one the reader cannot read is named in a finding.
Nothing is dropped silently; a later file of one day replaces that day only (DOMAIN.md, resubmission)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from warehouse_helpers import ingest, query
from workbooks import write_workbook

from etl.ingest.parse.tables import parse_file
from etl.reference.periods import period_from_sheet_name

FLOOD_HEADER = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", "出动车辆（台次）"]
VOLUNTEER_HEADER = ["活动日期", "区县", "组织单位", "志愿服务队", "活动类型", "参与志愿者（人）"]
STREETS = ["河西街道", "彩屯街道", "东风街道", "日月岛街道", "石桥子街道"]  # 溪湖区's
DAYS = [dt.date(2021, 7, 25) + dt.timedelta(days=i) for i in range(7)]


def flood_rows(day: dt.date, streets: list[str], personnel: list[int]) -> list[list[object]]:
    return [FLOOD_HEADER] + [
        [day.isoformat(), "溪湖区", street, n, 1] for street, n in zip(streets, personnel, strict=True)
    ]


def volunteer_rows(day: str = "2021-07-28") -> list[list[object]]:
    return [VOLUNTEER_HEADER, [day, "溪湖区", "溪湖区文明办", "溪湖区1队", "防汛", 12]]


NOTES = [["填表说明"], ["1. 每天一张工作表"], ["2. 数值填阿拉伯数字"]]
BROKEN = [["日期", "区县", "街道（乡镇）", "出动车辆（台次）"], ["2021-07-27", "溪湖区", "河西街道", 3]]  # no 出动人员


@st.composite
def workbooks(draw):
    """1–12 sheets: flood days (a day may have two sheets, on other streets), hidden days, a volunteer
    sheet, instructions and a sheet missing a required column, in any order after a first flood day."""
    count = draw(st.integers(1, 12))
    kinds = ["day"] + draw(
        st.lists(
            st.sampled_from(["day", "day", "hidden", "volunteer", "notes", "broken"]),
            min_size=count - 1,
            max_size=count - 1,
        )
    )
    assume(kinds.count("volunteer") <= kinds.count("day"))  # flood is the workbook's type (the first sheet's on a tie)
    used: dict[dt.date, int] = {}
    sheets = []
    for i, kind in enumerate(kinds):
        name = f"表{i + 1}_{kind}"
        if kind in ("day", "hidden"):
            day = draw(st.sampled_from(DAYS))
            start = used.get(day, 0) if kind == "day" else 0
            width = draw(st.integers(1, 2))
            if kind == "day" and start + width > len(STREETS):
                kind, start = "hidden", 0  # no streets left for this day: keep the sheet, hidden
            streets = STREETS[start : start + width]
            if kind == "day":
                used[day] = start + width
            personnel = draw(st.lists(st.integers(0, 500), min_size=width, max_size=width))
            sheets.append((name, kind, day, flood_rows(day, streets, personnel)))
        elif kind == "volunteer":
            sheets.append((name, kind, None, volunteer_rows()))
        elif kind == "notes":
            sheets.append((name, kind, None, NOTES))
        else:
            sheets.append((name, kind, None, BROKEN))
    return sheets


def expected_facts(sheets) -> dict[str, set]:
    """What the warehouse must hold, worked out from the sheets alone: per day, (sheet, row, street, personnel)."""
    days: dict[str, set] = {}
    for name, kind, day, rows in sheets:
        if kind == "day":
            for r, row in enumerate(rows[1:], start=2):
                days.setdefault(day.isoformat(), set()).add((name, r, row[2], row[3]))
    return days


@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sheets=workbooks())
def test_every_visible_data_sheet_is_loaded_a_load_per_day(make_settings, sheets):
    settings = make_settings()
    path = settings.inbox / "溪湖区" / "溪湖区_防汛日报_七月.xlsx"
    write_workbook(path, [(name, rows, kind != "hidden") for name, kind, _day, rows in sheets])
    outcome = ingest(settings)["溪湖区/溪湖区_防汛日报_七月.xlsx"]
    expected = expected_facts(sheets)

    loads = query(
        settings,
        "SELECT load_id, period, status, rows_loaded, is_current, sheet_name FROM stg_file_load ORDER BY load_id",
    )
    assert sorted(load["period"] for load in loads) == sorted(expected)  # a load per day, none other
    assert all(load["status"] in ("accepted", "flagged") and load["is_current"] == 1 for load in loads)
    for load in loads:
        facts = query(
            settings,
            "SELECT source_sheet, source_row, street, personnel FROM fct_flood_cleanup WHERE load_id = :id",
            id=load["load_id"],
        )
        assert {tuple(f.values()) for f in facts} == expected[load["period"]]
        assert load["rows_loaded"] == len(expected[load["period"]])
        in_order = [name for name, kind, day, _rows in sheets if kind == "day" and day.isoformat() == load["period"]]
        assert load["sheet_name"] == "、".join(in_order)  # workbook order

    findings = query(
        settings,
        "SELECT rule, sheet_name FROM stg_finding WHERE severity <> 'warning' "
        "OR rule IN ('other_report_sheet', 'incomplete_sheet')",
    )
    said = {(f["rule"], f["sheet_name"]) for f in findings}
    wanted = {("other_report_sheet", name) for name, kind, *_ in sheets if kind == "volunteer"}
    wanted |= {("incomplete_sheet", name) for name, kind, *_ in sheets if kind == "broken"}
    assert said == wanted  # each sheet left out is named, and nothing else is wrong
    assert outcome.status == ("flagged" if wanted else "accepted")
    assert outcome.rows == sum(len(v) for v in expected.values())
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_volunteer_activity")[0]["n"] == 0


def test_sheets_of_one_month_are_one_load_with_each_rows_sheet_on_both_databases(settings):
    """Two sheets of March (rows 2 and 3 on each) are one load; the same Excel rows on two sheets are two
    facts (the lineage and the volunteer table's key take the sheet)."""
    rows_a = [
        VOLUNTEER_HEADER,
        ["2022-03-04", "平山区", "平山区文明办", "平山区1队", "创城", 10],
        ["2022-03-05", "平山区", "平山区文明办", "平山区2队", "创城", 11],
    ]
    rows_b = [
        VOLUNTEER_HEADER,
        ["2022-03-20", "平山区", "平山区文明办", "平山区1队", "创城", 20],
        ["2022-03-21", "平山区", "平山区文明办", "平山区3队", "创城", 21],
    ]
    write_workbook(
        settings.inbox / "平山区" / "平山区_志愿服务_2022-03.xlsx",
        [("3月上半月", rows_a, True), ("3月下半月", rows_b, True)],
    )
    outcome = ingest(settings)["平山区/平山区_志愿服务_2022-03.xlsx"]
    assert outcome.status == "accepted" and outcome.rows == 4 and outcome.loads is None
    load = query(settings, "SELECT period, sheet_name, rows_loaded FROM stg_file_load")
    assert load == [{"period": "2022-03", "sheet_name": "3月上半月、3月下半月", "rows_loaded": 4}]
    facts = query(
        settings, "SELECT source_sheet, source_row, volunteers FROM fct_volunteer_activity ORDER BY volunteers"
    )
    assert [tuple(f.values()) for f in facts] == [
        ("3月上半月", 2, 10),
        ("3月上半月", 3, 11),
        ("3月下半月", 2, 20),
        ("3月下半月", 3, 21),
    ]
    monthly = query(settings, "SELECT participations FROM mart_volunteer_daily WHERE district_code IS NULL")
    assert sum(r["participations"] for r in monthly) == 62


def test_a_day_resubmitted_replaces_that_day_only_and_the_same_workbook_again_changes_nothing(settings):
    days = [dt.date(2021, 7, 29), dt.date(2021, 7, 30), dt.date(2021, 7, 31)]
    workbook = settings.inbox / "溪湖区" / "溪湖区_防汛日报_三天.xlsx"
    write_workbook(workbook, [(f"{d.month}月{d.day}日", flood_rows(d, STREETS[:2], [10, 20]), True) for d in days])
    original = workbook.read_bytes()
    outcome = ingest(settings)["溪湖区/溪湖区_防汛日报_三天.xlsx"]
    assert outcome.status == "accepted" and [load["period"] for load in outcome.loads] == [d.isoformat() for d in days]
    assert outcome.period == "2021-07-29、2021-07-30、2021-07-31" and outcome.rows == 6

    # the clerk corrects 7-30 in a file of that day alone
    write_workbook(
        settings.inbox / "溪湖区" / "溪湖区_防汛日报_2021-07-30.xlsx",
        [("Sheet1", flood_rows(days[1], STREETS[:2], [15, 25]), True)],
    )
    ingest(settings)
    current = query(
        settings,
        "SELECT f.date, SUM(f.personnel) AS personnel, l.file_name FROM fct_flood_cleanup f "
        "JOIN stg_file_load l ON l.load_id = f.load_id WHERE l.is_current = 1 "
        "GROUP BY f.date, l.file_name ORDER BY f.date",
    )
    assert [(str(r["date"])[:10], r["personnel"], r["file_name"]) for r in current] == [
        ("2021-07-29", 30, "溪湖区_防汛日报_三天.xlsx"),
        ("2021-07-30", 40, "溪湖区_防汛日报_2021-07-30.xlsx"),
        ("2021-07-31", 30, "溪湖区_防汛日报_三天.xlsx"),
    ]
    history = query(settings, "SELECT superseded_by FROM stg_file_load WHERE period = '2021-07-30' AND is_current = 0")
    assert len(history) == 1 and history[0]["superseded_by"] is not None  # the earlier version stays as history

    # the very same workbook once more: a duplicate, nothing changes
    (settings.inbox / "溪湖区" / "溪湖区_防汛日报_三天(副本).xlsx").write_bytes(original)
    again = ingest(settings)["溪湖区/溪湖区_防汛日报_三天(副本).xlsx"]
    assert again.status == "duplicate"
    assert query(settings, "SELECT COUNT(*) AS n FROM stg_file_load WHERE is_current = 1")[0]["n"] == 3
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_flood_cleanup")[0]["n"] == 8


def test_one_day_rejected_the_others_load_and_the_receipt_marks_cells_on_every_sheet(settings):
    good = flood_rows(dt.date(2021, 7, 29), STREETS[:2], [10, 20])
    bad = flood_rows(dt.date(2021, 7, 30), STREETS[:2], [10, 20])
    bad[2][3] = "很多"  # not a number: the day's file is rejected (flood rejects the file on a row error)
    also_bad = flood_rows(dt.date(2021, 7, 31), STREETS[:1], [10])
    also_bad[1][4] = "两台"
    write_workbook(
        settings.inbox / "溪湖区" / "溪湖区_防汛日报.xlsx",
        [("7月29日", good, True), ("7月30日", bad, True), ("7月31日", also_bad, True)],
    )
    outcome = ingest(settings)["溪湖区/溪湖区_防汛日报.xlsx"]
    assert outcome.status == "flagged"  # something was loaded, and something needs the clerk
    assert [(load["period"], load["status"]) for load in outcome.loads] == [
        ("2021-07-29", "accepted"),
        ("2021-07-30", "rejected"),
        ("2021-07-31", "rejected"),
    ]
    assert "2个期间退回" in outcome.reason_zh and outcome.rows == 2
    loads = query(
        settings, "SELECT period, status, is_current, receipt_path, moved_to FROM stg_file_load ORDER BY period"
    )
    assert [(r["period"], r["status"], r["is_current"]) for r in loads] == [
        ("2021-07-29", "accepted", 1),
        ("2021-07-30", "rejected", 0),
        ("2021-07-31", "rejected", 0),
    ]
    assert len({(r["receipt_path"], r["moved_to"]) for r in loads}) == 1 and loads[0]["moved_to"].startswith(
        "processed/"
    )

    receipt = load_workbook(settings.shared_dir / loads[0]["receipt_path"])
    assert "不是有效的数字" in receipt["7月30日"]["D3"].comment.text
    assert "不是有效的数字" in receipt["7月31日"]["E2"].comment.text
    assert receipt["7月29日"]["D3"].comment is None
    result = [[c.value for c in row] for row in receipt["处理结果"].iter_rows()]
    per_period = {r[0]: r[1] for r in result if str(r[0]).startswith("期间 ")}
    assert list(per_period) == ["期间 2021-07-29", "期间 2021-07-30", "期间 2021-07-31"]
    assert per_period["期间 2021-07-29"].endswith("已入库，共2行") and "（D3）" in per_period["期间 2021-07-30"]
    assert {r[2] for r in result if r[1] == "错误"} == {"7月30日", "7月31日"}  # the finding's sheet column


def test_a_sheet_the_reader_cannot_read_is_named_and_the_others_load(sqlite_settings):
    settings = sqlite_settings
    path = settings.inbox / "溪湖区" / "溪湖区_防汛日报.xlsx"
    write_workbook(
        path,
        [
            ("7月29日", flood_rows(dt.date(2021, 7, 29), STREETS[:2], [1, 2]), True),
            ("7月30日", flood_rows(dt.date(2021, 7, 30), STREETS[:2], [3, 4]), True),
        ],
    )
    damage_sheet(path, "xl/worksheets/sheet2.xml")
    outcome = ingest(settings)["溪湖区/溪湖区_防汛日报.xlsx"]
    assert outcome.status == "flagged" and outcome.period == "2021-07-29" and outcome.rows == 2
    finding = query(settings, "SELECT rule, severity, sheet_name, message_zh FROM stg_finding")
    assert finding == [
        {
            "rule": "unreadable_sheet",
            "severity": "warning",
            "sheet_name": "7月30日",
            "message_zh": finding[0]["message_zh"],
        }
    ]
    assert "无法读取" in finding[0]["message_zh"]


def damage_sheet(path, member: str) -> None:
    """Point the sheet's only cell at a shared string that does not exist: the container is sound, the
    sheet cannot be read."""
    source = zipfile.ZipFile(path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == member:
                data = (
                    b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b'<sheetData><row r="1"><c r="A1" t="s"><v>999</v></c></row></sheetData></worksheet>'
                )
            target.writestr(info, data)
    source.close()
    path.write_bytes(out.getvalue())


def test_a_workbook_of_only_hidden_or_incomplete_sheets_is_read_as_before(tmp_path):
    """No complete visible table: the best one is read and its findings are the file's (one load)."""
    path = tmp_path / "inbox" / "溪湖区" / "防汛_2021-07-29.xlsx"
    write_workbook(path, [("说明", NOTES, True), ("数据", BROKEN, True)])
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert report.later_parts == [] and [f.rule for f in report.findings] == ["missing_column"]


def test_period_from_a_sheet_name():
    assert period_from_sheet_name("7月29日", "day", 2021) == "2021-07-29"
    assert period_from_sheet_name("7.30", "day", 2021) == "2021-07-30"
    assert period_from_sheet_name("2022-03", "month", None) == "2022-03"
    assert period_from_sheet_name("3月份", "month", 2022) == "2022-03"
    assert period_from_sheet_name("7月29日", "month", 2021) == "2021-07"
    assert period_from_sheet_name("Sheet1", "day", 2021) is None
    assert period_from_sheet_name("7月29日", "day", None) is None
    assert period_from_sheet_name("2月30日", "day", 2021) is None


def test_a_sheet_per_month_named_by_month_takes_its_period_from_the_name(tmp_path):
    """A register without dates: each sheet's period from its name (the year from the file name)."""
    header = ["事项编码", "事项名称", "所属区县", "事项类型", "是否依申请", "是否进驻政务服务中心"]
    path = tmp_path / "inbox" / "本溪县" / "本溪县_事项清单_2021.xlsx"
    write_workbook(
        path,
        [
            ("2021Q3", [header, ["112105210000", "事项", "本溪县", "行政许可", "是", "是"]], True),
            ("2021Q4", [header, ["112105210001", "事项二", "本溪县", "行政许可", "是", "是"]], True),
        ],
    )
    report = parse_file(path, inbox=tmp_path / "inbox")
    assert [part.period for part in report.parts] == ["2021Q3", "2021Q4"]
    assert [part.rows_read for part in report.parts] == [1, 1]


def test_an_html_export_with_a_table_per_day_gets_a_receipt_copying_every_table(sqlite_settings):
    """A format the receipt cannot copy as a workbook (HTML tables saved as .xls): the receipt is built
    from the sheets read, one per table, with the problem cells marked on each."""
    settings = sqlite_settings

    def table(rows):
        return (
            "<table>" + "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows) + "</table>"
        )

    day1 = flood_rows(dt.date(2021, 7, 29), STREETS[:2], [10, 20])
    day2 = flood_rows(dt.date(2021, 7, 30), STREETS[:2], [30, 40])
    day1[1][3] = "30余"  # approximate: loaded, with a warning on its cell
    path = settings.inbox / "溪湖区" / "溪湖区_防汛日报.xls"
    path.parent.mkdir(parents=True)
    path.write_text(f"<html><body>{table(day1)}<p>次日</p>{table(day2)}</body></html>", encoding="utf-8")
    outcome = ingest(settings)["溪湖区/溪湖区_防汛日报.xls"]
    assert outcome.status == "flagged" and [load["period"] for load in outcome.loads] == ["2021-07-29", "2021-07-30"]
    receipt = load_workbook(settings.shared_dir / outcome.receipt)
    assert receipt.sheetnames == ["处理结果", "表1", "表2"]
    assert "约数" in receipt["表1"]["D2"].comment.text
    assert receipt["表2"]["D3"].value == "40"  # the second table is copied too (as the text HTML holds)
