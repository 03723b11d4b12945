"""创城督查整改问题台账 end to end: parsing with the derived has_deadline / overdue flags, the GX suite,
loading on SQLite and PostgreSQL, and mart_rectification_by_district — rectification rate = 已整改 ÷
problems that have a deadline, literally — including the published 357 / 293 / 203 from the demo ledgers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from warehouse_helpers import ingest, query
from workbooks import write_xlsx

from demo.ledgers import RECTIFICATION_COUNTS, RECTIFICATION_OVERDUE, RECTIFICATION_TOTALS, write_ledger_files
from etl.contracts import CONTRACTS
from etl.contracts.rectification_ledger import derive
from etl.ingest.parse.tables import parse_file
from etl.ingest.validate.suite import load_suite_json, validate_report

D = dt.date
HEADER = ["问题编号", "发现日期", "区县", "责任单位", "问题类别", "问题描述", "整改期限", "整改状态", "整改完成日期"]
ALIASES = ["问题编号", "发现日期", "县区", "责任部门", "问题类型", "存在问题", "整改时限", "整改情况", "整改完成时间"]
# Data from row 3 (title row 1, header row 2).
XIHU_ROWS = [
    # row 3: rectified within its deadline
    [
        "CC-XH-001",
        D(2021, 10, 12),
        "溪湖区",
        "河西街道办事处",
        "社区卫生环境类",
        "河西街道滨河社区楼道内堆放杂物",
        D(2021, 10, 19),
        "已整改",
        D(2021, 10, 18),
    ],
    # row 4: no deadline (written 无), dates as text
    [
        "CC-XH-002",
        "2021.11.2",
        "溪湖",
        "溪湖区城市管理综合行政执法局",
        "商业大街类",
        "彩屯路沿街商铺跨门营业",
        "无",
        "整改中",
        None,
    ],
    # row 5: deadline on the ledger's last day, still open → overdue
    [
        "CC-XH-003",
        "2021年12月1日",
        "溪湖区",
        "溪湖区市场监督管理局",
        "农贸市场经营类",
        "彩屯农贸市场未设置公平秤",
        "2021-12-31",
        "整改中",
        None,
    ],
    # row 6: deadline next month → not overdue
    [
        "CC-XH-004",
        D(2021, 12, 20),
        "溪湖区",
        "溪湖区卫生健康局",
        "医院及周边",
        "溪湖区人民医院门前车辆乱停乱放",
        D(2022, 1, 15),
        "整改中",
        None,
    ],
    # row 7: rectified although it never had a deadline
    [
        "CC-XH-005",
        D(2021, 11, 9),
        "溪湖区",
        "溪湖区教育局",
        "中小学校及周边",
        "溪湖区实验小学周边流动摊贩聚集",
        None,
        "已整改",
        D(2021, 11, 30),
    ],
    ["填报人：", None, None, "审核人：", None, "联系电话：", None, None, None],
]
# 南芬区: one 已整改 without its completion date — a warning, the file is loaded and flagged
NANFEN_ROWS = [
    [
        "CC-NF-001",
        D(2021, 10, 21),
        "南芬区",
        "南芬区城市管理综合行政执法局",
        "商业大街类",
        "胜利路沿街垃圾桶破损",
        D(2021, 10, 28),
        "已整改",
        D(2021, 10, 27),
    ],
    [
        "CC-NF-002",
        D(2021, 11, 30),
        "南芬区",
        "南芬区教育局",
        "中小学校及周边",
        "南芬小学门前交通标线模糊",
        D(2021, 12, 20),
        "已整改",
        None,
    ],
    [
        "CC-NF-003",
        D(2021, 12, 15),
        "南芬区",
        "南芬区城市管理综合行政执法局",
        "商业大街类",
        "光明路占道经营",
        None,
        "整改中",
        None,
    ],
]


def write_ledger(inbox, folder, rows, header=HEADER, title=None, name=None):
    title = title or f"{folder}创城督查整改问题台账（2021年12月）"
    return write_xlsx(inbox / folder / (name or f"{folder}_创城整改台账.xlsx"), [header, *rows], title=title)


def as_float(value):
    return None if value is None else float(value)


def as_bool(value):
    return None if value is None else bool(value)


# ---------------------------------------------------------------- contract


def test_contract_shape():
    contract = CONTRACTS["rectification_ledger"]
    assert contract.key == ("issue_code",) and contract.period_grain == "month" and contract.date_column is None
    assert contract.fact_table == "fct_rectification_issue"
    assert [c.name for c in contract.required_columns] == ["issue_code", "district", "category", "status"]
    assert [c.name for c in contract.derived] == ["has_deadline", "overdue"]


# ---------------------------------------------------------------- parsing and derived flags


def test_parse_reads_dates_blank_deadlines_and_derives_flags(tmp_path):
    inbox = tmp_path / "inbox"
    report = parse_file(write_ledger(inbox, "溪湖区", XIHU_ROWS), inbox=inbox)

    assert report.report_type == "rectification_ledger" and report.period == "2021-12"
    assert report.findings == []
    frame = report.frame
    assert frame["_source_row"].tolist() == [3, 4, 5, 6, 7]
    assert frame["issue_code"].tolist() == ["CC-XH-001", "CC-XH-002", "CC-XH-003", "CC-XH-004", "CC-XH-005"]
    assert set(frame["district"]) == {"210503"}
    assert frame["found_date"].tolist() == [
        D(2021, 10, 12),
        D(2021, 11, 2),
        D(2021, 12, 1),
        D(2021, 12, 20),
        D(2021, 11, 9),
    ]
    assert frame["deadline"].tolist() == [D(2021, 10, 19), None, D(2021, 12, 31), D(2022, 1, 15), None]
    assert frame["rectified_date"].tolist() == [D(2021, 10, 18), None, None, None, D(2021, 11, 30)]
    assert frame["has_deadline"].tolist() == [True, False, True, True, False]
    assert frame["overdue"].tolist() == [False, False, True, False, False]

    outcome = validate_report(report)
    assert outcome.success and report.findings == []
    assert outcome.evaluated == len(load_suite_json("rectification_ledger")["expectations"])


def test_aliases_and_period_from_file_name(tmp_path):
    inbox = tmp_path / "inbox"
    path = write_ledger(
        inbox,
        "南芬区",
        [NANFEN_ROWS[0], NANFEN_ROWS[2]],
        header=ALIASES,
        title="南芬区创城督查整改问题台账",
        name="南芬区_创城整改台账_2021-11.xlsx",
    )
    report = parse_file(path, inbox=inbox)
    assert report.report_type == "rectification_ledger" and report.period == "2021-11"
    assert report.findings == []
    assert report.frame["unit"].tolist() == ["南芬区城市管理综合行政执法局"] * 2
    assert report.frame["category"].tolist() == ["商业大街类", "商业大街类"]
    assert report.frame["has_deadline"].tolist() == [True, False]


def test_derive_month_end_boundaries():
    frame = pd.DataFrame(
        {
            "status": ["整改中", "整改中", "已整改", "整改中", None],
            "deadline": [D(2021, 11, 30), D(2021, 12, 1), D(2021, 11, 1), None, D(2021, 11, 1)],
        }
    )
    out = derive(frame, "2021-11")
    assert out["has_deadline"].tolist() == [True, True, True, False, True]
    assert out["overdue"].tolist() == [True, False, False, False, False]
    assert derive(frame, None)["overdue"].isna().all()
    no_deadline_column = derive(frame[["status"]], "2021-11")
    assert no_deadline_column["has_deadline"].tolist() == [False] * 5
    assert no_deadline_column["overdue"].tolist() == [False] * 5


# ---------------------------------------------------------------- Great Expectations


def test_suite_failures_point_at_their_cells(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [
        [
            "CC-PS-001",
            D(2021, 10, 12),
            "平山区",
            "千金街道办事处",
            "社区卫生环境类",
            "化肥社区垃圾箱满溢",
            D(2021, 10, 19),
            "已整改",
            D(2021, 10, 18),
        ],  # 3 ok (A3 duplicate)
        [
            "CC-PS-001",
            D(2021, 10, 14),
            "平山区",
            "平山区城管局",
            "商业大街类",
            "解放路占道经营",
            D(2021, 10, 21),
            "整改中",
            None,
        ],  # 4 A4 duplicate code
        [
            "CC-PS-003",
            D(2021, 11, 20),
            "平山区",
            "平山区教育局",
            "中小学校及周边",
            "实验小学门前护学岗缺失",
            D(2021, 11, 27),
            "已整改",
            D(2021, 11, 2),
        ],  # 5 rectified before found
        [
            "CC-PS-004",
            D(2021, 11, 20),
            "平山区",
            "平山区城管局",
            "市容环境类",
            "站前街乱挂横幅",
            None,
            "整改中",
            None,
        ],  # 6 E6 category
        [
            "CC-PS-005",
            D(2021, 11, 23),
            "平山区",
            "平山区卫健局",
            "医院及周边",
            "平山区人民医院院内吸烟",
            D(2021, 11, 30),
            "已完成",
            D(2021, 11, 29),
        ],  # 7 H7 status
        [
            "CC-PS-006",
            D(2021, 12, 2),
            "平山区",
            "平山区市场监管局",
            "农贸市场经营类",
            "东明农贸市场活禽未隔离",
            D(2021, 12, 9),
            "已整改",
            None,
        ],  # 8 I8 warning
    ]
    report = parse_file(write_ledger(inbox, "平山区", rows), inbox=inbox)
    assert report.findings == []
    outcome = validate_report(report)

    assert not outcome.success
    found = {(f.rule.removeprefix("gx:"), f.cell): f for f in report.findings}
    assert set(found) == {
        ("expect_column_values_to_be_unique", "A3"),
        ("expect_column_values_to_be_unique", "A4"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "I5"),
        ("expect_column_values_to_be_in_set", "E6"),
        ("expect_column_values_to_be_in_set", "H7"),
        ("expect_column_values_to_not_be_null", "I8"),
    }
    duplicate = found[("expect_column_values_to_be_unique", "A4")]
    assert (duplicate.row, duplicate.column, duplicate.value, duplicate.severity) == (
        4,
        "问题编号",
        "CC-PS-001",
        "critical",
    )
    assert duplicate.message_zh.startswith("问题编号重复")
    # the suite's meta.finding_column puts the pair rule on the 整改完成日期 cell, the one usually wrong
    pair = found[("expect_column_pair_values_a_to_be_greater_than_b", "I5")]
    assert (pair.column, pair.severity) == ("整改完成日期", "error")
    assert pair.message_zh == "整改完成日期早于发现日期，请核对发现日期和整改完成日期"
    category = found[("expect_column_values_to_be_in_set", "E6")]
    assert (category.value, category.severity) == ("市容环境类", "error")
    assert category.message_zh.startswith("问题类别不在规定范围内")
    assert found[("expect_column_values_to_be_in_set", "H7")].value == "已完成"
    no_date = found[("expect_column_values_to_not_be_null", "I8")]
    assert (no_date.column, no_date.severity) == ("整改完成日期", "warning")
    assert report.rejected


# ---------------------------------------------------------------- warehouse, both databases


def test_load_and_mart_rectification_rates(settings):
    write_ledger(settings.inbox, "溪湖区", XIHU_ROWS)
    write_ledger(settings.inbox, "南芬区", NANFEN_ROWS, header=ALIASES)

    outcomes = ingest(settings)

    assert {name: (o.status, o.report_type, o.period, o.rows, o.warnings) for name, o in outcomes.items()} == {
        "溪湖区/溪湖区_创城整改台账.xlsx": ("accepted", "rectification_ledger", "2021-12", 5, 0),
        "南芬区/南芬区_创城整改台账.xlsx": ("flagged", "rectification_ledger", "2021-12", 3, 1),
    }
    finding = query(
        settings,
        "SELECT cell_ref, severity, message_zh FROM mart_finding WHERE file_name = :n",
        n="南芬区_创城整改台账.xlsx",
    )
    assert [(f["cell_ref"], f["severity"]) for f in finding] == [("I4", "warning")]
    facts = query(
        settings,
        "SELECT issue_code, deadline, has_deadline, overdue FROM fct_rectification_issue "
        "WHERE district = '210503' ORDER BY source_row",
    )
    assert [str(r["deadline"]) if r["deadline"] else None for r in facts] == [
        "2021-10-19",
        None,
        "2021-12-31",
        "2022-01-15",
        None,
    ]
    assert [as_bool(r["has_deadline"]) for r in facts] == [True, False, True, True, False]
    assert [as_bool(r["overdue"]) for r in facts] == [False, False, True, False, False]

    rows = query(settings, "SELECT * FROM mart_rectification_by_district")
    view = {
        r["district_name"]: (
            r["period"],
            r["district_code"],
            r["problems"],
            r["with_deadline"],
            r["rectified"],
            as_float(r["rectification_rate_pct"]),
            r["rectified_with_deadline"],
            r["in_progress"],
            r["overdue"],
        )
        for r in rows
    }
    assert view == {
        # 2 rectified ÷ 3 with a deadline, literally, although one of the two never had a deadline
        "溪湖区": ("2021-12", "210503", 5, 3, 2, 66.67, 1, 3, 1),
        "南芬区": ("2021-12", "210505", 3, 2, 2, 100.0, 2, 1, 0),
        "全市合计": ("2021-12", None, 8, 5, 4, 80.0, 3, 4, 1),
    }


def test_demo_ledgers_reproduce_the_published_rectification_rate(settings):
    paths = write_ledger_files(settings.shared_dir)
    for path in paths:
        if "创城" not in path.name:
            path.unlink()  # the task ledgers have their own test

    outcomes = ingest(settings)

    assert len(outcomes) == 7
    assert {o.status for o in outcomes.values()} == {"accepted"}  # accepted = not a single finding
    assert {o.period for o in outcomes.values()} == {"2021-12"}
    rows = query(settings, "SELECT * FROM mart_rectification_by_district")
    by_name = {r["district_name"]: r for r in rows}
    city = by_name["全市合计"]
    assert (city["problems"], city["with_deadline"], city["rectified"]) == (357, 293, 203) == RECTIFICATION_TOTALS
    assert as_float(city["rectification_rate_pct"]) == 69.28  # 203 / 293 = 69.2833…%
    assert city["rectified_with_deadline"] == 203  # both readings of the rule agree on the demo data
    assert (city["in_progress"], city["overdue"]) == (154, RECTIFICATION_OVERDUE) == (154, 90)
    assert by_name["市本级"]["district_code"] == "210500"
    for unit, (problems, with_deadline, rectified) in RECTIFICATION_COUNTS.items():
        r = by_name[unit]
        assert (r["problems"], r["with_deadline"], r["rectified"], r["rectified_with_deadline"]) == (
            problems,
            with_deadline,
            rectified,
            rectified,
        ), unit
        assert as_float(r["rectification_rate_pct"]) == round(100 * rectified / with_deadline, 2), unit


def test_demo_ledgers_are_byte_identical_on_every_run(tmp_path):
    first = write_ledger_files(tmp_path / "a")
    second = write_ledger_files(tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert len(first) == 14
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
