"""GX internals live in one module behind a version guard: on a GX version they were not tested against,
validation, the merge of a file read in chunks and the Data Docs index fall back to plain GX, say so in the
log, and the clerk's findings do not change."""

from __future__ import annotations

import logging

import great_expectations
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_data_docs import failing_rows, index_link, parse_service_rows
from test_suite import broken_frame, plain_json
from workbooks import hotline_csv

from etl.contracts import CONTRACTS
from etl.ingest.check import check_in_chunks
from etl.ingest.parse.tables import SOURCE_ROW, SOURCE_SHEET, parse_file
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


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3, allow_nan=False) | st.text("ab", max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text("ab", max_size=2) | st.integers(0, 2), inner, max_size=3)
    ),
    max_leaves=8,
)


def same_plain(a, b) -> bool:
    """The same plain values of the same types, all the way down (1, 1.0 and True differ; key order does not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_plain(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            any(type(k) is type(j) and k == j and same_plain(a[k], b[j]) for j in b) for k in a
        )
    return a == b


def twin(draw, value):
    """``value`` with some parts swapped for values equal to them in Python (1, 1.0, True; a list and its
    tuple) and its dicts' keys reordered: the same value or a near twin."""
    kind = type(value)
    if kind in (int, float, bool) and value == int(value) and draw(st.booleans()):
        return draw(st.sampled_from([int, float, bool] if value in (0, 1) else [int, float]))(value)
    if kind in (list, tuple):
        items = [twin(draw, v) for v in value]
        return (list if draw(st.booleans()) else tuple)(items) if draw(st.booleans()) else kind(items)
    if kind is dict:
        keys = draw(st.permutations(list(value)))
        return {k: twin(draw, value[k]) for k in keys}
    return value


@st.composite
def plain_pairs(draw):
    a = draw(PLAIN)
    return a, draw(PLAIN) if draw(st.booleans()) else twin(draw, a)


@settings(max_examples=300)  # a pure function: 300 pairs take a second
@given(pair=plain_pairs())
@example(pair=([1], [1.0]))
@example(pair=({"a": (1, None)}, {"a": [True, None]}))
@example(pair=({"a": 0, 1: "b"}, {1: "b", "a": 0}))
def test_a_memo_key_is_equal_exactly_for_the_same_plain_values(pair):
    a, b = pair
    """``plain_key`` (the shortcuts' memo key for GX's metric ids and kwargs) tells 1, 1.0 and True apart and
    lists from tuples, or raises TypeError (then GX computes as it ships); it never makes two different
    values one key."""
    try:
        key_a, key_b = gx_internals.plain_key(a), gx_internals.plain_key(b)
    except TypeError:
        return  # keys that do not sort (1 and "a" in one dict): not memoised
    assert (key_a == key_b) == same_plain(a, b)
    assert gx_internals.plain_key(a) == key_a  # the same value, the same key
    with pytest.raises(TypeError):
        gx_internals.plain_key([a, object()])


@pytest.mark.parametrize("report_type", sorted(CONTRACTS))
def test_a_suite_planned_for_one_file_validates_the_next_exactly_as_gx_does(report_type, monkeypatch):
    """The suite's metric graph is planned once per process (gx_internals ``shortcuts``): a second frame, with
    other rows and other failures, validated with the kept plan gets exactly plain GX's result, and GX does
    not plan it again."""
    from great_expectations.validator.validator import Validator

    planning = Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return planning(*args, **kwargs)

    monkeypatch.setattr(Validator, "_generate_metric_dependency_subgraphs_for_each_expectation_configuration", counted)
    gx_internals.PLANS.clear()
    suite, places = load_suite_json(CONTRACTS[report_type].suite_name), default_places()
    first, second = broken_frame(report_type, seed=1), broken_frame(report_type, rows=90, seed=2)
    run_suite(first, suite, places)
    assert len(calls) == 1 and len(gx_internals.PLANS) == 1
    kept = run_suite(second, suite, places)
    assert len(calls) == 1  # the kept plan, not a new one
    plain = run_suite(second, suite, places, shortcuts=False)
    assert len(calls) == 2 and len(gx_internals.PLANS) == 1  # plain GX plans for itself and keeps nothing
    assert plain_json(kept) == plain_json(plain)
    assert plain_json(plain) != plain_json(run_suite(first, suite, places, shortcuts=False))  # other failures
    sheets = second.assign(**{SOURCE_SHEET: "第二页"})  # rows listed by sheet too: another result format
    assert plain_json(run_suite(sheets, suite, places)) == plain_json(run_suite(sheets, suite, places, shortcuts=False))
    assert Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration is counted  # restored


def test_a_suite_whose_plan_reads_the_data_is_planned_for_every_frame():
    """expect_column_values_to_be_of_type plans by the column's type: a kept plan from an integer column
    would not fit a text column. Such a suite is never kept, and each frame gets plain GX's result."""
    suite = {
        "name": "types",
        "expectations": [
            {"type": "expect_column_values_to_be_of_type", "kwargs": {"column": "value", "type_": "int"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "value"}},
        ],
    }
    gx_internals.PLANS.clear()
    places = default_places()
    for values in ([1, 2, 3], ["1", "二", None]):
        frame = pd.DataFrame(
            {SOURCE_ROW: [3, 4, 5], "value": pd.Series(values, dtype=object if values[-1] is None else "int64")}
        )
        kept = run_suite(frame, suite, places)
        assert plain_json(kept) == plain_json(run_suite(frame, suite, places, shortcuts=False))
    assert not gx_internals.PLANS


def test_no_other_core_expectation_plans_from_the_data():
    """``PLANNED_FROM_DATA`` lists every expectation of the installed GX whose get_validation_dependencies
    asks the execution engine for a metric: the others' plans may be kept."""
    import inspect

    from great_expectations.expectations.registry import (
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    reading = set()
    for name in list_registered_expectation_implementations():
        source = inspect.getsource(get_expectation_impl(name).get_validation_dependencies)
        if "resolve_metrics" in source or "execution_engine.get" in source:
            reading.add(name)
    assert reading == set(gx_internals.PLANNED_FROM_DATA)


_CELLS = {
    "float": st.one_of(st.floats(allow_infinity=False), st.just(float("nan"))),
    "text": st.one_of(st.none(), st.text(max_size=5)),
    "when": st.one_of(
        st.none(), st.datetimes(min_value=pd.Timestamp("1700-01-01"), max_value=pd.Timestamp("2200-01-01"))
    ),
    "flag": st.booleans(),
}


@given(
    rows=st.integers(0, 8),
    domain=st.lists(
        st.sampled_from(["float", "text", "label", "when", "flag", "count", SOURCE_ROW]),
        min_size=1,
        max_size=2,
        unique=True,
    ),
    sheets=st.booleans(),
    data=st.data(),
)
def test_failing_rows_taken_a_column_at_a_time_are_what_gx_looks_up_row_by_row(rows, domain, sheets, data):
    """``unexpected_indices`` (a shortcut) gives GX's own unexpected_index_list: the same dicts, keys in
    the same order, values of the same types, for columns of every dtype a typed frame holds."""
    from great_expectations.expectations.metrics.map_metric_provider import map_condition_auxilliary_methods

    computed = map_condition_auxilliary_methods.compute_unexpected_pandas_indices
    frame = pd.DataFrame(
        {
            SOURCE_ROW: pd.Series(
                data.draw(st.lists(st.integers(2, 10**6), min_size=rows, max_size=rows)), dtype="int64"
            ),
            SOURCE_SHEET: [data.draw(st.sampled_from(["Sheet1", "二月"])) for _ in range(rows)],
            "float": pd.Series([data.draw(_CELLS["float"]) for _ in range(rows)], dtype="float64"),
            "text": pd.Series([data.draw(_CELLS["text"]) for _ in range(rows)], dtype=object),
            "label": pd.Series([data.draw(_CELLS["text"]) for _ in range(rows)], dtype="str"),
            "when": pd.to_datetime(pd.Series([data.draw(_CELLS["when"]) for _ in range(rows)], dtype=object)),
            "flag": pd.Series([data.draw(_CELLS["flag"]) for _ in range(rows)], dtype=bool),
            "count": pd.array(
                [data.draw(st.one_of(st.none(), st.integers(0, 99))) for _ in range(rows)], dtype="Int64"
            ),
        }
    )
    frame.index = pd.RangeIndex(3, 3 + rows)[::-1] if rows else frame.index  # a filtered frame's index
    result_format = {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": [SOURCE_ROW, SOURCE_SHEET] if sheets else [SOURCE_ROW],
    }
    arguments = {
        "domain_records_df": frame,
        "expectation_domain_column_list": domain,
        "result_format": result_format,
        "execution_engine": None,
        "metrics": {"table.columns": list(frame.columns)},
    }

    def typed(found):
        return [[(key, type(value), repr(value)) for key, value in entry.items()] for entry in found]

    assert typed(gx_internals.unexpected_indices(computed)(**arguments)) == typed(computed(**arguments))
