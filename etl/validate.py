"""Run the report type's Great Expectations suite (stored JSON under ``expectations/``) on a parsed file
and turn every failed row into a finding the clerk can act on.

GX is imported here, inside functions, never at DAG parse time: its import alone costs seconds.
"""
from __future__ import annotations

import copy
import gc
import json
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from etl import findings as F
from etl.parse import SOURCE_ROW, ParsedReport
from etl.places import Places, default_places

if TYPE_CHECKING:
    from etl.data_docs import DataDocs

log = logging.getLogger(__name__)

_GX_PATCH_LOCK = threading.RLock()  # one validation at a time patches GX's fingerprint function
EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [SOURCE_ROW],
                 "return_unexpected_index_query": False}

# Fallback wording when a suite's expectation carries no meta.message_zh.
_MESSAGES_ZH = {
    "expect_column_values_to_not_be_null": "必填项为空",
    "expect_column_values_to_be_unique": "值重复",
    "expect_compound_columns_to_be_unique": "记录重复",
    "expect_column_values_to_be_in_set": "值不在规定范围内",
    "expect_column_values_to_be_between": "数值超出允许范围",
    "expect_column_values_to_match_regex": "格式不正确",
    "expect_column_pair_values_a_to_be_greater_than_b": "两列数值关系不正确",
}


@dataclass
class ValidationOutcome:
    suite: str
    success: bool
    evaluated: int
    failed: list[str] = field(default_factory=list)  # expectation types that failed
    gx_result: object = field(default=None, repr=False)  # GX ExpectationSuiteValidationResult
    docs_page: str | None = None  # its Data Docs page, relative to the shared folder (only with docs)

    def start_docs(self, record) -> None:
        """Run ``record`` (which returns the docs page) in a thread; ``wait_docs`` collects it."""
        def run() -> None:
            self.docs_page = record()

        self._docs_thread = threading.Thread(target=run, name="data-docs", daemon=True)
        self._docs_thread.start()

    def wait_docs(self) -> str | None:
        thread = getattr(self, "_docs_thread", None)
        if thread is not None:
            thread.join()
            self._docs_thread = None
        return self.docs_page

    @property
    def result(self) -> dict:
        """The GX result as JSON (serialised on demand: ~60 ms for a register, and the pipeline never
        reads it; with Data Docs its meta carries the run identifiers the docs added)."""
        return {} if self.gx_result is None else self.gx_result.to_json_dict()


def suite_path(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


def load_suite_json(name: str) -> dict:
    return json.loads(suite_path(name).read_text(encoding="utf-8"))


def suite_parameters(places: Places) -> dict:
    return {"district_codes": [p.code for p in places.reporting_units]}


@lru_cache(maxsize=1)
def _batch_definition():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("district_files").add_dataframe_asset("parsed_report")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole_file")
    # GX's import leaves ~350,000 long-lived objects that every full garbage collection would walk again
    # while a file is parsed and validated (a fifth of a register's time): move them out of its reach.
    gc.collect()
    gc.freeze()
    return batch_definition


def validate_report(report: ParsedReport, places: Places | None = None,
                    docs: DataDocs | None = None, background: bool = False) -> ValidationOutcome:
    """Validate ``report.frame`` with its suite; append one finding per failing cell to ``report``.

    With ``docs`` the result is also kept in the shared folder's GX store and its Data Docs page built
    (``outcome.docs_page``); without, nothing is written anywhere. A Data Docs failure is logged and leaves
    ``docs_page`` empty: it never changes the file's outcome. With ``background`` the docs are written by a
    thread while the caller loads the file (mostly waiting for the database): ``outcome.wait_docs()``
    returns the page."""
    places = places or default_places()
    suite_json = load_suite_json(report.contract.suite_name)
    result = run_suite(report.frame, suite_json, places)
    outcome = ValidationOutcome(suite_json["name"], bool(result.success), len(result.results), gx_result=result)
    already = {(f.row, f.column) for f in report.findings}
    for item in result.results:
        if failed_in(item, report.frame.columns):
            outcome.failed.append(item.expectation_config.type)
            _add_findings(report, item.expectation_config, item.result or {}, already)
    if docs is not None and background:
        outcome.start_docs(lambda: _record_docs(docs, report, suite_json, result))
    elif docs is not None:
        outcome.docs_page = _record_docs(docs, report, suite_json, result)
    return outcome


def run_suite(frame, suite_json: dict, places: Places, fingerprint: bool = True):
    """The GX validation result of ``frame`` (its boolean columns as objects) under the suite JSON.

    GX fingerprints the DataFrame (an md5 of pandas' hash of every cell, kept in the result's
    batch_markers) each time it builds the batch, and ``Batch.validate`` builds it twice: the fingerprint
    is computed once here. ``fingerprint=False`` (the chunks of a streamed file, whose merged result keeps
    the first chunk's markers) leaves it out."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(**copy.deepcopy(suite_json))
    # nullable booleans as objects (GX compares them with True/False); nullable integers without a gap as
    # int64, which GX's range checks compare vectorised (an Int64 column goes through a Python call per
    # value). The values GX reports are the same numbers either way.
    frame = frame.astype({c: "object" if str(frame[c].dtype) == "boolean" else "int64" for c in frame.columns
                          if str(frame[c].dtype) == "boolean"
                          or (str(frame[c].dtype) == "Int64" and not frame[c].hasnans)})
    from great_expectations.validator.v1_validator import Validator

    with _fingerprint_once(frame, fingerprint):
        # what Batch.validate does, without building the batch a first time for the Batch object
        validator = Validator(batch_definition=_batch_definition(), batch_parameters={"dataframe": frame},
                              result_format=RESULT_FORMAT)
        return validator.validate_expectation_suite(suite, expectation_parameters=suite_parameters(places))


@contextmanager
def _fingerprint_once(frame, fingerprint: bool):
    from great_expectations.execution_engine import pandas_execution_engine as engine

    original = engine.hash_pandas_dataframe
    memo: dict[int, str] = {}

    def once(df):
        if df is not frame:
            return original(df)
        if id(df) not in memo:
            memo[id(df)] = original(df)
        return memo[id(df)]

    threshold = engine.HASH_THRESHOLD
    with _GX_PATCH_LOCK:
        engine.hash_pandas_dataframe = once
        if not fingerprint:
            engine.HASH_THRESHOLD = -1  # "df.memory_usage().sum() < HASH_THRESHOLD" never holds
        try:
            yield
        finally:
            engine.hash_pandas_dataframe = original
            engine.HASH_THRESHOLD = threshold


def failed_in(item, columns) -> bool:
    """A failed expectation whose columns the frame has (a missing column is the parser's finding:
    critical when the column is required)."""
    return not item.success and all(c in columns for c in _columns_of(item.expectation_config.kwargs))


def docs_run_name(report: ParsedReport) -> str:
    """The run name of a file's validation in Data Docs: its district (when the file name lacks it) and name."""
    name = report.path.name
    district = report.district.name if report.district else None
    return name if not district or district in name else f"{district}_{name}"


def _record_docs(docs: DataDocs, report: ParsedReport, suite_json: dict, result) -> str | None:
    details = {"file": report.path.name, "folder": report.path.parent.name, "report_type": report.report_type,
               "district": report.district.name if report.district else None, "period": report.period,
               "sheet": report.sheet, "rows": report.rows_read}
    try:
        return docs.record(result, suite_json, docs_run_name(report), details=details)
    except Exception:  # noqa: BLE001 - the docs are for browsing; the findings are already in the report
        log.exception("Data Docs not updated for %s", report.path.name)
        return None


def _columns_of(kwargs: dict) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + list(kwargs.get("column_list", []))


def _add_findings(report: ParsedReport, config, result: dict, already: set) -> None:
    kwargs, meta = config.kwargs, config.meta or {}
    severity = meta.get("severity", F.ERROR)
    message_zh = meta.get("message_zh") or _MESSAGES_ZH.get(config.type, "不符合校验规则")
    # meta.finding_column: the cell to point at when a rule spans columns (a reply time before receipt is
    # usually a wrong reply time, so the finding goes on the reply's cell)
    column = (meta.get("finding_column") or kwargs.get("column") or kwargs.get("column_B")
              or (kwargs.get("column_list") or [None])[-1])
    rule = f"gx:{config.type}"
    rows = result.get("unexpected_index_list")
    if not rows:
        if config.type == "expect_column_to_exist":
            return  # reported by the parser as missing_column with the header row
        report.add(rule, severity, message_zh, f"{config.type} failed for {column}")
        return
    for entry in rows:
        row = int(entry[SOURCE_ROW])
        header = report.header_cells.get(column, (column, None))[0]
        if (row, header) in already:
            continue  # one message per cell: the parser's is the more specific one
        value = entry.get(column)
        report.add_cell(rule, severity, message_zh, f"{config.type} failed for {column}", column, row,
                        None if value is None or value != value else value)
