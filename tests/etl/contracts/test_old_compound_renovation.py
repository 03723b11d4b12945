"""老旧小区改造项目台账 end to end — the seventh report type, which took only its contract, suite, SQL, demo
generator and calendar line: generated ledgers (any number of compounds, 改造内容 with any separator, streets
with and without their suffix, a fill-in date in the next month) loaded on SQLite and PostgreSQL, the views'
figures against an independent computation, the rules that reject a ledger, and the seed figures of DOMAIN.md
(明山区 2022: 13 compounds, 85 buildings, 5,113 households, 7,874.97 万元, 166 video points, 334 doors) from
the demo ledger through the views, lineage and the review pack."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from warehouse_helpers import ingest, query
from workbooks import write_xlsx

from etl.contracts.old_compound_renovation import canonical_scopes

HEADER = [
    "序号",
    "项目名称",
    "区县",
    "街道",
    "改造楼栋数（栋）",
    "受益户数（户）",
    "改造内容",
    "总投资（万元）",
    "开工日期",
    "计划完工时间",
    "工程状态",
    "视频监控点位（个）",
    "门禁（个）",
]
ALIAS_HEADER = [
    "序号",
    "小区名称",
    "所属区县",
    "所属街道",
    "楼栋数",
    "户数",
    "改造类型",
    "项目总投资",
    "开工时间",
    "计划竣工时间",
    "项目状态",
    "监控点位",
    "门禁系统",
]
STREETS = {"明山街道": "明山", "北地街道": "北地", "高峪街道": "高峪", "新明街道": "新明"}
KINDS = ("楼本体改造", "基础配套设施改造", "燃气管网改造")
STATUSES = ("未开工", "在建", "已完工")
VIEW = "mart_old_compound_renovation_by_district"

compound = st.fixed_dictionaries(
    {
        "street": st.sampled_from(sorted(STREETS)),
        "short_street": st.booleans(),
        "buildings": st.integers(1, 30),
        "extra_households": st.integers(0, 900),
        "kinds": st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True),
        "separator": st.sampled_from(["、", "，", ",", "；", " 、 "]),
        "fen": st.integers(0, 99_999_999),  # investment in 0.01 万元
        "status": st.sampled_from(STATUSES),
        "cameras": st.integers(0, 40),
        "doors": st.integers(0, 80),
        "due_days": st.integers(30, 700),
    }
)


def ledger_rows(compounds: list[dict], header: list[str] = HEADER) -> list[list[object]]:
    rows = [
        ["填报单位：明山区住房和城乡建设局", None, None, None, None, None, None, None, "填报日期：2023年1月4日"],
        header,
    ]
    for i, c in enumerate(compounds, start=1):
        start = dt.date(2022, 4, 1)
        rows.append(
            [
                i,
                c.get("name", f"明山区第{i}号老旧小区"),
                "明山",
                STREETS[c["street"]] if c["short_street"] else c["street"],
                c["buildings"],
                c["buildings"] + c["extra_households"],
                c["separator"].join(c["kinds"]),
                float(Decimal(c["fen"]) / 100),
                start if c["status"] != "未开工" else None,
                start + dt.timedelta(days=c["due_days"]),
                c["status"],
                c["cameras"],
                c["doors"],
            ]
        )
    rows.append(
        [
            "合计",
            None,
            None,
            None,
            sum(c["buildings"] for c in compounds),
            sum(c["buildings"] + c["extra_households"] for c in compounds),
        ]
    )
    rows.append(["填报人：", None, None, "审核人：", None, None, "联系电话："])
    return rows


def write_ledger(inbox, compounds, header=HEADER, name="明山区_老旧小区改造项目台账.xlsx"):
    return write_xlsx(
        inbox / "明山区" / name, ledger_rows(compounds, header), title="明山区老旧小区改造项目台账（2022年12月）"
    )


def expected_figures(compounds: list[dict]) -> dict:
    period_end = dt.date(2022, 12, 31)
    completed = sum(c["status"] == "已完工" for c in compounds)
    return {
        "projects": len(compounds),
        "streets": len({c["street"] for c in compounds}),
        "buildings": sum(c["buildings"] for c in compounds),
        "households": sum(c["buildings"] + c["extra_households"] for c in compounds),
        "investment_10k_yuan": Decimal(sum(c["fen"] for c in compounds)) / 100,
        "completed": completed,
        "completed_share_pct": round(Decimal(100 * completed) / len(compounds), 2),
        "overdue": sum(
            c["status"] != "已完工" and dt.date(2022, 4, 1) + dt.timedelta(days=c["due_days"]) <= period_end
            for c in compounds
        ),
        "cameras": sum(c["cameras"] for c in compounds),
        "access_doors": sum(c["doors"] for c in compounds),
        **{
            f"scope_{k}": sum(kind in c["kinds"] for c in compounds)
            for k, kind in (("building", KINDS[0]), ("facilities", KINDS[1]), ("gas", KINDS[2]))
        },
    }


def view_row(settings, district_code: str | None) -> dict:
    where = "district_code IS NULL" if district_code is None else "district_code = :d"
    rows = query(settings, f"SELECT * FROM {VIEW} WHERE period = '2022-12' AND {where}", d=district_code)
    assert len(rows) == 1, rows
    return rows[0]


def assert_figures(row: dict, expected: dict) -> None:
    for key, value in expected.items():
        got = row[key]
        if isinstance(value, Decimal):
            assert Decimal(str(got)).quantize(Decimal("0.01")) == value.quantize(Decimal("0.01")), key
        else:
            assert got == value, (key, got, value)


@given(compounds=st.lists(compound, min_size=1, max_size=14), aliases=st.booleans())
def test_generated_ledgers_load_and_the_views_add_up(make_settings, compounds, aliases):
    settings = make_settings()
    write_ledger(settings.inbox, compounds, ALIAS_HEADER if aliases else HEADER)
    (outcome,) = ingest(settings).values()
    assert outcome.status in ("accepted", "flagged"), outcome.reason_zh
    assert outcome.rows == len(compounds)
    assert outcome.period == "2022-12"  # the title's month, not the 填报日期 of January
    expected = expected_figures(compounds)
    assert_figures(view_row(settings, "210504"), expected)
    assert_figures(view_row(settings, None), expected)
    facts = query(settings, "SELECT source_row, street, scope FROM fct_old_compound_renovation ORDER BY source_row")
    assert [f["street"] for f in facts] == [c["street"] for c in compounds]  # 北地 is stored as 北地街道
    assert [f["scope"] for f in facts] == ["、".join(c["kinds"]) for c in compounds]
    assert [f["source_row"] for f in facts] == list(range(4, 4 + len(compounds)))  # title, fill-in line, header
    streets = query(settings, "SELECT street, projects FROM mart_old_compound_renovation_by_street ORDER BY street")
    assert {s["street"]: s["projects"] for s in streets} == {
        s: sum(c["street"] == s for c in compounds) for s in {c["street"] for c in compounds}
    }
    lineage = query(settings, "SELECT report_type, fact_rows, first_row, last_row FROM mart_lineage")
    assert lineage == [
        {
            "report_type": "old_compound_renovation",
            "fact_rows": len(compounds),
            "first_row": 4,
            "last_row": 3 + len(compounds),
        }
    ]


GOOD = {
    "street": "北地街道",
    "short_street": False,
    "buildings": 5,
    "extra_households": 300,
    "kinds": list(KINDS[:2]),
    "separator": "、",
    "fen": 42025,
    "status": "在建",
    "cameras": 10,
    "doors": 30,
    "due_days": 500,
}


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"kinds": ["外墙保温"]}, "改造内容", "改造内容只能是"),
        ({"status": "施工中"}, "工程状态", "工程状态不在规定范围内"),
        ({"buildings": 0}, "改造楼栋数（栋）", "改造楼栋数应为"),
        ({"due_days": -30}, "开工日期", "计划完工时间早于开工日期"),
    ],
)
def test_a_broken_cell_rejects_the_ledger_and_names_the_cell(settings, change, column, message):
    compounds = [dict(GOOD), {**GOOD, **change}]
    write_ledger(settings.inbox, compounds)
    (outcome,) = ingest(settings).values()
    assert outcome.status == "rejected"
    findings = query(
        settings, "SELECT severity, row_number, column_header, message_zh FROM stg_finding WHERE severity <> 'warning'"
    )
    assert [(f["row_number"], f["column_header"]) for f in findings] == [(5, column)]
    assert message in findings[0]["message_zh"]
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_old_compound_renovation") == [{"n": 0}]


def test_a_compound_listed_twice_is_critical(sqlite_settings):
    write_ledger(sqlite_settings.inbox, [{**GOOD, "name": "北地小区"}, {**GOOD, "name": " 北地小区"}])
    (outcome,) = ingest(sqlite_settings).values()
    assert outcome.status == "rejected"
    assert "重复" in outcome.reason_zh


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("楼本体改造，燃气管网改造", "楼本体改造、燃气管网改造"),
        (" 楼本体改造 、基础配套设施改造；燃气管网改造 ", "楼本体改造、基础配套设施改造、燃气管网改造"),
        ("燃气管网改造", "燃气管网改造"),
        ("、", None),
        (None, None),
    ],
)
def test_canonical_scope(raw, canonical):
    assert canonical_scopes(pd.Series([raw], dtype=object)).tolist() == [canonical]


def test_the_demo_ledger_gives_the_seed_figures_through_the_views(settings):
    """DOMAIN.md: 明山区 2022 — 13 compounds in 明山, 北地 and 高峪 streets, 85 buildings, 5,113 households,
    7,874.97 万元, 166 video points and 334 access-controlled doors; completion planned by the end of 2023."""
    from demo import GENERATORS

    paths = GENERATORS["old_compound_renovation"].write(settings.shared_dir)
    assert len(paths) == 1
    (outcome,) = ingest(settings).values()
    assert outcome.status in ("accepted", "flagged"), outcome.reason_zh
    row = view_row(settings, "210504")
    assert (row["projects"], row["buildings"], row["households"], row["cameras"], row["access_doors"]) == (
        13,
        85,
        5113,
        166,
        334,
    )
    assert Decimal(str(row["investment_10k_yuan"])).quantize(Decimal("0.01")) == Decimal("7874.97")
    streets = query(settings, "SELECT street FROM mart_old_compound_renovation_by_street ORDER BY street")
    assert {s["street"] for s in streets} == {"明山街道", "北地街道", "高峪街道"}
    latest_due = query(settings, "SELECT MAX(due_date) AS d FROM fct_old_compound_renovation")[0]["d"]
    assert str(latest_due)[:10] <= "2023-12-31"


@given(data=st.data())
def test_an_investment_written_in_yuan_is_flagged_on_its_cell(make_settings, data):
    """项目总投资 names no unit and a clerk writes 元 (850000 for 85 万元): read in the contract's 万元 — and
    under the 1,000,000 万元 bound — it is more than 50 万元 a household, which no renovation costs, so the
    cell gets a warning to check the unit; the same money written in 万元 gets none."""
    households = data.draw(st.integers(1, 200))
    yuan = households * data.draw(st.integers(5_000, min(400_000, 1_000_000 // households)))  # 0.5–40 万元 each
    settings = make_settings()
    base = {"street": "北地街道", "short_street": False, "kinds": ["楼本体改造"], "separator": "、"}
    base |= {"status": "在建", "cameras": 0, "doors": 0, "due_days": 100, "buildings": 1}
    wrong = base | {"extra_households": households - 1, "fen": yuan * 100, "name": "元写成万元"}  # the cell: yuan
    right = base | {"extra_households": households - 1, "fen": yuan // 100, "name": "按万元填写"}  # the cell: 万元
    write_ledger(settings.inbox, [wrong, right], ALIAS_HEADER)
    (outcome,) = ingest(settings).values()
    assert outcome.status == "flagged", outcome.reason_zh
    found = query(settings, "SELECT cell_ref FROM stg_finding WHERE rule = 'investment_per_household'")
    assert [f["cell_ref"] for f in found] == ["H4"]
