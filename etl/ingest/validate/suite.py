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
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from etl.config import REPO_ROOT
from etl.ingest import findings as F
from etl.ingest.parse.tables import SOURCE_ROW, SOURCE_SHEET, ParsedReport
from etl.reference.places import Places, default_places

if TYPE_CHECKING:
    from etl.ingest.validate.data_docs import DataDocs

log = logging.getLogger(__name__)

_GX_PATCH_LOCK = threading.RLock()  # one validation at a time cuts GX short (_gx_shortcuts)
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [SOURCE_ROW],
    "return_unexpected_index_query": False,
}


def result_format(frame) -> dict:
    """GX names each failing row by its Excel row, and by its sheet in a table read from several sheets."""
    if SOURCE_SHEET not in frame.columns:
        return RESULT_FORMAT
    return {**RESULT_FORMAT, "unexpected_index_column_names": [SOURCE_ROW, SOURCE_SHEET]}


def cells_with_findings(findings, default_sheet: str | None) -> set[tuple[str | None, int | None, str | None]]:
    """(sheet, row, column) of the cells ``findings`` already speak of: one message per cell."""
    return {(f.sheet or default_sheet, f.row, f.column) for f in findings}


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
def batch_definition():
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


def validate_report(
    report: ParsedReport, places: Places | None = None, docs: DataDocs | None = None, background: bool = False
) -> ValidationOutcome:
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
    already = cells_with_findings(report.findings, report.sheet)
    for item in result.results:
        if failed_in(item, report.frame.columns):
            outcome.failed.append(item.expectation_config.type)
            add_findings(report, item.expectation_config, item.result or {}, already)
    if docs is not None and background:
        outcome.start_docs(lambda: record_docs(docs, report, suite_json, result))
    elif docs is not None:
        outcome.docs_page = record_docs(docs, report, suite_json, result)
    return outcome


def run_suite(frame, suite_json: dict, places: Places, shortcuts: bool = True):
    """The GX validation result of ``frame`` (its boolean columns as objects) under the suite JSON.
    ``shortcuts=False`` runs GX exactly as it ships (see ``_gx_shortcuts``; the tests compare the two)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(**copy.deepcopy(suite_json))
    # nullable booleans as objects (GX compares them with True/False); nullable integers without a gap as
    # int64, which GX's range checks compare vectorised (an Int64 column goes through a Python call per
    # value). The values GX reports are the same numbers either way.
    frame = frame.astype(
        {
            c: "object" if str(frame[c].dtype) == "boolean" else "int64"
            for c in frame.columns
            if str(frame[c].dtype) == "boolean" or (str(frame[c].dtype) == "Int64" and not frame[c].hasnans)
        }
    )
    from great_expectations.validator.v1_validator import Validator

    with _gx_shortcuts() if shortcuts else nullcontext():
        # what Batch.validate does, without building the batch a first time for the Batch object
        validator = Validator(
            batch_definition=batch_definition(),
            batch_parameters={"dataframe": frame},
            result_format=result_format(frame),
        )
        return validator.validate_expectation_suite(suite, expectation_parameters=suite_parameters(places))


@contextmanager
def _gx_shortcuts():
    """Three pieces of GX's own bookkeeping, cut short while one suite is validated; the checks themselves
    and their results are unchanged (tests/etl/ingest/validate/test_suite.py compares every suite with and without).

    * No DataFrame fingerprint: GX hashes every cell of the frame (md5 of pandas' hash) into the result's
      batch_markers, twice per validation. The raw file's sha256 already identifies what was validated
      (stg_file_load and every fact row's lineage).
    * ``Expectation.configuration`` computed once per expectation object: GX rebuilds it from the pydantic
      model about a hundred times per expectation while it plans the metrics (pydantic ``dict()``, a regex
      on the class name), half of a register's validation time. It depends only on the expectation's
      fields, which do not change while it is validated; callers that modify a configuration deep-copy it
      first (``Expectation.validate_``, ``Validator.graph_validate``).
    * ``IDDict.to_id`` (the md5 of a metric's JSON-serialised kwargs) computed once per distinct kwargs: GX
      asks for it about 1,600 times per register validation, for 28 distinct kwargs. Only kwargs made of
      plain values are memoised, by their exact values and types; anything else is computed as GX does."""
    from great_expectations.core.id_dict import IDDict
    from great_expectations.execution_engine import pandas_execution_engine as engine
    from great_expectations.expectations.expectation import Expectation

    computed = Expectation.__dict__["configuration"]
    memo: dict[
        int, tuple[object, object]
    ] = {}  # id → (the expectation, kept alive so ids stay unique; its configuration)

    def configuration(self):
        hit = memo.get(id(self))
        if hit is None or hit[0] is not self:
            hit = memo[id(self)] = (self, computed.fget(self))
        return hit[1]

    hashed = IDDict.to_id
    ids: dict[tuple, object] = {}

    def to_id(self, id_keys=None, id_ignore_keys=None):
        try:
            key = (
                type(self),
                _plain_key(self),
                None if id_keys is None else tuple(sorted(id_keys)),
                None if id_ignore_keys is None else tuple(sorted(id_ignore_keys)),
            )
        except TypeError:  # a value that is not plain (or keys that do not sort): as GX does
            return hashed(self, id_keys, id_ignore_keys)
        if key not in ids:
            ids[key] = hashed(self, id_keys, id_ignore_keys)
        return ids[key]

    with _GX_PATCH_LOCK:
        threshold = engine.HASH_THRESHOLD
        engine.HASH_THRESHOLD = -1  # "df.memory_usage().sum() < HASH_THRESHOLD" never holds: no fingerprint
        Expectation.configuration = property(configuration, doc=computed.__doc__)
        IDDict.to_id = to_id
        try:
            yield
        finally:
            IDDict.to_id = hashed
            Expectation.configuration = computed
            engine.HASH_THRESHOLD = threshold
            memo.clear()
            ids.clear()


_PLAIN_TYPES = (str, int, float, bool, type(None))


def _plain_key(value) -> tuple:
    """A hashable key equal for two values exactly when they are the same plain values of the same types
    (str, int, float, bool, None, and lists, tuples and dicts of them); TypeError for anything else."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return kind, value
    if kind is list or kind is tuple:
        return kind, tuple(_plain_key(v) for v in value)
    if isinstance(value, dict):
        return dict, tuple(sorted(((type(k), k), _plain_key(v)) for k, v in value.items()))
    raise TypeError(f"not a plain value: {kind.__name__}")


def failed_in(item, columns) -> bool:
    """A failed expectation whose columns the frame has (a missing column is the parser's finding:
    critical when the column is required)."""
    return not item.success and all(c in columns for c in _columns_of(item.expectation_config.kwargs))


def docs_run_name(report: ParsedReport) -> str:
    """The run name of a file's validation in Data Docs: its district (when the file name lacks it) and name."""
    name = report.path.name
    district = report.district.name if report.district else None
    return name if not district or district in name else f"{district}_{name}"


def record_docs(docs: DataDocs, report: ParsedReport, suite_json: dict, result) -> str | None:
    details = {
        "file": report.path.name,
        "folder": report.path.parent.name,
        "report_type": report.report_type,
        "district": report.district.name if report.district else None,
        "period": report.period,
        "sheet": report.sheet,
        "rows": report.rows_read,
    }
    try:
        return docs.record(result, suite_json, docs_run_name(report), details=details)
    except Exception:  # noqa: BLE001 - the docs are for browsing; the findings are already in the report
        log.exception("Data Docs not updated for %s", report.path.name)
        return None


def _columns_of(kwargs: dict) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + list(kwargs.get("column_list", []))


def _missing(value: object) -> bool:
    """None, NaN, NaT and pd.NA (whose ``!=`` raises instead of answering)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: a value
        return False


def add_findings(report: ParsedReport, config, result: dict, already: set) -> None:
    kwargs, meta = config.kwargs, config.meta or {}
    severity = meta.get("severity", F.ERROR)
    message_zh = meta.get("message_zh") or _MESSAGES_ZH.get(config.type, "不符合校验规则")
    # meta.finding_column: the cell to point at when a rule spans columns (a reply time before receipt is
    # usually a wrong reply time, so the finding goes on the reply's cell)
    column = (
        meta.get("finding_column")
        or kwargs.get("column")
        or kwargs.get("column_B")
        or (kwargs.get("column_list") or [None])[-1]
    )
    rule = meta.get("rule") or f"gx:{config.type}"  # meta.rule: a name the receipts and the mart can count
    rows = result.get("unexpected_index_list")
    if not rows:
        if config.type == "expect_column_to_exist":
            return  # reported by the parser as missing_column with the header row
        report.add(rule, severity, message_zh, f"{config.type} failed for {column}")
        return
    for entry in rows:
        row = int(entry[SOURCE_ROW])
        sheet = entry.get(SOURCE_SHEET) or report.sheet
        header = report.sheet_headers.get(sheet, report.header_cells).get(column, (column, None))[0]
        if (sheet, row, header) in already:
            continue  # one message per cell: the parser's is the more specific one
        value = entry.get(column)
        report.add_cell(
            rule,
            severity,
            message_zh,
            f"{config.type} failed for {column}",
            column,
            row,
            None if _missing(value) else value,
            sheet=sheet,
        )
