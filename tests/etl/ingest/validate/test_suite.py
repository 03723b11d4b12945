"""Great Expectations suites executed on parsed files: every failing cell becomes a finding with the
Excel row and column the clerk sees."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from workbooks import SERVICE_HEADER, service_item, write_xlsx

from etl.contracts import CONTRACTS
from etl.ingest.parse.tables import APPROXIMATE, SOURCE_ROW, parse_file
from etl.ingest.validate.suite import load_suite_json, run_suite, validate_report
from etl.reference.places import default_places


def parse_service_rows(tmp_path, rows):
    inbox = tmp_path / "inbox"
    path = write_xlsx(
        inbox / "明山区" / "明山区_政务服务事项清单_2021Q4.xlsx",
        [SERVICE_HEADER, *rows],
        title="明山区政务服务事项清单",
    )
    return parse_file(path, inbox=inbox)


def findings_by_rule(report):
    return {(f.rule, f.cell): f for f in report.findings}


def test_clean_register_passes_every_expectation(tmp_path):
    report = parse_service_rows(tmp_path, [service_item(f"11210504{i:08d}") for i in range(5)])
    outcome = validate_report(report)
    assert outcome.success and outcome.failed == []
    assert report.findings == []
    assert outcome.evaluated == len(load_suite_json("service_items")["expectations"])


def test_each_broken_rule_points_at_its_cell(tmp_path):
    rows = [
        service_item("112105040001"),  # row 3 ok
        service_item("112105040002", promised=30, legal=20),  # row 4 promised > legal → K4
        service_item("112105040003", visits=7),  # row 5 max_visits 7 → L5
        service_item("112105040004", item_type="行政审查"),  # row 6 unknown type → E6
        service_item("112105040005", in_hall="否", reason=None),  # row 7 no reason → H7
        service_item("112105040005"),  # row 8 duplicate code → A7, A8
        service_item("112105040007", is_application="否", in_hall="否"),  # row 9 ok: reason only for 依申请
    ]
    report = parse_service_rows(tmp_path, rows)
    outcome = validate_report(report)
    assert not outcome.success
    found = findings_by_rule(report)
    pair = found[("gx:expect_column_pair_values_a_to_be_greater_than_b", "K4")]
    assert (pair.row, pair.column, pair.value, pair.severity) == (4, "承诺时限（工作日）", "30", "error")
    assert pair.message_zh == "承诺时限不能超过法定时限"
    assert found[("gx:expect_column_values_to_be_between", "L5")].value == "7"
    assert found[("gx:expect_column_values_to_be_in_set", "E6")].value == "行政审查"
    assert found[("gx:expect_column_values_to_not_be_null", "H7")].message_zh.startswith("依申请事项未进驻")
    dup_cells = {f.cell for f in report.findings if f.rule == "gx:expect_column_values_to_be_unique"}
    assert dup_cells == {"A7", "A8"}
    assert all(f.severity == "critical" for f in report.findings if f.rule == "gx:expect_column_values_to_be_unique")
    assert len(report.findings) == 6
    assert report.rejected


def test_every_failing_row_is_counted_even_thousands_and_the_first_are_listed(tmp_path):
    """Findings are listed up to Limits.max_findings_per_rule per rule (1,000), the rest counted: the
    counts, the status and the quarantine still see every row."""
    rows = [service_item(f"11210504{i:08d}", visits=9) for i in range(2500)]
    report = parse_service_rows(tmp_path, rows)
    validate_report(report)
    cells = [f.cell for f in report.findings if f.rule == "gx:expect_column_values_to_be_between"]
    assert len(cells) == 1000
    assert cells[0] == "L3" and cells[-1] == "L1002"
    assert report.findings.counts()["error"] == 2500 and len(report.findings.error_rows()) == 2500
    assert "另有 1500 处同类问题" in report.findings.listed()[-1].message_zh


@pytest.mark.parametrize("district", ["沈阳市", "明山区 北地"])
def test_unknown_district_is_reported_once_per_cell(tmp_path, district):
    report = parse_service_rows(tmp_path, [service_item("112105040001", district=district)])
    validate_report(report)
    on_cell = [f for f in report.findings if f.cell == "D3"]
    assert len(on_cell) == 1
    assert on_cell[0].rule == "value_format" and district in on_cell[0].message_zh


def broken_frame(report_type: str, rows: int = 60, seed: int | None = None) -> pd.DataFrame:
    """A frame of the parser's dtypes in which every kind of rule breaks somewhere: blanks, values outside
    the lists and ranges, repeated keys, dates in the wrong order. Deterministic (seeded by report type, and
    ``seed`` for another frame of the same type)."""
    contract = CONTRACTS[report_type]
    suite = load_suite_json(contract.suite_name)
    value_sets = {
        e["kwargs"]["column"]: e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and isinstance(e["kwargs"]["value_set"], list)
    }
    rng = random.Random(report_type if seed is None else f"{report_type}:{seed}")
    day = dt.date(2021, 9, 24)
    pools = {
        "district": ["210504", "210504", "210504", "999999", None],
        "int": [0, 3, 5, 7, 20, 30, -2, 400, 200000, None],
        "decimal": [0.0, 2.5, 30.5, -1.0, 1e12, None],
        "date": [day + dt.timedelta(days=d) for d in (-3, 0, 0, 2, 5)] + [None],
        "datetime": [dt.datetime(2021, 9, 24, 10) + dt.timedelta(hours=h) for h in (-30, -1, 0, 1, 3, 50)] + [None],
        "bool": [True, True, False, None],
    }
    frame = pd.DataFrame({SOURCE_ROW: range(3, 3 + rows)})
    for column in contract.fact_columns:
        pool = pools.get(column.kind) or [
            *value_sets.get(column.name, ["甲", "乙", "丙", "甲1"]),
            "不在列表",
            "ab",
            None,
        ]
        values = [rng.choice(pool) for _ in range(rows)]
        dtype = {"int": "Int64", "decimal": "float64", "bool": "boolean"}.get(column.kind, object)
        frame[column.name] = pd.array(values, dtype=dtype) if dtype is not object else pd.Series(values, dtype=object)
    frame[APPROXIMATE] = None
    return frame


def plain_json(result) -> dict:
    """The result as JSON without what differs between two runs of the same validation (run times, the
    fingerprint the shortcuts leave out)."""
    data = result.to_json_dict()
    data.pop("meta", None)
    return data


@pytest.mark.parametrize("report_type", sorted(CONTRACTS))
def test_gx_shortcuts_give_the_result_gx_gives(report_type):
    """etl.ingest.validate.gx_internals.shortcuts skips the frame fingerprint and computes an expectation's
    configuration, a metric's id and kwargs and a column pair's or row condition's rows once: every suite's result on a frame full of
    failures must be exactly what plain GX returns."""
    frame, places = broken_frame(report_type), default_places()
    suite = load_suite_json(CONTRACTS[report_type].suite_name)
    fast = run_suite(frame, suite, places)
    plain = run_suite(frame, suite, places, shortcuts=False)
    failed = [r.expectation_config.type for r in plain.results if not r.success]
    assert len(failed) >= 3, failed  # the frame really breaks the suite
    assert any(r.result.get("unexpected_index_list") for r in plain.results)
    assert plain_json(fast) == plain_json(plain)
    assert "pandas_data_fingerprint" in plain.meta["batch_markers"]
    assert "pandas_data_fingerprint" not in fast.meta["batch_markers"]
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import Expectation

    assert Expectation.__dict__["configuration"].fget.__module__.startswith("great_expectations")  # restored
    assert PandasExecutionEngine.get_domain_records.__module__.startswith("great_expectations")
    from great_expectations.expectations import expectation, registry

    assert expectation.get_metric_kwargs is registry.get_metric_kwargs
    assert registry.get_metric_kwargs.__module__.startswith("great_expectations")


def test_a_task_log_carries_no_gx_registration_noise():
    """Importing GX through the pipeline at INFO level (as a task logs) adds none of GX's "Skipping
    registering function" lines; a fresh interpreter, because GX registers only once per process."""
    import subprocess
    import sys

    code = (
        "import logging, sys; logging.basicConfig(stream=sys.stderr, level=logging.INFO)\n"
        "from etl.ingest.validate.suite import batch_definition; batch_definition()\n"
        "import great_expectations; logging.getLogger('probe').info('imported')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert "INFO:probe:imported" in run.stderr  # INFO lines do reach the log
    assert "Skipping registering" not in run.stderr
