"""etl/contracts.py and the artefacts generated from it: GX suites (expectations/) and fact tables (warehouse_sql/)."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

from etl.contracts import CONTRACTS, KINDS, Column, header_base, header_key

SERVICE_ITEMS = CONTRACTS["service_items"]
FLOOD_CLEANUP = CONTRACTS["flood_cleanup"]
VOLUNTEER_ACTIVITY = CONTRACTS["volunteer_activity"]

ROOT = REPO
EXPECTATIONS = ROOT / "expectations"
WAREHOUSE_SQL = ROOT / "warehouse_sql"
SEVERITIES = {"critical", "error", "warning"}
CONTRACT_LIST = list(CONTRACTS.values())
IDS = list(CONTRACTS)


# ---------------------------------------------------------------- header folding


@pytest.mark.parametrize(
    "text",
    [
        "清运垃圾（吨）",
        "清运垃圾(吨)",
        "清运 垃圾\n（吨）",
        "清运垃圾吨",
        "清运垃圾 吨",
        " 清运垃圾【吨】 ",
        "清运垃圾[吨]",
        "清运垃圾\u3000（吨）",
    ],
)
def test_header_key_folds_variants(text):
    assert header_key(text) == "清运垃圾吨"


def test_header_key_misc():
    assert header_key(None) == ""
    assert header_key("承诺时限(工作日)") == header_key("承诺时限（工作日）") == "承诺时限工作日"
    assert header_key("备注：") == "备注"


@pytest.mark.parametrize(
    ("text", "base"),
    [
        ("出动人员（人次）", "出动人员"),
        ("出动人员(人次)", "出动人员"),
        ("清运 垃圾\n（吨）", "清运垃圾"),
        ("最多跑动次数", "最多跑动次数"),
        ("街道（乡镇）", "街道"),
    ],
)
def test_header_base_drops_trailing_unit(text, base):
    assert header_base(text) == base


def test_header_base_keeps_unit_written_without_brackets():
    assert header_base("清运垃圾吨") == "清运垃圾吨"


# ---------------------------------------------------------------- header_index


def test_header_index_service_items_aliases():
    index = SERVICE_ITEMS.header_index()
    assert index[header_key("实施主体")] == "department"
    assert index[header_key("实施部门")] == "department"
    assert index[header_key("县区")] == "district"
    assert index[header_key("区县")] == "district"
    assert index[header_key("所属区县")] == "district"
    assert index[header_key("是否进厅")] == "in_service_hall"
    assert index[header_key("是否进驻政务服务中心")] == "in_service_hall"
    assert index[header_key("是否一网通办")] == "online"
    assert index[header_key("承诺时限(工作日)")] == "promised_days"
    assert index[header_base("法定时限")] == "legal_days"  # without its unit


def test_header_index_flood_units():
    index = FLOOD_CLEANUP.header_index()
    assert index[header_key("清运垃圾(吨)")] == "garbage_tons"
    assert index[header_key("清运垃圾 车次")] == "garbage_trips"
    assert index[header_key("出动人员")] == "personnel"  # the base is unambiguous
    assert index[header_key("街道")] == "street"
    assert index[header_key("消杀公厕（座）")] == "disinfected_toilets"
    # 清运垃圾 alone could be tons or trips: not guessed
    assert header_key("清运垃圾") not in index


def test_header_index_volunteer_aliases():
    index = VOLUNTEER_ACTIVITY.header_index()
    assert index[header_key("日期")] == "date"
    assert index[header_key("参与人数")] == "volunteers"
    assert index[header_key("服务队")] == "team"


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_header_index_covers_every_header_and_alias(contract):
    index = contract.header_index()
    for col in contract.columns:
        for text in (col.header, *col.aliases):
            assert index[header_key(text)] == col.name


# ---------------------------------------------------------------- contract shape


def test_registry():
    assert set(CONTRACTS) == {
        "service_items",
        "flood_cleanup",
        "volunteer_activity",
        "task_ledger",
        "rectification_ledger",
        "hotline_tickets",
        "old_compound_renovation",
    }
    assert all(name == c.report_type for name, c in CONTRACTS.items())


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_contract_is_consistent(contract):
    names = contract.column_names
    assert len(names) == len(set(names))
    assert all(col.kind in KINDS for col in contract.columns)
    assert set(contract.key) <= set(names)
    assert contract.period_grain in {"quarter", "month", "day"}
    assert contract.district_column in names
    assert contract.column(contract.district_column).kind == "district"
    if contract.date_column:
        assert contract.column(contract.date_column).kind in ("date", "datetime")
    owners: dict[str, set[str]] = {}
    for col in contract.columns:
        for text in (col.header, *col.aliases):
            owners.setdefault(header_key(text), set()).add(col.name)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}, "a header or alias is claimed by two columns"
    for col in contract.columns:
        if col.blank_is_zero:
            assert col.kind in {"int", "decimal"}


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown kind"):
        Column("x", "某列", "money")


def test_contract_details():
    assert SERVICE_ITEMS.key == ("item_code",) and SERVICE_ITEMS.period_grain == "quarter"
    assert SERVICE_ITEMS.date_column is None
    assert [c.name for c in SERVICE_ITEMS.required_columns] == [
        "item_code",
        "item_name",
        "district",
        "item_type",
        "is_application",
        "in_service_hall",
    ]
    assert FLOOD_CLEANUP.key == ("date", "street") and FLOOD_CLEANUP.period_grain == "day"
    assert [c.name for c in FLOOD_CLEANUP.required_columns] == ["date", "district", "street", "personnel"]
    assert VOLUNTEER_ACTIVITY.key == ("date", "team", "place") and VOLUNTEER_ACTIVITY.period_grain == "month"
    assert FLOOD_CLEANUP.suite_name == "flood_cleanup"


# ---------------------------------------------------------------- Great Expectations suites


def load_suite(contract) -> dict:
    path = EXPECTATIONS / f"{contract.suite_name}.json"
    assert path.exists(), f"missing GX suite {path}"
    return json.loads(path.read_text(encoding="utf-8"))


def expectation_type(e: dict) -> str:
    return e.get("type") or e["expectation_type"]


def referenced_columns(e: dict) -> list[str]:
    kwargs = e["kwargs"]
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return cols + list(kwargs.get("column_list", []))


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_suite_references_only_contract_columns(contract):
    suite = load_suite(contract)
    assert suite["name"] == contract.suite_name
    assert suite["expectations"]
    for e in suite["expectations"]:
        for col in referenced_columns(e):
            assert col in [c.name for c in contract.fact_columns], (
                f"{expectation_type(e)} references unknown column {col}"
            )


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_suite_checks_the_contract_key_is_unique(contract):
    """A repeated key rejects the file (critical): etl.ingest.check.LoadCheck stops writing facts once a key
    repeats, which is right only for a file that will not be loaded."""
    suite = load_suite(contract)
    unique_over = {}
    for e in suite["expectations"]:
        severity = e.get("meta", {}).get("severity", "error")
        if expectation_type(e) == "expect_column_values_to_be_unique":
            unique_over[(e["kwargs"]["column"],)] = severity
        elif expectation_type(e) == "expect_compound_columns_to_be_unique":
            unique_over[tuple(e["kwargs"]["column_list"])] = severity
    assert unique_over.get(tuple(contract.key)) == "critical"


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_suite_requires_every_required_column(contract):
    suite = load_suite(contract)
    exist = {e["kwargs"]["column"] for e in suite["expectations"] if expectation_type(e) == "expect_column_to_exist"}
    assert {c.name for c in contract.required_columns} <= exist


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_suite_severities(contract):
    for e in load_suite(contract)["expectations"]:
        assert e.get("meta", {}).get("severity") in SEVERITIES, e


# ---------------------------------------------------------------- fact tables

_CREATE = re.compile(r"CREATE TABLE(?: IF NOT EXISTS)?\s+(\w+)\s*\((.*)\);", re.S | re.I)
_COLUMN = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s+[A-Z]", re.M)
_NOT_COLUMNS = {"primary", "foreign", "unique", "constraint", "check"}


def fact_columns(contract) -> tuple[str, list[str]]:
    sql = (WAREHOUSE_SQL / f"{contract.fact_table}.sql").read_text(encoding="utf-8")
    sql = re.sub(r"--[^\n]*", "", sql)
    match = _CREATE.search(sql)
    assert match, f"no CREATE TABLE in {contract.fact_table}.sql"
    return match[1], [c for c in _COLUMN.findall(match[2]) if c.lower() not in _NOT_COLUMNS]


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_fact_table_has_every_contract_column(contract):
    table, columns = fact_columns(contract)
    assert table == contract.fact_table
    names = {c.name for c in contract.fact_columns}
    assert names <= set(columns), names - set(columns)
    assert {"load_id", "source_row", "approximate_cols"} <= set(columns)


# ---------------------------------------------------------------- every piece a report type needs
# A report type is its contract, its suite, its fact table and views, its publication, its demo generator and
# its reporting-calendar line. Everything else (lineage, review pack, printout, templates, receipts, the
# stewards' page) is derived from the contract; these tests fail when a contract lacks one of its pieces.


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory):
    """A SQLite warehouse built from warehouse_sql/ (the contracts fill mart_lineage's fact tables)."""
    from etl.warehouse.engine import get_engine
    from etl.warehouse.schema import ensure_schema

    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('contracts') / 'w.sqlite'}")
    ensure_schema(engine)
    return engine


def view_columns(engine, view: str) -> list[str]:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return list(conn.execute(sa.text(f"SELECT * FROM {view} WHERE 1 = 0")).keys())


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_publication_reads_columns_its_view_has(contract, built_warehouse):
    pub = contract.publication
    assert pub is not None, f"{contract.report_type}: no Publication (the review pack and printout need one)"
    assert (WAREHOUSE_SQL / f"{pub.view}.sql").exists(), f"missing warehouse_sql/{pub.view}.sql"
    columns = set(view_columns(built_warehouse, pub.view))
    assert {pub.period_col, "district_code", "district_name"} <= columns
    assert pub.view_columns() <= columns, pub.view_columns() - columns
    assert pub.definitions, "the 指标说明 sheet needs the family's definitions"
    assert all(
        d.view.split(",")[0].strip() == pub.view or (WAREHOUSE_SQL / f"{d.view}.sql").exists() for d in pub.definitions
    )
    assert pub.printout and pub.headline


def test_publications_have_distinct_sheets_and_order():
    pubs = [c.publication for c in CONTRACT_LIST]
    assert len({p.sheet for p in pubs}) == len(pubs)
    assert len({p.order for p in pubs}) == len(pubs)
    assert len({p.view for p in pubs}) == len(pubs)


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_lineage_counts_rows_of_every_fact_table(contract, built_warehouse):
    """mart_lineage reads fct_load_summary, which every load of every report type writes from its own fact
    table (etl.warehouse.summaries)."""
    import sqlalchemy as sa

    from etl.warehouse.summaries import load_summary_statement

    with built_warehouse.connect() as conn:
        sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'mart_lineage'")).scalar()
    assert re.search(r"\bJOIN fct_load_summary\b", sql)
    assert re.search(rf"\bFROM {contract.fact_table}\b", load_summary_statement(contract.report_type))


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_reporting_calendar_expects_every_type(contract):
    from etl.reference.calendar import default_expected_reports

    assert any(e.report_type == contract.report_type for e in default_expected_reports()), (
        f"etl/reference/calendar.yaml has no line for {contract.report_type}"
    )


@pytest.mark.parametrize("contract", CONTRACT_LIST, ids=IDS)
def test_review_pack_and_printout_show_every_type(contract):
    from etl.publish.review_pack import DEFINITIONS, FAMILY_BY_KEY

    assert FAMILY_BY_KEY[contract.report_type].publication is contract.publication
    assert set(contract.publication.definitions) <= set(DEFINITIONS)


def test_a_fact_table_name_that_is_not_an_identifier_is_refused():
    from dataclasses import replace

    with pytest.raises(ValueError, match="fact table"):
        replace(FLOOD_CLEANUP, fact_table="fct_x; DROP TABLE stg_file_load")
