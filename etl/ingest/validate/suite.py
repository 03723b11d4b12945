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
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from etl.config import REPO_ROOT
from etl.ingest import findings as F
from etl.ingest.findings import Finding, FindingList, cell_place
from etl.ingest.parse.tables import SOURCE_ROW, SOURCE_SHEET, ParsedReport, collector
from etl.ingest.read.csv_chunks import ReadWhole
from etl.ingest.validate import gx_internals
from etl.ingest.validate.gx_internals import merge_map_results
from etl.reference.places import Places, default_places

if TYPE_CHECKING:
    from etl.ingest.validate.data_docs import DataDocs

log = logging.getLogger(__name__)

EXPECTATIONS_DIR = REPO_ROOT / "expectations"
# Row-by-row expectations: validating chunk by chunk and adding up is the same as validating the file.
ROW_EXPECTATIONS = {
    "expect_column_to_exist",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
    "expect_column_values_to_be_of_type",
}
UNIQUE_EXPECTATIONS = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
POSITION = "etl_suite_position"  # meta key: each result names its expectation's place in the suite
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


class SpokenCells:
    """The cells that findings already speak of, those counted beyond the cap included, as they were when
    this was made: one message per cell — unless a rule finds the cell graver than what is said of it (an
    approximate value, a warning, that is also out of range, an error)."""

    def __init__(self, lists: list[FindingList], default_sheet: str | None):
        self.default_sheet = default_sheet
        self.listed: dict[tuple, int] = {}  # (sheet, row, column header) → the gravest severity's rank
        omitted: dict[tuple, list] = {}
        for findings in lists:
            for f in findings:
                key = (*cell_place(f.sheet or default_sheet, f.column), f.row)
                self.listed[key] = max(self.listed.get(key, 0), F.RANK[f.severity])
            if isinstance(findings, FindingList):
                for (sheet, column, severity), rows in findings.omitted_cells.rows.items():
                    key = (*cell_place(sheet or default_sheet, column), F.RANK[severity])
                    omitted.setdefault(key, []).append(np.frombuffer(rows, dtype=np.int64).copy())
        self.omitted = {key: np.sort(np.concatenate(parts)) for key, parts in omitted.items()}
        self.places: dict[tuple, tuple] = {}  # (sheet, header) → as a Finding stores them: once each, not per row

    def speak_of(self, sheet: str | None, row: int, column: str | None, severity: str) -> bool:
        """Whether a finding as grave as ``severity`` or graver speaks of the cell already."""
        place = (sheet or self.default_sheet, column)
        if place not in self.places:
            self.places[place] = cell_place(*place)
        sheet, column = self.places[place]
        grave = F.RANK[severity]
        if self.listed.get((sheet, column, row), 0) >= grave:
            return True
        for rank in range(grave, max(F.RANK.values()) + 1):
            rows = self.omitted.get((sheet, column, rank))
            if rows is not None:
                at = int(np.searchsorted(rows, row))
                if at < len(rows) and int(rows[at]) == row:
                    return True
        return False


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
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # in memory, without the Data Docs site GX's default ephemeral context names in a temporary folder it
    # creates and removes (outside SHARED_DIR); this context only validates (the docs: etl.ingest.validate.data_docs)
    memory = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    context = gx.get_context(project_config=DataContextConfig(store_backend_defaults=memory), mode="ephemeral")
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
    """Validate ``report.frame`` (a table read whole: one chunk) with its suite; append one finding per
    failing cell to ``report``.

    With ``docs`` the result is also kept in the shared folder's GX store and its Data Docs page built
    (``outcome.docs_page``); without, nothing is written anywhere. A Data Docs failure is logged and leaves
    ``docs_page`` empty: it never changes the file's outcome. With ``background`` the docs are written by a
    thread while the caller loads the file (mostly waiting for the database): ``outcome.wait_docs()``
    returns the page."""
    run = SuiteRun(report, places)
    run.check(report.frame)
    return run.finish(docs, background)


class SuiteRun:
    """One load validated with its report type's suite, chunk by chunk. A table read whole is one chunk
    and runs the whole suite at once. A table read in chunks (``whole=False``) runs the row-by-row
    expectations on each chunk and the uniqueness expectations once, at ``finish``, on the key columns of
    every row: a ticket number in chunk 1 and chunk 9 is the same finding as two in one chunk. The chunks'
    results merge into one result for Data Docs (counts summed, unexpected rows concatenated, percentages
    as GX computes them; nothing to merge for one chunk) and the findings come out in the order GX reports
    the suite, whatever the chunking."""

    def __init__(self, report: ParsedReport, places: Places | None = None, whole: bool = True):
        self.report, self.places, self.whole = report, places or default_places(), whole
        suite_json = load_suite_json(report.contract.suite_name)
        expectations = [
            {**e, "meta": {**(e.get("meta") or {}), POSITION: i}} for i, e in enumerate(suite_json["expectations"])
        ]
        self.suite_json = {**suite_json, "expectations": expectations}
        self.unique = [] if whole else [i for i, e in enumerate(expectations) if e["type"] in UNIQUE_EXPECTATIONS]
        self.chunk_positions = [i for i in range(len(expectations)) if i not in self.unique]
        self.chunk_suite = {**self.suite_json, "expectations": [expectations[i] for i in self.chunk_positions]}
        self.key_columns = list(
            dict.fromkeys(c for i in self.unique for c in expectation_columns(expectations[i]["kwargs"]))
        )
        self.columns = suite_columns(self.chunk_suite)
        self.results: list = []  # each chunk's GX result
        self.keys: list[pd.DataFrame] = []  # the uniqueness columns of every row
        self.gx: dict[int, FindingList] = {}  # suite position → its row findings, chunk after chunk
        self.gx_plain: dict[int, Finding] = {}  # failures without rows: once per load
        self.failed: set[int] = set()  # positions of the expectations that failed

    def check(self, frame: pd.DataFrame, chunk_findings=()) -> set[tuple[str | None, int]]:
        """Validate one chunk (``chunk_findings``: what parsing found in it: one message per cell); its
        findings wait for ``finish``. Returns (sheet, row) of its row errors, those beyond the cap too."""
        report = self.report
        if self.unique:
            self.keys.append(frame[[SOURCE_ROW, *(c for c in self.key_columns if c in frame.columns)]])
        index = [c for c in (SOURCE_ROW, SOURCE_SHEET) if c in frame.columns]
        # the suite's columns only: GX filters (takes) the whole frame for every expectation
        result = run_suite(
            frame[[*index, *(c for c in self.columns if c in frame.columns)]], self.chunk_suite, self.places
        )
        self.results.append(result)
        already = SpokenCells([report.findings, chunk_findings], report.sheet)
        errors: set[tuple[str | None, int]] = set()
        for position, item in zip(self._positions(result), result.results, strict=True):
            if not failed_in(item, frame.columns):
                continue
            self.failed.add(position)
            found = collector(report)
            add_findings(found, item.expectation_config, item.result or {}, already)
            kept = self.gx.setdefault(position, FindingList(cap=report.findings.cap))
            for finding in found.findings:
                if finding.row is None:
                    self.gx_plain.setdefault(position, finding)
                else:
                    kept.append(finding)
            kept.count_omitted_of(found.findings)
            errors |= found.findings.error_places(report.sheet)
        if not self.whole:
            trim_unexpected(result, report.findings.cap)  # kept until the end for Data Docs: bounded
        return errors

    @staticmethod
    def _positions(result) -> list[int]:
        """The position in the load's suite of each item of ``result`` (its expectation's meta says)."""
        return [item.expectation_config.meta[POSITION] for item in result.results]

    def finish(self, docs: DataDocs | None = None, background: bool = False) -> ValidationOutcome:
        """The uniqueness expectations over every row, the findings (in suite order) added to the report,
        and the merged result kept in Data Docs (see ``validate_report``)."""
        report, suite_json = self.report, self.suite_json
        unique_results = {}
        if self.unique:
            keys = pd.concat(self.keys, ignore_index=True)
            suite = {**suite_json, "expectations": [suite_json["expectations"][i] for i in self.unique]}
            result = run_suite(keys, suite, self.places)
            unique_results = dict(zip(self._positions(result), result.results, strict=True))
        already = SpokenCells([report.findings], report.sheet)
        merged = self.results[0] if len(self.results) == 1 and not unique_results else self._merged(unique_results)
        outcome = ValidationOutcome(suite_json["name"], bool(merged.success), len(merged.results), gx_result=merged)
        # in the order of the suite (as its author wrote the rules), whatever order GX reports them in
        for item in sorted(merged.results, key=lambda item: item.expectation_config.meta[POSITION]):
            position = item.expectation_config.meta[POSITION]
            if position in unique_results:
                if failed_in(item, list(keys.columns)):
                    outcome.failed.append(item.expectation_config.type)
                    add_findings(report, item.expectation_config, item.result or {}, already)
                continue
            if position in self.failed:
                outcome.failed.append(item.expectation_config.type)
            if position in self.gx_plain:
                report.findings.append(self.gx_plain[position])
            report.findings += self.gx.get(position, [])
        if docs is not None and background:
            outcome.start_docs(lambda: record_docs(docs, report, suite_json, merged))
        elif docs is not None:
            outcome.docs_page = record_docs(docs, report, suite_json, merged)
        return outcome

    def _merged(self, unique_results: dict):
        """One ExpectationSuiteValidationResult for the load from the chunks' results and the uniqueness
        results over all rows, in the order GX reports the whole suite."""
        from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

        per_position: dict[int, list] = {}
        for result in self.results:
            for position, item in zip(self._positions(result), result.results, strict=True):
                per_position.setdefault(position, []).append(item)
        format_ = {
            "result_format": "COMPLETE",
            "partial_unexpected_count": 20,
            "include_unexpected_rows": False,
            **{k: v for k, v in RESULT_FORMAT.items() if k != "result_format"},
        }
        items = [
            unique_results[p] if p in unique_results else merge_map_results(per_position[p], format_)
            for p in sorted([*per_position, *unique_results])
        ]
        first = self.results[0]
        successful = sum(1 for item in items if item.success)
        return ExpectationSuiteValidationResult(
            success=all(item.success for item in items),
            results=items,
            suite_name=first.suite_name,
            suite_parameters=first.suite_parameters,
            statistics={
                "evaluated_expectations": len(items),
                "successful_expectations": successful,
                "unsuccessful_expectations": len(items) - successful,
                "success_percent": successful / len(items) * 100 if items else None,
            },
            meta=first.meta,
        )


def trim_unexpected(result, cap: int) -> None:
    """Cut each expectation's lists of unexpected values and rows to ``cap`` entries (the counts stay): a
    load validated in chunks keeps every chunk's result until its end, for the merged Data Docs page."""
    for item in result.results:
        found = item.result or {}
        for key in (
            "unexpected_list",
            "unexpected_index_list",
            "partial_unexpected_list",
            "partial_unexpected_index_list",
        ):
            if isinstance(found.get(key), list) and len(found[key]) > cap:
                found[key] = found[key][:cap]


def chunkable_suite(contract) -> None:
    """Raise ``ReadWhole`` when a table of this report type cannot be validated chunk by chunk: rules that
    compare rows with the street's history, an expectation that is not row by row, or a uniqueness rule of
    severity error under the quarantine policy (it would quarantine rows after their facts were written)."""
    if contract.history_columns:
        raise ReadWhole("its rules compare rows with the street's history")
    for expectation in load_suite_json(contract.suite_name)["expectations"]:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind in UNIQUE_EXPECTATIONS:
            if (
                contract.row_errors == "quarantine_rows"
                and expectation.get("meta", {}).get("severity", F.ERROR) == F.ERROR
            ):
                raise ReadWhole("a uniqueness rule of severity error would quarantine rows")
        elif kind not in ROW_EXPECTATIONS or "mostly" in kwargs:
            raise ReadWhole(f"{kind} is not a row-by-row rule")


def suite_columns(suite_json: dict) -> list[str]:
    """Every column the suite's expectations name (row conditions included), in order of appearance."""
    names = []
    for expectation in suite_json["expectations"]:
        kwargs = expectation["kwargs"]
        names += expectation_columns(kwargs)
        if kwargs.get("row_condition"):
            names += re.findall(r"[A-Za-z_][A-Za-z0-9_]*", kwargs["row_condition"])
    return list(dict.fromkeys(names))


def expectation_columns(kwargs: dict) -> list[str]:
    """The columns an expectation's arguments name."""
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + list(kwargs.get("column_list", []))


def run_suite(frame, suite_json: dict, places: Places, shortcuts: bool = True):
    """The GX validation result of ``frame`` (its boolean columns as objects) under the suite JSON.
    ``shortcuts=False`` runs GX exactly as it ships (etl.ingest.validate.gx_internals; the tests compare)."""
    import great_expectations as gx
    from great_expectations.validator.v1_validator import Validator

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
    listed_by = result_format(frame)
    with gx_internals.shortcuts(shortcuts, tuple(listed_by["unexpected_index_column_names"])):
        # what Batch.validate does, without building the batch a first time for the Batch object
        validator = Validator(
            batch_definition=batch_definition(),
            batch_parameters={"dataframe": frame},
            result_format=listed_by,
        )
        return validator.validate_expectation_suite(suite, expectation_parameters=suite_parameters(places))


def failed_in(item, columns) -> bool:
    """A failed expectation whose columns the frame has (a missing column is the parser's finding:
    critical when the column is required)."""
    return not item.success and all(c in columns for c in expectation_columns(item.expectation_config.kwargs))


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


def _missing(value: object) -> bool:
    """None, NaN, NaT and pd.NA (whose ``!=`` raises instead of answering)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: a value
        return False


def add_findings(report: ParsedReport, config, result: dict, already: SpokenCells) -> None:
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
        header = report.header_of(column, sheet)
        if already.speak_of(sheet, row, header, severity):
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
