"""12345 hotline tickets end to end: parsing with derived indicators (2-hour reply, 3-working-day closure),
the GX suite, loading on SQLite and PostgreSQL, and the mart_hotline_by_district view."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from warehouse_helpers import ingest, query
from workbooks import write_xlsx

from demo.hotline_tickets import EXPORT_AT, HOTLINE_DISTRICTS, hotline_tickets, write_hotline_files
from etl.contracts import CONTRACTS
from etl.ingest.parse.tables import parse_file
from etl.ingest.validate.suite import load_suite_json, validate_report
from etl.reference.workdays import closure_deadline

D = dt.datetime
HEADER = ["工单编号", "受理时间", "区县", "街道", "诉求类别", "首次答复时间", "办结时间", "满意度"]
TITLE = "明山区12345便民服务热线工单（2021年9月）"
# Data start on row 3 (title row 1, header row 2).
MINGSHAN_ROWS = [
    # row 3: Monday 10:00, reply 80 min, closed Thursday 16:30 (deadline Thursday 24:00)
    [
        "MS2109130001",
        D(2021, 9, 13, 10, 0),
        "明山区",
        "明山街道",
        "城市管理",
        D(2021, 9, 13, 11, 20),
        D(2021, 9, 16, 16, 30),
        "满意",
    ],
    # row 4: Saturday, reply exactly 2 h, closed Thursday 09:40 (deadline Wednesday 24:00)
    [
        "MS2109110002",
        D(2021, 9, 11, 15, 20),
        "明山",
        "北地街道",
        "物业管理",
        D(2021, 9, 11, 17, 20),
        D(2021, 9, 16, 9, 40),
        "基本满意",
    ],
    # row 5: Friday 09-24, reply 2 h 1 min, closed 09-28 20:00 (Sunday 09-26 worked → deadline 09-28 24:00)
    [
        "MS2109240003",
        D(2021, 9, 24, 9, 30),
        "明山区",
        "高峪街道",
        "市政设施",
        D(2021, 9, 24, 11, 31),
        D(2021, 9, 28, 20, 0),
        "不满意",
    ],
    # row 6: Friday 09-24, reply 30 min, closed 09-29 09:00 → late
    [
        "MS2109240004",
        D(2021, 9, 24, 14, 10),
        "明山区",
        "新明街道",
        "供热供暖",
        D(2021, 9, 24, 14, 40),
        D(2021, 9, 29, 9, 0),
        "未评价",
    ],
    # row 7: last evening of the month, no reply, not closed; deadline crosses National Day → 10-11 24:00
    ["MS2109300005", D(2021, 9, 30, 22, 15), "明山区", "牛心台街道", "其他", None, None, None],
    # row 8: times written as text; Friday 09-17 before Mid-Autumn (Saturday 09-18 worked) → 09-23 24:00
    [
        "MS2109170006",
        "2021-09-17 08:00",
        "明山区",
        "高台子街道",
        "交通出行",
        "2021/9/17 9:00",
        "2021年9月23日 18时00分",
        "满意",
    ],
]
# (reply_minutes, replied_within_2h, closure_deadline, closed_within_3wd) per row above
EXPECTED_DERIVED = [
    (80.0, True, D(2021, 9, 17), True),
    (120.0, True, D(2021, 9, 16), False),
    (121.0, False, D(2021, 9, 29), True),
    (30.0, True, D(2021, 9, 29), False),
    (None, None, D(2021, 10, 12), False),
    (60.0, True, D(2021, 9, 24), True),
]
NANFEN_CSV = (
    "工单编号,受理时间,区县,街道,诉求类别,首次答复时间,办结时间,满意度\r\n"
    "NF2109060001,2021-09-06 09:00:00,南芬区,南芬街道,供热供暖,2021-09-06 09:45:00,2021-09-07 15:00:00,满意\r\n"
    "NF2109290002,2021-09-29 16:00:00,南芬区,铁山街道,城市管理,2021-09-29 19:00:00,,\r\n"
)


def write_mingshan(inbox, rows=MINGSHAN_ROWS):
    return write_xlsx(inbox / "明山区" / "明山区_12345热线工单_2021-09.xlsx", [HEADER, *rows], title=TITLE)


def as_float(value):
    return None if value is None else float(value)


# ---------------------------------------------------------------- parsing and derived columns


def test_parse_derives_reply_and_closure_indicators(tmp_path):
    inbox = tmp_path / "inbox"
    report = parse_file(write_mingshan(inbox), inbox=inbox)
    assert report.findings == []
    assert (report.report_type, report.period, report.district.code) == ("hotline_tickets", "2021-09", "210504")
    frame = report.frame
    assert frame["_source_row"].tolist() == [3, 4, 5, 6, 7, 8]
    assert frame["district"].tolist() == ["210504"] * 6
    assert frame["received_at"].iloc[5] == D(2021, 9, 17, 8, 0)
    assert frame["first_reply_at"].iloc[5] == D(2021, 9, 17, 9, 0)
    assert frame["closed_at"].iloc[5] == D(2021, 9, 23, 18, 0)
    assert frame["first_reply_at"].iloc[4] is None and pd.isna(frame["satisfaction"].iloc[4])
    derived = [
        (None if pd.isna(m) else m, None if pd.isna(r) else bool(r), d, None if pd.isna(c) else bool(c))
        for m, r, d, c in zip(
            frame["reply_minutes"],
            frame["replied_within_2h"],
            frame["closure_deadline"],
            frame["closed_within_3wd"],
            strict=True,
        )
    ]
    assert derived == EXPECTED_DERIVED
    assert all(type(d) is dt.datetime for d in frame["closure_deadline"])  # plain datetimes, as the loader wants
    assert validate_report(report).success and report.findings == []


def test_platform_header_aliases_are_recognised(tmp_path):
    inbox = tmp_path / "inbox"
    header = ["工单号", "来电时间", "所属区县", "街道（乡镇）", "诉求分类", "答复时间", "办结日期", "回访满意度"]
    path = write_xlsx(
        inbox / "平山区" / "12345工单导出.xlsx",
        [
            header,
            [
                "PS1",
                D(2021, 9, 1, 8, 0),
                "平山区",
                "千金街道",
                "其他",
                D(2021, 9, 1, 8, 5),
                D(2021, 9, 2, 8, 0),
                "满意",
            ],
        ],
    )
    report = parse_file(path, inbox=inbox)
    assert report.findings == [] and report.report_type == "hotline_tickets"
    assert set(report.header_cells) == set(CONTRACTS["hotline_tickets"].column_names)


# ---------------------------------------------------------------- Great Expectations suite


def test_suite_failures_point_at_the_cells(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [
        MINGSHAN_ROWS[0],  # row 3 ok
        ["MS2", D(2021, 9, 24, 10, 0), "明山区", "明山街道", "供热供暖", D(2021, 9, 24, 9, 0), None, None],  # row 4
        [
            "MS3",
            D(2021, 9, 14, 9, 0),
            "明山区",
            "明山街道",
            "供热供暖",
            D(2021, 9, 14, 9, 30),
            D(2021, 9, 15, 9, 0),
            "很好",
        ],  # row 5
        [
            "MS3",
            D(2021, 9, 15, 9, 0),
            "明山区",
            "明山街道",
            "城市管理",
            D(2021, 9, 15, 9, 10),
            D(2021, 9, 14, 9, 0),
            "满意",
        ],  # row 6
        ["MS5", D(2031, 9, 15, 9, 0), "明山区", "明山街道", "城市管理", None, None, None],  # row 7
    ]
    report = parse_file(write_mingshan(inbox, rows), inbox=inbox)
    assert report.findings == []
    outcome = validate_report(report)
    assert not outcome.success
    got = sorted((f.cell, f.rule.removeprefix("gx:"), f.severity, f.value) for f in report.findings)
    assert got == [
        ("A5", "expect_column_values_to_be_unique", "critical", "MS3"),
        ("A6", "expect_column_values_to_be_unique", "critical", "MS3"),
        # a receipt the working-day calendar does not cover: loaded, its deadline pending (期限待定)
        ("B7", "deadline_pending", "warning", "2031-09-15 09:00:00"),
        # reply before receipt: meta.finding_column puts the finding on the reply's cell
        ("F4", "expect_column_pair_values_a_to_be_greater_than_b", "error", "2021-09-24 09:00:00"),
        # closed before receipt: on the 办结时间 cell
        ("G6", "expect_column_pair_values_a_to_be_greater_than_b", "error", "2021-09-14 09:00:00"),
        ("H5", "expect_column_values_to_be_in_set", "error", "很好"),
    ]
    messages = {f.cell: f.message_zh for f in report.findings}
    assert messages["F4"] == "首次答复时间早于受理时间，请核对受理时间和首次答复时间"
    assert messages["G6"] == "办结时间早于受理时间，请核对受理时间和办结时间"
    assert messages["B7"].startswith("办结期限待定")
    assert messages["H5"] == "满意度只能填写“满意”“基本满意”“不满意”或“未评价”（尚未回访可留空）"
    assert all(
        f.column == {"A": "工单编号", "B": "受理时间", "F": "首次答复时间", "G": "办结时间", "H": "满意度"}[f.cell[0]]
        for f in report.findings
    )
    assert report.rejected
    assert outcome.evaluated == len(load_suite_json("hotline_tickets")["expectations"])


def test_missing_required_values_are_errors(tmp_path):
    inbox = tmp_path / "inbox"
    rows = [MINGSHAN_ROWS[0], [None, D(2021, 9, 14, 9, 0), "明山区", "明山街道", None, None, None, None]]
    report = parse_file(write_mingshan(inbox, rows), inbox=inbox)
    validate_report(report)
    got = sorted((f.cell, f.rule, f.severity) for f in report.findings)
    assert got == [
        ("A4", "gx:expect_column_values_to_not_be_null", "error"),
        ("E4", "gx:expect_column_values_to_not_be_null", "error"),
    ]


# ---------------------------------------------------------------- warehouse and mart


def test_load_and_mart_rates(settings):
    write_mingshan(settings.inbox)
    csv_path = settings.inbox / "南芬区" / "南芬区_12345热线工单_2021-09.csv"
    csv_path.parent.mkdir(parents=True)
    csv_path.write_bytes(NANFEN_CSV.encode("utf-8-sig"))

    outcomes = ingest(settings)

    assert {name: (o.status, o.rows, o.period) for name, o in outcomes.items()} == {
        "明山区/明山区_12345热线工单_2021-09.xlsx": ("accepted", 6, "2021-09"),
        "南芬区/南芬区_12345热线工单_2021-09.csv": ("accepted", 2, "2021-09"),
    }
    facts = query(
        settings,
        "SELECT ticket_id, reply_minutes, replied_within_2h, closure_deadline, closed_within_3wd "
        "FROM fct_hotline_ticket WHERE district = '210504' ORDER BY source_row",
    )
    loaded = [
        (
            as_float(r["reply_minutes"]),
            None if r["replied_within_2h"] is None else bool(r["replied_within_2h"]),
            str(r["closure_deadline"])[:19],
            bool(r["closed_within_3wd"]),
        )
        for r in facts
    ]
    assert loaded == [(m, r, f"{d:%Y-%m-%d %H:%M:%S}", c) for m, r, d, c in EXPECTED_DERIVED]

    view = query(settings, "SELECT * FROM mart_hotline_by_district ORDER BY district_code")
    rows = {r["district_name"]: r for r in view}
    assert set(rows) == {"明山区", "南芬区", "全市合计"}
    plain = {
        name: {k: (as_float(v) if isinstance(v, (Decimal, float)) else v) for k, v in r.items()}
        for name, r in rows.items()
    }
    assert plain["明山区"] == {
        "period": "2021-09",
        "district_code": "210504",
        "district_name": "明山区",
        "tickets": 6,
        "replied_within_2h": 4,
        "reply_rate_pct": 66.67,
        "closed": 5,
        "closed_within_3wd": 3,
        "deadline_pending": 0,
        "provisional": 0,
        "closure_rate_pct": 50.0,
        "rated": 4,
        "satisfied": 3,
        "satisfaction_rate_pct": 75.0,
        "approved": 0,  # awaiting a steward (published here under PUBLISH_UNAPPROVED)
    }
    assert plain["南芬区"] == {
        "period": "2021-09",
        "district_code": "210505",
        "district_name": "南芬区",
        "tickets": 2,
        "replied_within_2h": 1,
        "reply_rate_pct": 50.0,
        "closed": 1,
        "closed_within_3wd": 1,
        "deadline_pending": 0,
        "provisional": 0,
        "closure_rate_pct": 50.0,
        "rated": 1,
        "satisfied": 1,
        "satisfaction_rate_pct": 100.0,
        "approved": 0,
    }
    assert plain["全市合计"] == {
        "period": "2021-09",
        "district_code": None,
        "district_name": "全市合计",
        "tickets": 8,
        "replied_within_2h": 5,
        "reply_rate_pct": 62.5,
        "closed": 6,
        "closed_within_3wd": 4,
        "deadline_pending": 0,
        "provisional": 0,
        "closure_rate_pct": 50.0,
        "rated": 5,
        "satisfied": 4,
        "satisfaction_rate_pct": 80.0,
        "approved": 0,
    }


def expected_from_generator() -> dict[str, int]:
    """The city row recomputed from the generator's own rows with the scalar rules."""
    totals = dict.fromkeys(("tickets", "replied_within_2h", "closed", "closed_within_3wd", "rated", "satisfied"), 0)
    for district in HOTLINE_DISTRICTS:
        for t in hotline_tickets(district):
            received, reply, closed = t["received_at"], t["first_reply_at"], t["closed_at"]
            totals["tickets"] += 1
            totals["replied_within_2h"] += reply is not None and reply - received <= dt.timedelta(hours=2)
            totals["closed"] += closed is not None
            totals["closed_within_3wd"] += closed is not None and closed <= closure_deadline(received)
            totals["rated"] += t["satisfaction"] not in (None, "未评价")
            totals["satisfied"] += t["satisfaction"] in ("满意", "基本满意")
    return totals


def test_demo_generator_is_deterministic_and_pins_the_domain_examples(tmp_path):
    first = write_hotline_files(tmp_path / "a")
    second = write_hotline_files(tmp_path / "b")
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    assert [p.relative_to(tmp_path / "a" / "inbox").as_posix() for p in first] == [
        "明山区/明山区_12345热线工单_2021-09.xlsx",
        "平山区/平山区_12345热线工单_2021-09.xlsx",
        "溪湖区/溪湖区_12345热线工单_2021-09.xlsx",
        "南芬区/南芬区_12345热线工单_2021-09.csv",
    ]
    assert first[-1].read_bytes().startswith(b"\xef\xbb\xbf")
    mingshan = {t["received_at"]: t for t in hotline_tickets("明山区")}
    assert mingshan[D(2021, 9, 24, 9, 30)]["closed_at"] == D(2021, 9, 28, 20, 0)  # in time
    assert mingshan[D(2021, 9, 24, 14, 10)]["closed_at"] == D(2021, 9, 29, 9, 0)  # late
    for district in HOTLINE_DISTRICTS:
        tickets = hotline_tickets(district)
        assert all(D(2021, 9, 1) <= t["received_at"] < D(2021, 10, 1) for t in tickets)
        assert all(t["first_reply_at"] is None or t["received_at"] <= t["first_reply_at"] <= EXPORT_AT for t in tickets)
        assert all(t["closed_at"] is None or t["received_at"] <= t["closed_at"] <= EXPORT_AT for t in tickets)
        assert any(t["closed_at"] is None for t in tickets)
    assert expected_from_generator() == {
        "tickets": 186,
        "replied_within_2h": 142,
        "closed": 178,
        "closed_within_3wd": 142,
        "rated": 149,
        "satisfied": 140,
    }


def test_demo_files_load_and_the_city_row_matches_the_generator(settings):
    write_hotline_files(settings.shared_dir)

    outcomes = ingest(settings)

    assert len(outcomes) == 4
    assert {o.status for o in outcomes.values()} == {"accepted"}
    assert {o.period for o in outcomes.values()} == {"2021-09"}
    city = query(settings, "SELECT * FROM mart_hotline_by_district WHERE district_code IS NULL")
    assert len(city) == 1
    expected = expected_from_generator()
    assert {k: int(city[0][k]) for k in expected} == expected
    pct = lambda a, b: round(100 * a / b, 2)  # noqa: E731
    assert as_float(city[0]["reply_rate_pct"]) == pct(expected["replied_within_2h"], expected["tickets"]) == 76.34
    assert as_float(city[0]["closure_rate_pct"]) == pct(expected["closed_within_3wd"], expected["tickets"]) == 76.34
    assert as_float(city[0]["satisfaction_rate_pct"]) == pct(expected["satisfied"], expected["rated"]) == 93.96
    districts = query(
        settings,
        "SELECT district_name, tickets FROM mart_hotline_by_district "
        "WHERE district_code IS NOT NULL ORDER BY district_code",
    )
    assert [(r["district_name"], int(r["tickets"])) for r in districts] == [
        ("平山区", 52),
        ("溪湖区", 44),
        ("明山区", 64),
        ("南芬区", 26),
    ]


@pytest.mark.parametrize("header", ["受理日期", "受理时间"])
@pytest.mark.parametrize("as_text", [True, False])
def test_a_receipt_column_of_dates_alone_is_critical_not_midnight(tmp_path, header, as_text):
    """A 受理日期 column (dates without a time of day) read as midnight made every ticket replied after
    9:30 late: the 2-hour rule cannot be judged from dates, so the file is sent back with the reason."""
    inbox = tmp_path / "inbox"
    day = (lambda d: d.isoformat()) if as_text else (lambda d: d)
    rows = [
        [f"MS2109{i:04d}", day(dt.date(2021, 9, 24 + i % 3)), "明山区", "北地街道", "城市管理", "2021-09-24 09:30",
         "2021-09-25 10:00", "满意"]
        for i in range(3)
    ]  # fmt: skip
    header_row = ["工单编号", header, "区县", "街道", "诉求类别", "首次答复时间", "办结时间", "满意度"]
    path = write_xlsx(
        inbox / "明山区" / "明山区12345工单2021-09.xlsx", [header_row, *rows], title="12345工单（2021年9月）"
    )
    report = parse_file(path, inbox=inbox)
    assert [(f.rule, f.severity) for f in report.findings] == [("no_time_of_day", "critical")]
    assert f"「{header}」列只有日期" in report.findings[0].message_zh

    rows[0][1] = "2021-09-24 00:00" if as_text else dt.datetime(2021, 9, 24)  # midnight, with times beside it
    rows[1][1] = "2021-09-24 08:15" if as_text else dt.datetime(2021, 9, 24, 8, 15)
    path.unlink()
    report = parse_file(write_xlsx(path, [header_row, *rows], title="12345工单（2021年9月）"), inbox=inbox)
    assert report.findings == []
