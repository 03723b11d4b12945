"""为群众办实事项目台账 end to end: parsing with the derived overdue / completed_late flags, the GX suite
(实际完成时间 required exactly when 已完成), loading on SQLite and PostgreSQL, and the
mart_task_completion_by_district view — including the published 1,735 / 1,697 from the demo ledgers."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from warehouse_helpers import ingest, query
from workbooks import write_xlsx

from demo.ledgers import TASK_COUNTS, TASK_OVERDUE, TASK_TOTALS, write_ledger_files
from etl.contracts import CONTRACTS
from etl.contracts.task_ledger import derive
from etl.ingest.parse.tables import parse_file
from etl.ingest.validate.suite import load_suite_json, validate_report

D = dt.date
CANONICAL = ["序号", "实事名称", "区县", "牵头单位", "类别", "计划完成时间", "完成状态", "实际完成时间"]
ALIASES = ["序号", "项目名称", "县区", "责任单位", "项目类别", "计划完成时限", "进展情况", "完成时间"]
MINGSHAN_TITLE = "明山区“我为群众办实事”项目台账（2021年12月）"
# Data from row 3 (title row 1, header row 2); a 合计 row and the footer follow.
MINGSHAN_ROWS = [
    # row 3: done before the due date
    [
        1,
        "明山街道幸福社区老旧小区改造",
        "明山区",
        "明山区住房和城乡建设局",
        "住房",
        D(2021, 11, 30),
        "已完成",
        D(2021, 11, 20),
    ],
    # row 4: dates typed as text; done after the due date → completed_late
    [
        2,
        "北地路（北地街道段）道路维修改造",
        "明山",
        "明山区交通运输局",
        "交通出行",
        "2021.10.31",
        "已完成",
        "2021年11月5日",
    ],
    # row 5: due on the ledger's last day and not done → overdue
    [3, "高峪街道卫生服务站标准化建设", "明山区", "明山区卫生健康局", "医疗卫生", "2021-12-31", "推进中", None],
    # row 6: planned for next year → not overdue
    [4, "新明街道供暖管网改造", "明山区", "明山区住房和城乡建设局", "住房", D(2022, 6, 30), "跨年推进", None],
    # row 7: no due date → not overdue; "—" for the empty completion date
    [5, "卧龙山街道就业服务驿站建设", "明山区", "明山区人力资源和社会保障局", "就业", None, "未启动", "—"],
    # row 8: 12月15日 takes its year from the title → overdue
    [6, "明山区实验小学校舍维修改造", "明山区", "明山区教育局", "教育", "12月15日", "未启动", None],
    ["合计", "共6项，已完成2项", None, None, None, None, None, None],
    ["填报人：", None, None, "审核人：", None, "联系电话：", None, None],
]
PINGSHAN_ROWS = [
    [
        1,
        "千金街道化肥社区居民楼自来水管网铺设",
        "平山区",
        "平山区住房和城乡建设局",
        "住房",
        D(2021, 9, 30),
        "已完成",
        D(2021, 9, 18),
    ],
    [
        2,
        "平山区人民医院开通老年人就医绿色通道",
        "平山区",
        "平山区卫生健康局",
        "医疗卫生",
        D(2021, 6, 30),
        "已完成",
        D(2021, 7, 12),
    ],
    [3, "站前街道背街小巷环境整治", "平山区", "站前街道办事处", "环境", D(2021, 12, 31), "已完成", D(2021, 12, 31)],
]


def write_ledger(inbox, folder, rows, header=ALIASES, title=None, name=None):
    title = title or f"{folder}“我为群众办实事”项目台账（2021年12月）"
    return write_xlsx(inbox / folder / (name or f"{folder}_办实事台账.xlsx"), [header, *rows], title=title)


def as_float(value):
    return None if value is None else float(value)


def as_bool(value):
    return None if value is None else bool(value)


# ---------------------------------------------------------------- contract


def test_contract_shape():
    contract = CONTRACTS["task_ledger"]
    assert contract.key == ("task",) and contract.period_grain == "month" and contract.date_column is None
    assert contract.fact_table == "fct_task_ledger"
    assert [c.name for c in contract.required_columns] == ["task", "district", "category", "status"]
    assert [c.name for c in contract.derived] == ["overdue", "completed_late"]


# ---------------------------------------------------------------- parsing and derived flags


def test_parse_reads_aliases_dates_and_derives_flags(tmp_path):
    inbox = tmp_path / "inbox"
    report = parse_file(write_ledger(inbox, "明山区", MINGSHAN_ROWS, title=MINGSHAN_TITLE), inbox=inbox)

    assert report.report_type == "task_ledger" and report.period == "2021-12"
    assert report.findings == []
    frame = report.frame
    assert frame["_source_row"].tolist() == [3, 4, 5, 6, 7, 8]  # 合计 and footer are not data
    assert frame["seq"].tolist() == [1, 2, 3, 4, 5, 6]
    assert frame["task"].iloc[1] == "北地路（北地街道段）道路维修改造"
    assert set(frame["district"]) == {"210504"}
    assert frame["lead_unit"].iloc[0] == "明山区住房和城乡建设局"
    assert frame["category"].tolist() == ["住房", "交通出行", "医疗卫生", "住房", "就业", "教育"]
    assert frame["status"].tolist() == ["已完成", "已完成", "推进中", "跨年推进", "未启动", "未启动"]
    assert frame["due_date"].tolist() == [
        D(2021, 11, 30),
        D(2021, 10, 31),
        D(2021, 12, 31),
        D(2022, 6, 30),
        None,
        D(2021, 12, 15),
    ]
    assert frame["done_date"].tolist() == [D(2021, 11, 20), D(2021, 11, 5), None, None, None, None]
    assert frame["overdue"].tolist() == [False, False, True, False, False, True]
    assert frame["completed_late"].tolist() == [False, True, False, False, False, False]

    outcome = validate_report(report)
    assert outcome.success and report.findings == []
    assert outcome.evaluated == len(load_suite_json("task_ledger")["expectations"])


def test_period_from_file_name_when_the_title_has_none(tmp_path):
    inbox = tmp_path / "inbox"
    path = write_ledger(
        inbox,
        "平山区",
        PINGSHAN_ROWS,
        header=CANONICAL,
        title="平山区“我为群众办实事”项目台账",
        name="平山区_办实事台账_2021-11.xlsx",
    )
    report = parse_file(path, inbox=inbox)
    assert report.period == "2021-11" and report.findings == []
    # in the November ledger nothing is overdue and the hospital task still counts as completed late
    assert report.frame["overdue"].tolist() == [False, False, False]
    assert report.frame["completed_late"].tolist() == [False, True, False]


def test_derive_month_end_boundaries():
    frame = pd.DataFrame(
        {
            "status": ["推进中", "推进中", "已完成", "已完成", "跨年推进", "已完成", None],
            "due_date": [
                D(2021, 11, 30),
                D(2021, 12, 1),
                D(2021, 11, 30),
                D(2021, 11, 30),
                D(2021, 3, 31),
                None,
                D(2021, 1, 1),
            ],
            "done_date": [None, None, D(2021, 11, 30), D(2021, 12, 1), None, D(2021, 6, 1), None],
        }
    )
    out = derive(frame, "2021-11")
    assert out["overdue"].tolist() == [True, False, False, False, True, False, False]
    assert out["completed_late"].tolist() == [False, False, False, True, False, False, False]
    assert str(out["overdue"].dtype) == "boolean"
    unknown = derive(frame, None)["overdue"]
    assert unknown.isna().all()  # no period: cannot tell (the file is rejected for its missing period anyway)
    no_dates = derive(frame[["status"]], "2021-11")
    assert no_dates["overdue"].tolist() == [False] * 7 and no_dates["completed_late"].tolist() == [False] * 7


# ---------------------------------------------------------------- Great Expectations


def test_suite_failures_point_at_their_cells(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [
        [
            1,
            "站前街道背街小巷环境整治",
            "平山区",
            "站前街道办事处",
            "环境",
            D(2021, 6, 30),
            "已完成",
            D(2021, 6, 1),
        ],  # 3 ok
        [2, "千金街道老旧小区改造", "平山区", "平山区住建局", "住房", D(2021, 9, 30), "已完成", None],  # 4: H4 missing
        [
            3,
            "平山街道公厕新建改造",
            "平山区",
            "平山区城管局",
            "环境",
            D(2021, 10, 31),
            "已完工",
            D(2021, 10, 9),
        ],  # 5: G5, H5
        [
            4,
            "东明街道卫生服务站建设",
            "平山区",
            "平山区卫健局",
            "医疗卫生",
            D(2021, 12, 31),
            "推进中",
            D(2021, 12, 2),
        ],  # 6: H6
        [
            5,
            "崔东街道社区食堂建设",
            "平山区",
            "平山区民政局",
            "民生",
            D(2021, 12, 31),
            "已完成",
            D(2021, 12, 20),
        ],  # 7: E7
        [6, "站前街道背街小巷环境整治", "平山区", "平山区城管局", "环境", D(2021, 8, 31), "推进中", None],  # 8: B3, B8
        [6, "南地街道就业驿站建设", "平山区", "平山区人社局", "就业", None, "未启动", None],  # 9: seq 6 twice: A8, A9
    ]
    report = parse_file(write_ledger(inbox, "平山区", rows, header=CANONICAL), inbox=inbox)
    assert report.findings == []
    outcome = validate_report(report)

    assert not outcome.success
    found = {(f.rule.removeprefix("gx:"), f.cell): f for f in report.findings}
    assert set(found) == {
        ("expect_column_values_to_not_be_null", "H4"),
        ("expect_column_values_to_be_in_set", "G5"),
        ("expect_column_values_to_be_null", "H5"),
        ("expect_column_values_to_be_null", "H6"),
        ("expect_column_values_to_be_in_set", "E7"),
        ("expect_column_values_to_be_unique", "B3"),
        ("expect_column_values_to_be_unique", "B8"),
        ("expect_column_values_to_be_unique", "A8"),
        ("expect_column_values_to_be_unique", "A9"),
    }
    missing = found[("expect_column_values_to_not_be_null", "H4")]
    assert (missing.row, missing.column, missing.value, missing.severity) == (4, "实际完成时间", None, "error")
    assert missing.message_zh == "完成状态为“已完成”时必须填写实际完成时间"
    status = found[("expect_column_values_to_be_in_set", "G5")]
    assert (status.value, status.severity) == ("已完工", "error")
    assert status.message_zh == "完成状态不在规定范围内（已完成、推进中、未启动、跨年推进）"
    assert found[("expect_column_values_to_be_null", "H6")].value == "2021-12-02"
    assert found[("expect_column_values_to_be_null", "H6")].message_zh.startswith("完成状态不是“已完成”时不应填写")
    assert found[("expect_column_values_to_be_in_set", "E7")].value == "民生"
    duplicate = found[("expect_column_values_to_be_unique", "B8")]
    assert (duplicate.severity, duplicate.value) == ("critical", "站前街道背街小巷环境整治")
    assert duplicate.message_zh.startswith("实事名称重复")
    assert found[("expect_column_values_to_be_unique", "A9")].severity == "warning"  # 序号 is only a row number
    assert report.rejected


# ---------------------------------------------------------------- warehouse, both databases


def test_load_and_mart_completion_rates(settings):
    write_ledger(settings.inbox, "明山区", MINGSHAN_ROWS, title=MINGSHAN_TITLE)
    write_ledger(settings.inbox, "平山区", PINGSHAN_ROWS, header=CANONICAL)

    outcomes = ingest(settings)

    assert {name: (o.status, o.report_type, o.period, o.rows) for name, o in outcomes.items()} == {
        "明山区/明山区_办实事台账.xlsx": ("accepted", "task_ledger", "2021-12", 6),
        "平山区/平山区_办实事台账.xlsx": ("accepted", "task_ledger", "2021-12", 3),
    }
    facts = query(
        settings,
        "SELECT task, due_date, done_date, overdue, completed_late FROM fct_task_ledger "
        "WHERE district = '210504' ORDER BY source_row",
    )
    assert [str(r["due_date"]) if r["due_date"] else None for r in facts] == [
        "2021-11-30",
        "2021-10-31",
        "2021-12-31",
        "2022-06-30",
        None,
        "2021-12-15",
    ]
    assert [as_bool(r["overdue"]) for r in facts] == [False, False, True, False, False, True]
    assert [as_bool(r["completed_late"]) for r in facts] == [False, True, False, False, False, False]

    rows = query(settings, "SELECT * FROM mart_task_completion_by_district ORDER BY district_code")
    view = {
        r["district_name"]: (
            r["period"],
            r["district_code"],
            r["tasks"],
            r["completed"],
            as_float(r["completion_rate_pct"]),
            r["in_progress"],
            r["not_started"],
            r["cross_year"],
            r["overdue"],
            r["completed_late"],
        )
        for r in rows
    }
    assert view == {
        "平山区": ("2021-12", "210502", 3, 3, 100.0, 0, 0, 0, 0, 1),
        "明山区": ("2021-12", "210504", 6, 2, 33.33, 1, 2, 1, 2, 1),
        "全市合计": ("2021-12", None, 9, 5, 55.56, 1, 2, 1, 2, 2),
    }


def test_demo_ledgers_reproduce_the_published_completion_rate(settings):
    paths = write_ledger_files(settings.shared_dir)
    for path in paths:
        if "办实事" not in path.name:
            path.unlink()  # the rectification ledgers have their own test

    outcomes = ingest(settings)

    assert len(outcomes) == 7
    assert {o.status for o in outcomes.values()} == {"accepted"}  # accepted = not a single finding
    assert {o.period for o in outcomes.values()} == {"2021-12"}
    rows = query(settings, "SELECT * FROM mart_task_completion_by_district")
    by_name = {r["district_name"]: r for r in rows}
    city = by_name["全市合计"]
    assert (city["tasks"], city["completed"]) == (1735, 1697) == TASK_TOTALS[:2]
    assert as_float(city["completion_rate_pct"]) == 97.81  # 1697 / 1735 = 97.8098…%, published as 97.8%
    assert round(as_float(city["completion_rate_pct"]), 1) == 97.8
    assert (city["in_progress"], city["not_started"], city["cross_year"]) == (6, 2, 30)
    assert (city["overdue"], city["completed_late"]) == (TASK_OVERDUE, 44) == (38, 44)
    assert by_name["市本级"]["district_code"] == "210500"
    for unit, (tasks, completed, in_progress, not_started, cross_year, late) in TASK_COUNTS.items():
        r = by_name[unit]
        assert (
            r["tasks"],
            r["completed"],
            r["in_progress"],
            r["not_started"],
            r["cross_year"],
            r["completed_late"],
        ) == (tasks, completed, in_progress, not_started, cross_year, late), unit
        assert as_float(r["completion_rate_pct"]) == round(100 * completed / tasks, 2), unit


def test_a_rejected_ledger_renamed_as_its_receipt_asks_is_read_again(sqlite_settings):
    """A ledger with no month in its title, sheet or name is sent back: 请在标题、工作表名或文件名中注明. The
    clerk renames the same bytes …2021年12月.xlsx, as asked: the name is read too, so the file is processed
    again — not a duplicate of the rejection. The same bytes under the same name again are one."""
    from warehouse_helpers import ingest

    settings = sqlite_settings
    first = write_ledger(
        settings.inbox, "平山区", PINGSHAN_ROWS, CANONICAL, "平山区“我为群众办实事”项目台账", "平山区台账.xlsx"
    )
    content = first.read_bytes()
    assert ingest(settings)["平山区/平山区台账.xlsx"].status == "rejected"
    (settings.inbox / "平山区" / "平山区台账2021年12月.xlsx").write_bytes(content)
    renamed = ingest(settings)["平山区/平山区台账2021年12月.xlsx"]
    assert renamed.status == "accepted" and renamed.period == "2021-12"
    (settings.inbox / "平山区" / "平山区台账.xlsx").write_bytes(content)
    assert ingest(settings)["平山区/平山区台账.xlsx"].status == "duplicate"
