"""The official blank templates: generated from the contracts and suites, protected, with drop-downs — and a
template filled in by a clerk parses and validates without a single finding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from etl.contracts import CONTRACTS
from etl.ingest.parse.tables import parse_file
from etl.ingest.validate.suite import load_suite_json, validate_report
from etl.publish.templates import (
    DATA_ROWS,
    FIRST_DATA_ROW,
    HEADER_ROW,
    INLINE_LIST_LIMIT,
    INSTRUCTIONS_SHEET,
    OPTIONS_SHEET,
    enum_values,
    list_values,
    value_range,
    write_all_templates,
    write_template,
)
from etl.reference.places import default_places

D, T = dt.date, dt.datetime
DISTRICT = "明山区"
ALL_UNITS = ["市本级", "平山区", "溪湖区", "明山区", "南芬区", "本溪满族自治县", "桓仁满族自治县"]
MINGSHAN_STREETS = ["明山街道", "北地街道", "高峪街道", "新明街道", "牛心台街道", "高台子街道", "卧龙山街道"]

# Three valid rows per report type, as a 明山区 clerk would type them, and the period the file is named for.
SAMPLES: dict[str, tuple[str, list[dict]]] = {
    "service_items": (
        "2021Q4",
        [
            {
                "item_code": "112105040001",
                "item_name": "企业投资项目备案",
                "department": "明山区发展和改革局",
                "district": DISTRICT,
                "item_type": "行政许可",
                "is_application": "是",
                "in_service_hall": "是",
                "not_in_hall_reason": None,
                "online": "是",
                "legal_days": 20,
                "promised_days": 5,
                "max_visits": 0,
            },
            {
                "item_code": "112105040002",
                "item_name": "最低生活保障金给付",
                "department": "明山区民政局",
                "district": DISTRICT,
                "item_type": "行政给付",
                "is_application": "是",
                "in_service_hall": "否",
                "not_in_hall_reason": "涉密",
                "online": "否",
                "legal_days": 30,
                "promised_days": 30,
                "max_visits": 1,
            },
            {
                "item_code": "112105040003",
                "item_name": "公共法律服务咨询",
                "department": "明山区司法局",
                "district": DISTRICT,
                "item_type": "公共服务",
                "is_application": "否",
                "in_service_hall": "否",
                "not_in_hall_reason": None,
                "online": "是",
                "legal_days": None,
                "promised_days": None,
                "max_visits": 0,
            },
        ],
    ),
    "flood_cleanup": (
        "2021-07-29",
        [
            {
                "date": D(2021, 7, 29),
                "district": DISTRICT,
                "street": street,
                "personnel": 50 + i,
                "vehicles": 9,
                "garbage_tons": 30.5,
                "garbage_trips": 12,
                "silt_m3": 120,
                "water_pumped_m3": 12000.25,
                "disinfected_streets": 24,
                "disinfected_toilets": 13,
                "disinfected_bins": 68,
                "power_restored_households": 0,
            }
            for i, street in enumerate(["明山街道", "北地街道", "高峪街道"])
        ],
    ),
    "volunteer_activity": (
        "2022-03",
        [
            {
                "date": D(2022, 3, 4),
                "district": DISTRICT,
                "unit": "明山区文明办",
                "team": "学雷锋志愿服务队",
                "activity_type": "创城",
                "volunteers": 35,
                "hours": 2.5,
                "place": "明山街道",
            },
            {
                "date": D(2022, 3, 5),
                "district": DISTRICT,
                "unit": "明山区团委",
                "team": "青年志愿服务队",
                "activity_type": "环境清洁",
                "volunteers": 12,
                "hours": 3,
                "place": "高峪街道",
            },
            {
                "date": D(2022, 3, 12),
                "district": DISTRICT,
                "unit": "明山区民政局",
                "team": "助老志愿服务队",
                "activity_type": "助老助残",
                "volunteers": 8,
                "hours": None,
                "place": None,
            },
        ],
    ),
    "task_ledger": (
        "2021-12",
        [
            {
                "seq": 1,
                "task": "老旧小区改造",
                "district": DISTRICT,
                "lead_unit": "明山区住建局",
                "category": "住房",
                "due_date": D(2021, 10, 31),
                "status": "已完成",
                "done_date": D(2021, 10, 20),
            },
            {
                "seq": 2,
                "task": "社区卫生服务站建设",
                "district": DISTRICT,
                "lead_unit": "明山区卫健局",
                "category": "医疗卫生",
                "due_date": D(2022, 6, 30),
                "status": "推进中",
                "done_date": None,
            },
            {
                "seq": 3,
                "task": "背街小巷路灯安装",
                "district": DISTRICT,
                "lead_unit": None,
                "category": "基层治理",
                "due_date": None,
                "status": "跨年推进",
                "done_date": None,
            },
        ],
    ),
    "rectification_ledger": (
        "2021-12",
        [
            {
                "issue_code": "CC-MS-001",
                "found_date": D(2021, 10, 8),
                "district": DISTRICT,
                "unit": "明山街道办事处",
                "category": "社区卫生环境类",
                "description": "楼道堆放杂物",
                "deadline": D(2021, 10, 15),
                "status": "已整改",
                "rectified_date": D(2021, 10, 12),
            },
            {
                "issue_code": "CC-MS-002",
                "found_date": D(2021, 11, 2),
                "district": DISTRICT,
                "unit": "明山区市场监管局",
                "category": "农贸市场经营类",
                "description": "占道经营",
                "deadline": D(2022, 1, 15),
                "status": "整改中",
                "rectified_date": None,
            },
            {
                "issue_code": "=CC-MS-003",
                "found_date": D(2021, 12, 1),
                "district": DISTRICT,
                "unit": None,
                "category": "医院及周边",
                "description": "+86 非机动车乱停放",
                "deadline": None,
                "status": "整改中",
                "rectified_date": None,
            },
        ],
    ),
    "hotline_tickets": (
        "2021-09",
        [
            {
                "ticket_id": "MS2021090001",
                "received_at": T(2021, 9, 24, 10, 5),
                "district": DISTRICT,
                "street": "明山街道",
                "category": "市容环境",
                "first_reply_at": T(2021, 9, 24, 11, 0),
                "closed_at": T(2021, 9, 27, 16, 30),
                "satisfaction": "满意",
            },
            {
                "ticket_id": "MS2021090002",
                "received_at": T(2021, 9, 25, 9, 0),
                "district": DISTRICT,
                "street": "北地街道",
                "category": "供暖",
                "first_reply_at": T(2021, 9, 25, 12, 0),
                "closed_at": None,
                "satisfaction": None,
            },
            {
                "ticket_id": "MS2021090003",
                "received_at": T(2021, 9, 28, 15, 45),
                "district": DISTRICT,
                "street": None,
                "category": "物业管理",
                "first_reply_at": None,
                "closed_at": None,
                "satisfaction": "未评价",
            },
        ],
    ),
    "old_compound_renovation": (
        "2022-12",
        [
            {
                "seq": i + 1,
                "project": f"{street}{name}小区改造项目",
                "district": DISTRICT,
                "street": street,
                "buildings": 6 + i,
                "households": 380 + 10 * i,
                "scope": scope,
                "investment_10k_yuan": 612.35 + i,
                "start_date": D(2022, 4, 1),
                "due_date": D(2023, 10, 31),
                "status": status,
                "cameras": 12,
                "access_doors": 26,
            }
            for i, (street, name, scope, status) in enumerate(
                [
                    ("明山街道", "金山", "楼本体改造、燃气管网改造", "在建"),
                    ("北地街道", "东兴", "基础配套设施改造", "已完工"),
                    ("高峪街道", "峪明", "楼本体改造、基础配套设施改造、燃气管网改造", "在建"),
                ]
            )
        ],
    ),
}


def test_samples_cover_every_report_type():
    assert set(SAMPLES) == set(CONTRACTS)
    for report_type, (_, rows) in SAMPLES.items():
        assert all(set(row) == set(CONTRACTS[report_type].column_names) for row in rows), report_type


def data_sheet(path: Path, report_type: str):
    wb = load_workbook(path)
    return wb, wb[CONTRACTS[report_type].title_zh]


def validations_by_column(ws) -> dict[str, object]:
    """Column letter → its data validation (each template column has at most one)."""
    found = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            assert (rng.min_row, rng.max_row) == (FIRST_DATA_ROW, FIRST_DATA_ROW + DATA_ROWS - 1)
            assert rng.min_col == rng.max_col
            letter = rng.coord.split(":")[0].rstrip("0123456789")
            assert letter not in found
            found[letter] = dv
    return found


@pytest.mark.parametrize("report_type", sorted(CONTRACTS))
@pytest.mark.parametrize("district", [None, DISTRICT])
def test_template_layout_validations_and_protection(tmp_path, report_type, district):
    contract = CONTRACTS[report_type]
    suite = load_suite_json(contract.suite_name)
    path = write_template(report_type, tmp_path / "t.xlsx", district)
    wb, ws = data_sheet(path, report_type)

    assert wb.sheetnames[:2] == [INSTRUCTIONS_SHEET, contract.title_zh]
    assert wb.active.title == contract.title_zh
    title = ws.cell(1, 1).value
    assert title == (f"{district}{contract.title_zh}" if district else contract.title_zh)
    assert any(str(r) == f"A1:{get_column_letter(len(contract.columns))}1" for r in ws.merged_cells.ranges)
    headers = [ws.cell(HEADER_ROW, i + 1).value for i in range(len(contract.columns))]
    assert headers == [c.header for c in contract.columns]
    assert ws.cell(HEADER_ROW, len(contract.columns) + 1).value is None
    assert all(
        ws.cell(HEADER_ROW, i + 1).font.b and ws.cell(HEADER_ROW, i + 1).fill.fgColor.rgb != "00000000"
        for i in range(len(contract.columns))
    )
    assert ws.freeze_panes == "A3"

    # protection: sheet protected without a password, title and header locked, data rows unlocked
    assert ws.protection.sheet and not ws.protection.password
    for i in range(1, len(contract.columns) + 1):
        assert ws.cell(1, i).protection.locked and ws.cell(HEADER_ROW, i).protection.locked
        assert not ws.cell(FIRST_DATA_ROW, i).protection.locked
        assert not ws.cell(FIRST_DATA_ROW + DATA_ROWS - 1, i).protection.locked
        assert ws.column_dimensions[get_column_letter(i)].width >= 10

    validations = validations_by_column(ws)
    streets = MINGSHAN_STREETS if district else [p.name for p in default_places().places if p.level == "street"]
    for i, col in enumerate(contract.columns, start=1):
        letter = get_column_letter(i)
        dv = validations.get(letter)
        expected_list = {
            "district": [district] if district else ALL_UNITS,
            "street": streets,
            "bool": ["是", "否"],
        }.get(col.kind) or enum_values(suite, col.name)
        if expected_list:
            assert dv is not None and dv.type == "list", col.header
            assert list_values(wb, dv) == expected_list, col.header
            assert dv.showErrorMessage and dv.allow_blank
            assert dv.errorStyle == ("warning" if col.kind == "street" else "stop")
        elif col.kind in ("int", "decimal") and value_range(suite, col.name):
            lo, hi = value_range(suite, col.name)
            assert dv.type == ("whole" if col.kind == "int" else "decimal"), col.header
            assert (dv.operator, float(dv.formula1), float(dv.formula2)) == ("between", lo, hi)
            assert lo >= 0
        elif col.kind in ("date", "datetime"):
            assert dv is not None and dv.type == "date", col.header
        else:
            assert dv is None, col.header

    # the instructions name every column, its allowed values and the suite's rule texts
    texts = " ".join(str(v) for row in wb[INSTRUCTIONS_SHEET].iter_rows(values_only=True) for v in row if v)
    for col in contract.columns:
        assert col.header in texts
        assert all(v in texts for v in enum_values(suite, col.name) or [])
    messages = [
        e["meta"]["message_zh"]
        for e in suite["expectations"]
        if e.get("meta", {}).get("message_zh") not in (None, "必填项为空")
        and e["kwargs"].get("column", e["kwargs"].get("column_A")) in (*contract.column_names, None)
    ]
    assert messages and all(m in texts for m in messages)
    assert wb[INSTRUCTIONS_SHEET].protection.sheet


def test_long_lists_go_to_a_hidden_options_sheet(tmp_path):
    path = write_template("flood_cleanup", tmp_path / "t.xlsx")
    wb, ws = data_sheet(path, "flood_cleanup")
    street = validations_by_column(ws)["C"]
    assert street.formula1.startswith(f"'{OPTIONS_SHEET}'!$")  # 35 streets: too long for an inline list
    assert wb[OPTIONS_SHEET].sheet_state == "hidden"
    assert len(list_values(wb, street)) == 35
    assert all(len(dv.formula1) <= INLINE_LIST_LIMIT for dv in ws.data_validations.dataValidation)
    narrow, _ = data_sheet(write_template("flood_cleanup", tmp_path / "m.xlsx", "明山"), "flood_cleanup")
    assert OPTIONS_SHEET not in narrow.sheetnames  # seven streets fit inline


def test_blank_template_is_recognised_as_its_report_type(tmp_path):
    """The instructions sheet must not look like a table: a blank template is read as its own report type,
    with nothing in it."""
    for report_type in CONTRACTS:
        path = write_template(report_type, tmp_path / DISTRICT / f"{report_type}.xlsx", DISTRICT)
        report = parse_file(path, inbox=tmp_path)
        assert report.report_type == report_type
        assert report.sheet == CONTRACTS[report_type].title_zh
        assert "no_data" in {f.rule for f in report.findings}
        assert not {"missing_column", "unknown_column", "unknown_report_type"} & {f.rule for f in report.findings}


def test_write_all_templates_and_bad_arguments(tmp_path):
    paths = write_all_templates(tmp_path / "templates", "市本级")
    assert len(paths) == len(CONTRACTS) and all(p.exists() for p in paths)
    assert all(p.name.startswith("市本级_") and p.name.endswith("_填报模板.xlsx") for p in paths)
    wb, ws = data_sheet(paths[0], min(CONTRACTS))
    district = validations_by_column(ws)["B"]
    assert list_values(wb, district) == ["市本级"]
    with pytest.raises(ValueError, match="未知区县"):
        write_template("flood_cleanup", tmp_path, "火星区")
    with pytest.raises(ValueError, match="unknown report type"):
        write_template("no_such_report", tmp_path)


def expected_value(col, value: object) -> object:
    """What the parser makes of a typed value: names → codes, 是/否 → bool, a blank count → 0."""
    kind = col.kind
    if value is None:
        return 0 if col.blank_is_zero else None
    if kind == "district":
        return default_places().resolve_district(value).code
    if kind == "bool":
        return value == "是"
    if kind == "decimal":
        return float(value)
    return value


def plain(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


@pytest.mark.parametrize("report_type", sorted(CONTRACTS))
def test_round_trip_filled_template_parses_and_validates_clean(tmp_path, report_type):
    """A clerk fills the official template and drops it in the district's folder: no findings, and the
    parsed values are the ones typed in."""
    contract = CONTRACTS[report_type]
    period, rows = SAMPLES[report_type]
    template = write_template(report_type, tmp_path / "templates", DISTRICT)
    wb, ws = data_sheet(template, report_type)
    headers = {ws.cell(HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(HEADER_ROW, c).value}
    from etl.excel_safe import set_cell

    for r, row in enumerate(rows, start=FIRST_DATA_ROW):
        for name, value in row.items():
            set_cell(ws.cell(r, headers[contract.column(name).header]), value)
    inbox = tmp_path / "inbox"
    path = inbox / DISTRICT / f"{DISTRICT}_{contract.title_zh}_{period}.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)

    report = parse_file(path, inbox=inbox)
    assert report.findings == []
    validate_report(report)
    assert [(f.rule, f.cell, f.message_zh) for f in report.findings] == []
    assert (report.report_type, report.district.code, report.period) == (report_type, "210504", period)
    assert list(report.frame["_source_row"]) == [FIRST_DATA_ROW, FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 2]
    for col in contract.columns:
        parsed = [plain(v) for v in report.frame[col.name]]
        assert parsed == [expected_value(col, row[col.name]) for row in rows], col.header


def test_cli_writes_templates(sqlite_settings, tmp_path, capsys):
    from etl.__main__ import main

    assert main(["template", "--report-type", "flood_cleanup", "--district", "明山"]) == 0
    path = sqlite_settings.shared_dir / "templates" / "明山区_防汛救灾清理情况日报_填报模板.xlsx"
    assert path.exists() and str(path) in capsys.readouterr().out  # default: SHARED_DIR/templates
    assert main(["template", "--out", str(tmp_path / "all")]) == 0
    assert len(list((tmp_path / "all").glob("*_填报模板.xlsx"))) == len(CONTRACTS)
    assert main(["template", "--district", "火星区"]) == 1
    assert main(["template", "--report-type", "no_such_report"]) == 1
