"""Large CSV exports read in chunks: a month of 12345 tickets runs to hundreds of thousands of rows, a
province's to millions, and one frame of Python objects for all of them would take gigabytes.

``check_streamed`` does for such a file what ``etl.ingest.parse.tables.parse_file`` and ``etl.ingest.validate.suite.validate_report``
do for any file, with the same findings in the same order, the same statuses and the same facts:

1. The encoding is decided as ``etl.ingest.read.readers`` decides it (UTF-16 BOM, UTF-8 with or without BOM, else
   GB18030), checking the whole file block by block. The header is found with ``etl.ingest.parse.layout.find_table`` in
   the first ``HEAD_RECORDS`` records (it is looked for in the first 20 rows anyway).
2. The body is read with ``pandas.read_csv(chunksize=CHUNK_ROWS)`` as text cells, records numbered as the
   csv module numbers them (the first records of both are compared; any difference, a record wider than
   the head or an HTML file sends the file back to the whole-file path). Each chunk's rows are classified
   (blank, 合计, footer) like ``etl.ingest.parse.layout.data_rows``, converted with the same ``ColumnConverter``, checked
   against the folder's district, derived (``contract.derive``) and validated with the report type's GX
   suite; the chunk's facts, less the rows its row errors quarantine, go to ``facts``: on PostgreSQL a
   ``LiveCopy`` — the file's load transaction is opened before the first chunk and the facts are COPYed
   while the next chunk is parsed, so the server's work (constraints, indexes) runs on the other core —
   elsewhere a ``Spool`` (a temporary file the load copies from).
3. Rules that need the whole file are applied across chunks: the period is the one most rows fall in (if
   it differs from the first chunk's, which ``derive`` was given, the file is read again with the right
   one); the district of a file outside a district folder; 合计 rows against the sum of all rows; the
   suite's uniqueness expectations run once, in GX, on the key columns of every row, so a ticket number in
   chunk 1 and chunk 9 is the same critical finding as two in one chunk (and no more facts are written
   once a key repeats: the file is rejected).
4. The chunks' GX results are merged into one validation result (counts summed, unexpected rows
   concatenated, percentages as GX computes them) for Data Docs; its batch markers are the first chunk's
   (without a DataFrame fingerprint, as for every file: etl.ingest.validate.suite._gx_shortcuts).

``etl.ingest.load.record.record_report`` then finishes the load in the same single transaction as for every file: audit
row completed, findings, quarantined rows, facts (already there, or copied from the spool; rolled back if
the file is rejected). Memory stays bounded by the chunk size plus the key columns; findings, quarantined
rows and the merged GX result grow with the number of problems only.

Not streamed (the whole-file path reads these): files below ``STREAM_MIN_BYTES``; workbooks and HTML
exports; a header that is not found in the head, or an unknown report type; report types whose rules need
history (street outliers) or whose suite has an expectation that is not row by row; a uniqueness
expectation of severity "error" under the quarantine policy (it would quarantine rows after their facts
were written).

``Precopy`` is the same overlap for whole-file reads on PostgreSQL: the facts of a report type that
rejects a file with row errors are COPYed by a worker thread while GX validates.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import logging
import pickle
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from etl.contracts import CONTRACTS, ReportContract
from etl.ingest import findings as F
from etl.ingest.findings import Finding, FindingList
from etl.ingest.parse.frames import datetime_objects
from etl.ingest.parse.layout import classify_array, find_table, title_text
from etl.ingest.parse.tables import (
    APPROXIMATE,
    SOURCE_ROW,
    ParsedReport,
    check_district,
    check_totals,
    convert_rows,
    district_from_content,
    folder_district,
    start_table,
    table_converter,
)
from etl.ingest.read.readers import CSV_ENCODINGS, OLE_MAGIC, TEXT_TABLE_SUFFIXES, ZIP_MAGIC, Sheet, looks_binary
from etl.reference.periods import period_from_text, quarter_of
from etl.reference.places import Places, default_places

log = logging.getLogger(__name__)

STREAM_MIN_BYTES = 16 << 20  # smaller files take the whole-file path (a 16 MiB CSV is ~130,000 tickets)
CHUNK_ROWS = 100_000
FIRST_CHUNK_ROWS = 20_000
HEAD_RECORDS = 64
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
# Contracts with derive_keeps_datetime64: their derive reads a datetime column given as datetime64 exactly as
# one of datetime objects (pd.to_datetime first) and, asked with keep_datetime64=True, leaves the datetime
# columns datetime64: their chunks never make a Python datetime per cell; GX, the COPY, the spool and the
# quarantine take datetime64 columns as they are. tests/etl/ingest/test_stream.py checks the equivalence with the
# whole-file path.


class NotStreamable(Exception):
    """The file takes the whole-file path (the reason is logged)."""


@dataclass
class StreamedReport(ParsedReport):
    """A ParsedReport whose rows were not kept: ``frame`` is None and the facts went to ``facts`` (a
    ``LiveCopy`` into the open load transaction, or a ``Spool`` the load copies)."""

    rows_total: int = 0
    facts: object = None
    quarantine: pd.DataFrame | None = None  # the rows held back, with their parsed values
    docs_page: str | None = None
    gx_merged: tuple | None = None  # (suite JSON, the chunks' GX results merged into one), for Data Docs
    streamed = True

    @property
    def rows_read(self) -> int:
        return self.rows_total

    def quarantine_frame(self) -> pd.DataFrame:
        quarantined = {row for _sheet, row in self.quarantined_rows}  # one sheet: the rows say it
        frame = self.quarantine
        return frame[frame[SOURCE_ROW].isin(quarantined)] if frame is not None else frame

    def copy_facts(self, conn, load_id: int, sha256: str) -> int:
        """Write the spooled facts into the fact table (inside the caller's transaction); returns the count."""
        return self.facts.copy_into(conn, self, load_id, sha256)

    def discard(self) -> None:
        if self.facts is not None:
            self.facts.close()


class Spool:
    """Facts of a streamed file in a temporary file (pickled frames), copied by the load's transaction.
    ``directory``: where (the pipeline passes the file's claim folder, inside SHARED_DIR; default the
    system's temporary folder)."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self.path: Path | None = None
        self.count = 0

    def start(self, contract: ReportContract, sheet: str | None) -> None:
        self.close()
        self.path = Path(tempfile.mkdtemp(prefix="district-stream-", dir=self.directory)) / "facts.pickle"
        self.path.touch()
        self.count = 0

    def write(self, frame: pd.DataFrame) -> None:
        with self.path.open("ab") as handle:
            pickle.dump(frame, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += len(frame)

    def copy_into(self, conn, report: StreamedReport, load_id: int, sha256: str) -> int:
        from etl.ingest.load.record import driver_value
        from etl.warehouse.engine import fact_column_names, insert_facts

        columns = fact_column_names(report.contract)
        count = 0
        with self.path.open("rb") as handle:
            while True:
                try:
                    frame = pickle.load(handle)
                except EOFError:
                    break
                data = {
                    "load_id": [load_id] * len(frame),
                    "source_sha256": [sha256] * len(frame),
                    "source_sheet": [report.sheet] * len(frame),
                    "source_row": frame[SOURCE_ROW].tolist(),
                    "approximate_cols": frame[APPROXIMATE].tolist(),
                }
                for name in (c.name for c in report.contract.fact_columns):
                    data[name] = _cells(frame[name]) if name in frame else [None] * len(frame)
                rows = list(zip(*(map(driver_value, data[c]) for c in columns), strict=True))
                insert_facts(conn, report.contract, columns, rows)
                count += len(rows)
        return count

    def close(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
            self.path = None


def _cells(values: pd.Series) -> list:
    """A column's values for the database driver (datetime64 as datetime objects, NaT as None)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        return datetime_objects(values).tolist()
    return values.tolist()


class LiveCopy:
    """PostgreSQL: the file's load transaction opened before the first chunk (audit row first, with a
    provisional status, for its load_id), facts COPYed under a savepoint while the next chunk is parsed,
    and finished by ``etl.ingest.load.record.record_report``: the savepoint released (or rolled back when the file is
    not loaded), audit row completed, findings and quarantined rows written, one commit. A process that
    dies midway leaves nothing, as before.

    Every ``STATEMENT_ROWS`` rows of a chunk are a COPY statement of their own, run by a worker thread: the
    server checks a statement's foreign keys (every fact row's load_id) when the statement ends, which
    costs about as much again as the COPY, so a single COPY of a million rows left all of that to wait for
    at the end. Statement by statement it runs on the other core while this thread parses the next chunk,
    and what is left to wait for after the last chunk is one statement, not a whole chunk of 100,000
    rows. At most ``QUEUED_STATEMENTS`` wait in memory (two chunks' worth)."""

    STATEMENT_ROWS = 20_000
    QUEUED_STATEMENTS = 10

    def __init__(self, engine, meta):
        self.engine, self.meta = engine, meta
        self.conn = self.transaction = self.savepoint = None
        self.load_id: int | None = None
        self.count = 0
        self.error: BaseException | None = None
        self._thread = self._queue = None
        self._abandoned = False
        self._contract = self._lineage = None

    def start(self, contract: ReportContract, sheet: str | None) -> None:
        from etl.ingest.load.record import REJECTED, insert_audit, lineage_fields

        if self.conn is None:
            self.conn = self.engine.connect()
            self.transaction = self.conn.begin()
            self.load_id = insert_audit(
                self.conn, self.meta, {"status": REJECTED, "report_type": contract.report_type, "sheet_name": sheet}
            )
        else:  # a second pass: forget the first pass's facts
            self.close_copy()
            self.savepoint.rollback()
        self.savepoint = self.conn.begin_nested()
        self._contract, self._lineage, self.count = contract, lineage_fields(self.load_id, self.meta.sha256, sheet), 0

    def write(self, frame: pd.DataFrame) -> None:
        from etl.ingest.load.record import fact_copy_lines

        raise_copy_error(self)
        if self._thread is None:
            import queue
            import threading

            from etl.warehouse.engine import copy_statement, fact_column_names

            statement = copy_statement(self._contract, fact_column_names(self._contract))
            self._queue = queue.Queue(maxsize=self.QUEUED_STATEMENTS)
            self._thread = threading.Thread(target=self._copy_chunks, args=(statement,), name="live-copy", daemon=True)
            self._thread.start()
        for first in range(0, len(frame), self.STATEMENT_ROWS):
            rows = frame.iloc[first : first + self.STATEMENT_ROWS]
            self._queue.put("\n".join(fact_copy_lines(rows, self._contract, self._lineage)) + "\n")
        self.count += len(frame)

    def _copy_chunks(self, statement) -> None:
        """The worker: one COPY per queued chunk until None. After an error the rest are dropped (the
        transaction is aborted anyway) and the error is raised again in the caller's thread."""
        cursor = None
        try:
            cursor = self.conn.connection.driver_connection.cursor()
        except BaseException as exc:  # noqa: BLE001 - raised again by raise_copy_error
            self.error = exc
        while (text := self._queue.get()) is not None:  # drained to the end, so a writer never blocks
            if cursor is not None and self.error is None and not self._abandoned:
                try:
                    with cursor.copy(statement) as copy:
                        copy.write(text)
                except BaseException as exc:  # noqa: BLE001 - raised again by raise_copy_error
                    self.error = exc
        if cursor is not None:
            with contextlib.suppress(Exception):
                cursor.close()

    def _stop_worker(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None

    def close_copy(self) -> None:
        """Wait until the server has every chunk written so far."""
        self._stop_worker()
        raise_copy_error(self)

    def close(self) -> None:
        """Roll back whatever was not committed and give the connection back."""
        if self.conn is None:
            return
        self._abandoned = True  # chunks still queued are not sent
        self._stop_worker()
        self.error = None
        conn, self.conn = self.conn, None
        release(conn, self.transaction)


def release(conn, transaction) -> None:
    """Roll back the load transaction if it is still open (not committed by record_report) and give the
    connection back."""
    try:
        if transaction is not None and transaction.is_active:
            transaction.rollback()
    except Exception:  # noqa: BLE001 - a dead connection: PostgreSQL rolled it back already
        log.warning("rollback of an abandoned load failed", exc_info=True)
    finally:
        conn.close()


def raise_copy_error(copier) -> None:
    """Raise, in the caller's thread, the error a COPY worker thread met (wrapped as SQLAlchemy wraps a
    driver error on its own calls)."""
    if copier.error is None:
        return
    error, copier.error = copier.error, None
    import psycopg
    import sqlalchemy as sa

    if isinstance(error, psycopg.Error):
        raise sa.exc.DBAPIError.instance("COPY (facts)", None, error, psycopg.Error) from error
    raise error


class Precopy(LiveCopy):
    """PostgreSQL, a report type that rejects a file with row errors (the whole frame is loaded or
    nothing): the file's load transaction is opened (audit row first, provisional status) and its facts
    are COPYed by ``LiveCopy``'s worker thread under a savepoint while Great Expectations validates the
    frame, so the server's work (constraints, indexes) overlaps the validation instead of following it.
    ``record_report`` finishes the transaction as for a streamed file (rolling the facts back if the file
    is rejected).

    The frame is written as one chunk of 5,000-row statements: the server starts on the first while the
    rest are formatted, and checks each statement's foreign keys as it ends instead of all 24,671 of a
    register at the end. Every statement is queued at once (``QUEUED_STATEMENTS`` 0: no bound; the frame
    is in memory anyway), so this thread goes on to the validation without waiting."""

    STATEMENT_ROWS = 5_000
    QUEUED_STATEMENTS = 0

    def __init__(self, engine, meta, report: ParsedReport):
        super().__init__(engine, meta)
        try:
            self.start(report.contract, report.sheet)
            self.write(report.frame)
        except BaseException:
            self.close()
            raise


def text_encoding(path: Path, min_bytes: int | None = None) -> str | None:
    """The encoding to stream ``path`` with, or None when it takes the whole-file path: smaller than
    ``min_bytes``, not named like a text table, a workbook/PDF, binary, undecodable, or HTML."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if (
        size < (STREAM_MIN_BYTES if min_bytes is None else min_bytes)
        or size == 0
        or path.suffix.lower() not in TEXT_TABLE_SUFFIXES
    ):
        return None
    with path.open("rb") as handle:
        head = handle.read(65536)
    if head.startswith((ZIP_MAGIC, OLE_MAGIC, b"%PDF")):
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif looks_binary(head[:4096]):
        return None
    else:
        encoding = next((e for e in CSV_ENCODINGS if _decodes(path, e)), None)
        if encoding is None:
            return None
    text = head.decode(encoding, errors="ignore").lstrip()
    if not text or text.startswith("<"):
        return None  # whitespace, or an HTML export: the whole-file path decides
    return encoding


def _holds_nul(path: Path) -> bool:
    """Whether any byte of the file is NUL (then every text cell is checked for one: etl.ingest.parse.values)."""
    with path.open("rb") as handle:
        return any(b"\x00" in block for block in iter(lambda: handle.read(8 << 20), b""))


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes (what ``bytes.decode`` would say), one block at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(8 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


@dataclass
class _State:
    """What the chunks leave for the end of the file."""

    groups: dict[tuple[int, int, int], FindingList] = field(default_factory=dict)
    mismatches: list[Finding] = field(default_factory=list)
    gx: dict[int, FindingList] = field(default_factory=dict)  # suite index → findings, chunk by chunk
    gx_plain: dict[int, Finding] = field(default_factory=dict)  # failures without rows: once per file
    results: list = field(default_factory=list)  # each chunk's GX result
    keys: list[pd.DataFrame] = field(default_factory=list)  # uniqueness columns of every row
    numbers: dict[str, list[pd.Series]] = field(default_factory=dict)  # for 合计 cross-checks
    period_keys: Counter = field(default_factory=Counter)
    district_codes: set = field(default_factory=set)
    totals: list[tuple[int, list[object]]] = field(default_factory=list)
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    rows: int = 0
    spooled: int = 0
    seen_keys: set = field(default_factory=set)  # the fact table's key of every row written
    duplicate_key: bool = False  # then no more facts are written (COPY would fail on the primary key)
    rejected: bool = False  # a critical finding, or a row error where row errors reject the file


def check_streamed(
    path: Path,
    inbox: Path | None,
    encoding: str,
    places: Places | None = None,
    contracts: dict[str, ReportContract] = CONTRACTS,
    docs=None,
    chunk_rows: int | None = None,
    facts=None,
    background_docs: bool = False,
    findings_cap: int = F.MAX_PER_RULE,
) -> StreamedReport:
    """Parse and validate ``path`` chunk by chunk (see the module doc); raises NotStreamable when the file
    takes the whole-file path (after closing ``facts``). The facts go to ``facts`` (a ``LiveCopy``, or by
    default a ``Spool``). With ``docs`` the merged GX result is kept in Data Docs (``docs_page``); with
    ``background_docs`` too, by a thread (rendering a first page takes a second or two, the server is
    still checking the last chunk's facts meanwhile) and ``docs_page`` is a function that waits for it and
    returns the page, as ``etl.ingest.validate.suite.ValidationOutcome.wait_docs``."""
    places = places or default_places()
    chunk_rows = chunk_rows or CHUNK_ROWS
    facts = facts if facts is not None else Spool()
    period = None
    try:
        for _attempt in range(2):
            report, final_period, hint = _stream(
                path, inbox, encoding, places, contracts, chunk_rows, facts, period, findings_cap
            )
            if final_period == hint or report.contract.derive is None or period is not None:
                _record_docs_of(report, docs, background_docs)
                return report
            period = final_period  # derive was given the first chunk's period, the file's is another: again
    except BaseException:
        facts.close()
        raise
    return report  # pragma: no cover - the second pass always returns


def _stream(path, inbox, encoding, places, contracts, chunk_rows, facts, period_override, findings_cap):
    report = StreamedReport(
        path, facts=facts, live=facts if isinstance(facts, LiveCopy) else None, findings=FindingList(cap=findings_cap)
    )
    folder, report.district = folder_district(path, inbox, places)
    if folder is not None and report.district is None:
        report.add(
            "unknown_folder",
            F.CRITICAL,
            f"提交文件夹「{folder}」不是本市区县，请放入本区县的文件夹",
            f"folder {folder!r} is not a known district",
        )
    head = _head_records(path, encoding)
    layout = find_table([Sheet(path.stem, [list(r) for r in head])], list(contracts.values()))
    if layout is None:
        raise NotStreamable("no known header in the first records")
    contract = layout.contract
    suite_json = _suite(contract)
    start_table(report, layout)
    report.source_sheets = []  # the head only: receipts of streamed files carry no copy of the table
    title = title_text(layout)
    converter = table_converter(report, layout, places, title)
    converter.nul_check = _holds_nul(path)
    converter.datetime64 = contract.derive_keeps_datetime64 and contract.derive is not None
    header_critical = any(f.severity == F.CRITICAL for f in report.findings)
    unique = [(i, e) for i, e in enumerate(suite_json["expectations"]) if e["type"] in UNIQUE_EXPECTATIONS]
    chunk_suite = {
        **suite_json,
        "expectations": [e for e in suite_json["expectations"] if e["type"] not in UNIQUE_EXPECTATIONS],
    }
    chunk_index = [i for i, e in enumerate(suite_json["expectations"]) if e["type"] not in UNIQUE_EXPECTATIONS]
    key_columns = list(dict.fromkeys(c for _, e in unique for c in _expectation_columns(e["kwargs"])))
    state = _State()
    facts.start(contract, report.sheet)
    hint = period_override
    for chunk in _chunks(path, encoding, head, chunk_rows):
        data_index, totals, footer = _classify(chunk, layout.first_data_row)
        state.totals += totals
        if len(data_index):
            grid = chunk.loc[data_index].reset_index(drop=True)
            frame, groups = convert_rows(report, layout, converter, [int(r) + 1 for r in data_index], grid)
            hint = _chunk(
                report,
                layout,
                contract,
                frame,
                groups,
                state,
                facts,
                places,
                chunk_suite,
                chunk_index,
                key_columns,
                header_critical,
                hint,
                title,
            )
        if footer:
            break
    final_period = _finish(report, layout, contract, state, places, suite_json, unique, title, inbox)
    return report, final_period, hint


def _chunk(
    report,
    layout,
    contract,
    frame,
    groups,
    state,
    facts,
    places,
    chunk_suite,
    chunk_index,
    key_columns,
    header_critical,
    hint,
    title,
):
    chunk_findings: list[Finding] = []
    error_rows: set[int] = set()  # rows of this chunk's row errors, those counted beyond the cap included
    for key, items in groups:
        state.groups.setdefault(key, FindingList(cap=report.findings.cap)).extend(items)
        chunk_findings += items
        error_rows |= items.omitted_error_rows
    column = contract.district_column
    if column in frame:
        state.district_codes |= set(frame[column].dropna())
    if report.district is not None:
        sink = _sink(report)
        sink.frame = frame
        check_district(sink, places)
        state.mismatches += sink.findings
        chunk_findings += sink.findings
    for name, c in layout.columns.items():
        if contract.column(name).kind in ("int", "decimal"):
            state.numbers.setdefault(name, []).append(frame[name])
    if contract.date_column and contract.date_column in frame:
        state.period_keys.update(_period_keys(frame[contract.date_column].dropna(), contract.period_grain))
    if hint is None:  # the period derive is given: the first chunk's (or the title's, the name's)
        hint = (
            _period_of(state.period_keys)
            or period_from_text(title, contract.period_grain)
            or period_from_text(report.path.name, contract.period_grain)
        )
    frame = _derive_chunk(contract, frame, hint)
    state.keys.append(frame[[SOURCE_ROW, *(c for c in key_columns if c in frame.columns)]])
    state.rows += len(frame)
    error_rows |= {f.row for f in chunk_findings if f.severity == F.ERROR and f.row is not None}
    if not header_critical:
        error_rows |= _validate_chunk(report, frame, state, places, chunk_suite, chunk_index, chunk_findings)
    quarantines = contract.row_errors == "quarantine_rows"
    if quarantines and error_rows:
        held = frame[SOURCE_ROW].isin(error_rows)
        state.quarantine.append(frame[held])
        frame = frame[~held]
    state.rejected = (
        state.rejected
        or header_critical
        or any(f.severity == F.CRITICAL or (f.severity == F.ERROR and not quarantines) for f in chunk_findings)
        or any(
            f.severity == F.CRITICAL or (f.severity == F.ERROR and not quarantines)
            for items in state.gx.values()
            for f in items
        )
    )
    rejected_already = state.rejected  # the file will be rejected: no more facts (they would be rolled back)
    key = [c for c in contract.key if c in frame]
    if key and not rejected_already and len(frame):  # a key seen before: the uniqueness rule rejects the file
        values = frame[key[0]].tolist() if len(key) == 1 else list(zip(*(frame[c] for c in key)))
        if len(set(values)) < len(values) or any(v in state.seen_keys for v in values):
            state.duplicate_key = True
        else:
            state.seen_keys.update(values)
    if not rejected_already and not state.duplicate_key and len(frame):  # a rejected file loads nothing
        facts.write(frame)
        state.spooled += len(frame)
    return hint


def _derive_chunk(contract, frame, period: str | None):
    """The contract's derived columns; datetime columns as parse_file has them unless the contract's derive
    keeps them datetime64 (then the converter gave datetime64 columns)."""
    datetime64 = contract.derive_keeps_datetime64
    if contract.derive is not None and len(frame):
        frame = contract.derive(frame, period, keep_datetime64=True) if datetime64 else contract.derive(frame, period)
    if not datetime64:
        for name in [n for n in frame.columns if isinstance(frame[n].dtype, np.dtype) and frame[n].dtype.kind == "M"]:
            frame[name] = datetime_objects(frame[name])  # not rewritten by derive: as parse_file has them
    return frame


def _validate_chunk(report, frame, state, places, chunk_suite, chunk_index, chunk_findings) -> set[int]:
    """Run the suite on one chunk; its findings go to ``state.gx`` by expectation. Returns the rows of its
    row errors, those counted beyond the cap included."""
    from etl.ingest.validate.suite import add_findings, cells_with_findings, failed_in, run_suite

    error_rows: set[int] = set()
    # the suite's columns only: GX filters (takes) the whole frame for every expectation
    columns = [SOURCE_ROW, *(c for c in suite_columns(chunk_suite) if c in frame.columns)]
    result = run_suite(frame[columns], chunk_suite, places)
    state.results.append(result)
    already = cells_with_findings([*report.findings, *chunk_findings], report.sheet)
    by_type = _suite_positions(chunk_suite, result, chunk_index)
    for position, item in zip(by_type, result.results, strict=True):
        if not failed_in(item, frame.columns):
            continue
        sink = _sink(report)
        add_findings(sink, item.expectation_config, item.result or {}, already)
        gx_findings = state.gx.setdefault(position, FindingList(cap=report.findings.cap))
        for finding in sink.findings:
            if finding.row is None:
                state.gx_plain.setdefault(position, finding)
            else:
                gx_findings.append(finding)
                if finding.severity == F.ERROR:
                    error_rows.add(finding.row)
        for (rule, severity), n in sink.findings.omitted.items():
            gx_findings.count_omitted(rule, severity, None, n)
        error_rows |= sink.findings.omitted_error_rows
        gx_findings.omitted_error_rows |= sink.findings.omitted_error_rows
        gx_findings.omitted_error_places |= sink.findings.omitted_error_places
    trim_unexpected(result, report.findings.cap)  # kept until the end for Data Docs: bounded
    return error_rows


def _finish(report, layout, contract, state, places, suite_json, unique, title, inbox) -> str | None:
    from etl.ingest.validate.suite import add_findings, cells_with_findings, failed_in, run_suite

    report.total_rows = [{"row": r + 1, "cells": cells} for r, cells in state.totals]
    report.rows_total = state.rows
    if not state.rows:
        report.add("no_data", F.CRITICAL, "表头下方没有数据行", "the table has no data rows")
    for _key, items in sorted(state.groups.items(), key=lambda item: item[0]):
        report.findings.extend(items)
    if report.district is None and folder_district(report.path, inbox, places)[0] is None:
        sink = _sink(report)
        sink.frame = (
            pd.DataFrame({contract.district_column: list(state.district_codes)})
            if state.district_codes
            else pd.DataFrame({contract.district_column: pd.Series([], dtype=object)})
        )
        district_from_content(sink, places)
        report.district = sink.district
        report.findings += sink.findings
    report.findings += state.mismatches
    if state.totals:
        sink = _sink(report)
        sink.frame = pd.DataFrame({name: pd.concat(parts, ignore_index=True) for name, parts in state.numbers.items()})
        sink.frame = sink.frame if len(sink.frame.columns) else pd.DataFrame(index=range(state.rows))
        check_totals(sink, layout, state.totals)
        report.findings += sink.findings
    period = (
        _period_of(state.period_keys)
        or period_from_text(title, contract.period_grain)
        or period_from_text(report.path.name, contract.period_grain)
    )
    report.period = period
    if period is None:
        example = {"quarter": "2021Q4", "month": "2022-03", "day": "2021-07-29"}[contract.period_grain]
        report.add(
            "unknown_period",
            F.CRITICAL,
            f"无法确定报表所属期间，请在标题或文件名中注明（例如 {example}）",
            "cannot tell the reporting period from data, title or file name",
        )
    report.quarantine = pd.concat(state.quarantine, ignore_index=True) if state.quarantine else None
    if any(f.severity == F.CRITICAL for f in report.findings) or not state.results:
        return period  # the whole-file path validates only files it could read without critical findings
    keys = pd.concat(state.keys, ignore_index=True)
    unique_results = {}
    if unique:
        unique_suite = {**suite_json, "expectations": [e for _, e in unique]}
        result = run_suite(keys, unique_suite, places)
        unique_results = dict(
            zip(_suite_positions(unique_suite, result, [i for i, _ in unique]), result.results, strict=True)
        )
    already = cells_with_findings(report.findings, report.sheet)
    merged = merge_results(suite_json, state.results, unique_results)
    for item, position in zip(merged.results, _order(suite_json), strict=True):
        if position in unique_results:
            if failed_in(item, list(keys.columns)):
                add_findings(report, item.expectation_config, item.result or {}, already)
            continue
        if position in state.gx_plain:
            report.findings.append(state.gx_plain[position])
        report.findings += state.gx.get(position, [])
    report.gx_merged = (suite_json, merged)
    return period


def _record_docs_of(report: StreamedReport, docs, background: bool) -> None:
    """The merged GX result into Data Docs (only for a file it was computed for: none with critical
    findings), now or by a thread."""
    from etl.ingest.validate.suite import ValidationOutcome, record_docs

    if docs is None or report.gx_merged is None:
        return
    suite_json, merged = report.gx_merged
    if not background:
        report.docs_page = record_docs(docs, report, suite_json, merged)
        return
    outcome = ValidationOutcome(suite_json["name"], bool(merged.success), len(merged.results), gx_result=merged)
    outcome.start_docs(lambda: record_docs(docs, report, suite_json, merged))
    report.docs_page = outcome.wait_docs


def _sink(report: ParsedReport) -> ParsedReport:
    """A ParsedReport that collects findings worded and located exactly as ``report``'s would be."""
    return ParsedReport(
        report.path,
        contract=report.contract,
        sheet=report.sheet,
        district=report.district,
        header_cells=report.header_cells,
        findings=FindingList(cap=report.findings.cap),
    )


def _suite(contract: ReportContract) -> dict:
    from etl.ingest.validate.suite import load_suite_json

    suite_json = load_suite_json(contract.suite_name)
    if contract.history_columns:
        raise NotStreamable("its rules compare rows with the street's history")
    for expectation in suite_json["expectations"]:
        kind, kwargs = expectation["type"], expectation["kwargs"]
        if kind in UNIQUE_EXPECTATIONS:
            if (
                contract.row_errors == "quarantine_rows"
                and expectation.get("meta", {}).get("severity", F.ERROR) == F.ERROR
            ):
                raise NotStreamable("a uniqueness rule of severity error would quarantine rows")
        elif kind not in ROW_EXPECTATIONS or "mostly" in kwargs:
            raise NotStreamable(f"{kind} is not a row-by-row rule")
    return suite_json


def suite_columns(suite_json: dict) -> list[str]:
    """Every column the suite's expectations name (row conditions included), in order of appearance."""
    import re

    names = []
    for expectation in suite_json["expectations"]:
        kwargs = expectation["kwargs"]
        names += _expectation_columns(kwargs)
        if kwargs.get("row_condition"):
            names += re.findall(r"[A-Za-z_][A-Za-z0-9_]*", kwargs["row_condition"])
    return list(dict.fromkeys(names))


def _expectation_columns(kwargs: dict) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + list(kwargs.get("column_list", []))


def _order(suite_json: dict) -> list[int]:
    """The suite's expectations in the order GX reports them (grouped by column, first appearance first,
    as its validator's process_expectations_for_validation does)."""
    groups: dict[str, list[int]] = {}
    for i, expectation in enumerate(suite_json["expectations"]):
        column = expectation["kwargs"].get("column")
        groups.setdefault(column if isinstance(column, str) else "\x00nocolumn", []).append(i)
    return [i for group in groups.values() for i in group]


def _suite_positions(suite_json: dict, result, positions: list[int]) -> list[int]:
    """For each item of ``result`` (validated with ``suite_json``, a part of the file's suite whose
    expectations are ``positions`` there), its position in the file's suite."""
    order = [positions[i] for i in _order(suite_json)]
    types = [item.expectation_config.type for item in result.results]
    expected = [suite_json["expectations"][i]["type"] for i in _order(suite_json)]
    if types != expected:  # GX changed how it orders results: match by type and kwargs instead
        raise RuntimeError(f"unexpected GX result order: {types} != {expected}")
    return order


def merge_results(suite_json: dict, results: list, unique_results: dict):
    """One ExpectationSuiteValidationResult for the file from the chunks' results (and the uniqueness
    results over all rows), in the order GX reports the whole suite."""
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.expectations.expectation import _format_map_output

    from etl.ingest.validate.suite import RESULT_FORMAT

    chunk_suite = {
        **suite_json,
        "expectations": [e for e in suite_json["expectations"] if e["type"] not in UNIQUE_EXPECTATIONS],
    }
    chunk_positions = [i for i, e in enumerate(suite_json["expectations"]) if e["type"] not in UNIQUE_EXPECTATIONS]
    per_position: dict[int, list] = {}
    for result in results:
        for position, item in zip(_suite_positions(chunk_suite, result, chunk_positions), result.results, strict=True):
            per_position.setdefault(position, []).append(item)
    format_ = {
        "result_format": "COMPLETE",
        "partial_unexpected_count": 20,
        "include_unexpected_rows": False,
        **{k: v for k, v in RESULT_FORMAT.items() if k != "result_format"},
    }
    items = []
    for position in _order(suite_json):
        if position in unique_results:
            items.append(unique_results[position])
            continue
        parts = per_position[position]
        item = parts[0]
        if len(parts) > 1:
            item = _merge_item(parts, format_, _format_map_output)
        items.append(item)
    first = results[0]
    successful = sum(1 for item in items if item.success)
    statistics = {
        "evaluated_expectations": len(items),
        "successful_expectations": successful,
        "unsuccessful_expectations": len(items) - successful,
        "success_percent": successful / len(items) * 100 if items else None,
    }
    return ExpectationSuiteValidationResult(
        success=all(item.success for item in items),
        results=items,
        suite_name=first.suite_name,
        suite_parameters=first.suite_parameters,
        statistics=statistics,
        meta=first.meta,
    )


def trim_unexpected(result, cap: int) -> None:
    """Cut each expectation's lists of unexpected values and rows to ``cap`` entries (the counts stay):
    a streamed file keeps every chunk's result until its end, for the merged Data Docs page."""
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


def _merge_item(parts: list, format_: dict, format_map_output):
    import copy as copy_module

    item = copy_module.copy(parts[0])
    failed = [p for p in parts if p.exception_info and p.exception_info.get("raised_exception")]
    if failed:
        item.success, item.exception_info, item.result = False, failed[0].exception_info, failed[0].result
        return item
    results = [p.result or {} for p in parts]
    if not all("element_count" in r for r in results):  # not a map result (expect_column_to_exist)
        item.success = all(p.success for p in parts)
        return item
    element = sum(r["element_count"] for r in results)
    has_missing = all("missing_count" in r for r in results)
    nonnull = element - sum(r["missing_count"] for r in results) if has_missing else None
    unexpected = sum(r["unexpected_count"] or 0 for r in results)
    # each chunk's lists were trimmed (trim_unexpected): at most cap entries per chunk
    unexpected_list = list(itertools.chain.from_iterable(r.get("unexpected_list") or [] for r in results))
    index_list = list(itertools.chain.from_iterable(r.get("unexpected_index_list") or [] for r in results))
    success = all(p.success for p in parts)
    merged = format_map_output(
        format_,
        success,
        element,
        nonnull,
        unexpected,
        unexpected_list,
        index_list,
        None,
        results[0].get("unexpected_index_column_names"),
    )
    merged["result"]["unexpected_list"] = unexpected_list
    merged["result"]["unexpected_index_list"] = index_list
    item.success, item.result = success, merged["result"]
    return item


def _head_records(path: Path, encoding: str) -> list[list[str]]:
    """The first records, with the csv module's field size limit (``Limits.max_field_bytes``'s default):
    a longer field sends the file to the whole-file path, whose limits reject it with the reason."""
    try:
        with path.open("r", encoding=encoding, newline="") as handle:
            return [list(r) for r in itertools.islice(csv.reader(handle), HEAD_RECORDS)]
    except csv.Error as exc:
        raise NotStreamable(f"the head records are not plain CSV: {exc}") from exc


def _chunks(path: Path, encoding: str, head: list[list[str]], chunk_rows: int):
    """The file's records as DataFrames of text cells ("" where a record is short), positional columns,
    index = record number from 0. The first records must be the csv module's (``head``)."""
    width = max((len(r) for r in head), default=1)
    reader = pd.read_csv(
        path,
        sep=",",
        header=None,
        names=list(range(width)),
        index_col=False,
        dtype=object,
        na_filter=False,
        keep_default_na=False,
        skip_blank_lines=False,
        encoding=encoding,
        encoding_errors="strict",
        quotechar='"',
        doublequote=True,
        escapechar=None,
        skipinitialspace=False,
        quoting=csv.QUOTE_MINIMAL,
        engine="c",
        chunksize=chunk_rows,
    )
    checked = False
    first = max(1, min(chunk_rows, FIRST_CHUNK_ROWS))  # a small first chunk: the database starts sooner
    try:
        while True:
            try:
                chunk = reader.get_chunk(first if not checked else chunk_rows)
            except StopIteration:
                break
            if chunk.isna().to_numpy().any():
                chunk = chunk.fillna("")
            if not checked:
                compare = chunk.iloc[: len(head)].to_numpy(dtype=object).tolist()
                padded = [r + [""] * (width - len(r)) for r in head]
                if compare != padded[: len(compare)]:
                    raise NotStreamable("pandas and the csv module read the first records differently")
                checked = True
            yield chunk
    except pd.errors.ParserError as exc:
        raise NotStreamable(f"a record wider than the head: {exc}") from exc
    finally:
        reader.close()


def _classify(chunk: pd.DataFrame, first_data_row: int) -> tuple[np.ndarray, list, bool]:
    """``etl.ingest.parse.layout.data_rows`` for one chunk: (record numbers of the data rows, 合计 rows, whether a
    footer row ended the table here)."""
    chunk = chunk[chunk.index >= first_data_row]
    if not len(chunk):
        return np.empty(0, dtype=np.int64), [], False
    values = chunk.to_numpy(dtype=object)
    data, totals, footer = classify_array(values)
    index = chunk.index.to_numpy()
    return index[data], [(int(index[p]), values[p].tolist()) for p in totals], footer is not None


def _period_keys(dates: pd.Series, grain: str) -> Counter:
    """``etl.reference.periods.period_from_dates``'s keys, counted (vectorised for months and quarters)."""
    if not len(dates):
        return Counter()
    if isinstance(dates.dtype, np.dtype) and dates.dtype.kind == "M":
        if grain == "day":  # the keys of datetime objects: their isoformat
            return Counter(d.isoformat() for d in dates.dt.to_pydatetime())
        stamps = dates
    elif grain == "day":
        return Counter(d.isoformat() for d in dates)
    else:
        try:
            stamps = pd.to_datetime(pd.Series(dates.to_numpy(dtype=object), dtype=object))
        except (ValueError, TypeError, OverflowError):
            stamps = None
    if stamps is None or not (isinstance(stamps.dtype, np.dtype) and stamps.dtype.kind == "M"):
        return Counter(f"{d.year}-{d.month:02d}" if grain == "month" else quarter_of(d) for d in dates)
    years, months = stamps.dt.year.to_numpy(), stamps.dt.month.to_numpy()
    if grain == "month":
        codes = pd.Series(years * 100 + months).value_counts()
        return Counter({f"{code // 100}-{code % 100:02d}": int(n) for code, n in codes.items()})
    codes = pd.Series(years * 10 + (months - 1) // 3 + 1).value_counts()
    return Counter({f"{code // 10}Q{code % 10}": int(n) for code, n in codes.items()})


def _period_of(keys: Counter) -> str | None:
    if not keys:
        return None
    return max(keys, key=lambda k: (keys[k], k))
