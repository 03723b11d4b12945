"""GX internals live in one module behind a version guard: on a GX version they were not tested against,
validation, the merge of a file read in chunks and the Data Docs index fall back to plain GX, say so in the
log, and the clerk's findings do not change."""

from __future__ import annotations

import logging

import great_expectations
import pytest
from test_data_docs import failing_rows, index_link, parse_service_rows
from workbooks import hotline_csv

from etl.contracts import CONTRACTS
from etl.ingest.check import check_in_chunks
from etl.ingest.parse.tables import parse_file
from etl.ingest.validate import gx_internals
from etl.ingest.validate.data_docs import INDEX_CACHE, DataDocs
from etl.ingest.validate.suite import load_suite_json, run_suite, validate_report
from etl.reference.places import default_places


@pytest.fixture
def untested_gx(monkeypatch, caplog):
    """GX as if it were a version the internals were not written against."""
    gx_internals.internals_usable.cache_clear()
    monkeypatch.setattr(great_expectations, "__version__", "9.0.0")
    caplog.set_level(logging.WARNING, logger=gx_internals.__name__)
    yield caplog
    gx_internals.internals_usable.cache_clear()


def test_the_installed_gx_is_the_tested_one():
    gx_internals.internals_usable.cache_clear()
    assert gx_internals.internals_usable(), f"GX {great_expectations.__version__} != {gx_internals.TESTED_GX}.x"


def test_an_untested_gx_is_validated_plainly_and_said_once_in_the_log(untested_gx, tmp_path):
    report = parse_service_rows(tmp_path, failing_rows())
    suite = load_suite_json(CONTRACTS["service_items"].suite_name)
    result = run_suite(report.frame, suite, default_places())
    assert "pandas_data_fingerprint" in result.meta["batch_markers"]  # no shortcut taken
    validate_report(report)
    assert [f.cell for f in report.findings] == ["E4"]
    warnings = [r.getMessage() for r in untested_gx.records if "not the tested" in r.getMessage()]
    assert len(warnings) == 1 and "9.0.0" in warnings[0]


def test_an_untested_gx_gives_a_file_read_in_chunks_the_same_findings(untested_gx, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    path = inbox / "明山区" / "明山区_12345_2021-09.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(hotline_csv(150, duplicate=True).encode("utf-8"))
    whole = parse_file(path, inbox=inbox)
    validate_report(whole)
    plain, sink, outcome = check_in_chunks(path, inbox, "utf-8", chunk_rows=11)
    sink.close()
    assert plain.findings == whole.findings
    assert plain.findings.counts() == whole.findings.counts()
    merged = outcome.gx_result
    by_type = {r.expectation_config.type: r for r in merged.results}
    assert by_type["expect_column_values_to_be_unique"].result["unexpected_count"] == 2
    assert by_type["expect_column_values_to_be_in_set"].result["element_count"] == 150


def test_an_untested_gx_still_lists_every_validation_in_the_index(untested_gx, tmp_path):
    docs = DataDocs(tmp_path / "shared")
    first = validate_report(parse_service_rows(tmp_path, failing_rows()), docs=docs)
    second = validate_report(
        parse_service_rows(tmp_path, failing_rows(), name="政务服务事项清单_更正.xlsx"),
        docs=DataDocs(tmp_path / "shared"),
    )
    index = docs.index_page.read_text(encoding="utf-8")
    assert first.docs_page and second.docs_page
    assert index_link(first.docs_page) in index and index_link(second.docs_page) in index
    assert not (docs.gx_dir / INDEX_CACHE).exists()  # GX's own index builder
