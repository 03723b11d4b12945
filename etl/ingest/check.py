"""Check one file: read → parse → validate → its facts to the load's sink, the same steps for every file.

Reading yields chunks: a workbook (or a small CSV, an HTML export…) is read whole in a child process
(etl.ingest.read.isolated) and each table of it is one chunk; a large CSV export is read in chunks
(etl.ingest.read.csv_chunks), so that a million rows never sit in memory at once. Either way each chunk is
typed and checked by ``TableParse``, validated by ``SuiteRun`` and its facts — less the rows its row
errors quarantine — go to the load's sink (etl.ingest.load.sinks): ``LoadCheck.check_chunk``. What needs
every row runs once at the end (``TableParse.finish``, ``SuiteRun.finish``); for one chunk there is
nothing to merge. ``etl.ingest.load.record.record`` then records each load in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl.config import Settings
from etl.contracts import CONTRACTS, ReportContract
from etl.ingest import findings as F
from etl.ingest.findings import FindingList
from etl.ingest.load.sinks import FactSink, KeptFrames, LiveCopy, Spool
from etl.ingest.parse.layout import TableLayout, chunk_data_rows, find_table
from etl.ingest.parse.tables import ParsedReport, TableParse, folder_district, parse_file, rows_at
from etl.ingest.read import csv_chunks, text_literals
from etl.ingest.read.csv_chunks import ReadWhole
from etl.ingest.read.readers import Sheet, other_delimiters
from etl.ingest.validate.suite import SuiteRun, chunkable_suite
from etl.reference.places import Places, default_places

log = logging.getLogger(__name__)


class LoadCheck:
    """One load's chunks validated and their facts written: what the chunks of a load share."""

    def __init__(self, report: ParsedReport, sink: FactSink, run: SuiteRun | None):
        self.report, self.sink, self.run = report, sink, run
        self.contract: ReportContract = report.contract
        self.quarantines = self.contract.row_errors == "quarantine_rows"
        self.held: list[pd.DataFrame] = []  # rows held back by their row errors, with their values
        self.seen_keys: set = set()  # the fact table's key of every row written
        self.stopped = False  # the load will be rejected, or a key repeats: no more facts are written
        sink.start(self.contract, report.sheet)

    def check_chunk(self, frame: pd.DataFrame, found: FindingList) -> None:
        """Validate one chunk (``found``: its findings so far, parsing's) and write its facts. Where row
        errors reject the file, the facts are written first (on PostgreSQL the server checks them while GX
        runs) and rolled back if the file is rejected; where they quarantine rows, after, without those rows."""
        if not self.quarantines:
            self.stopped = self.stopped or self._rejects(found) or self._repeats_a_key(frame)
            if not self.stopped and len(frame):
                self.sink.write(frame)
            if self.run is not None:
                self.run.check(frame, found)
            return
        errors = found.error_places(self.report.sheet)
        if self.run is not None:
            errors |= self.run.check(frame, found)
        if errors:
            held = rows_at(frame, self.report.sheet, errors)
            if held.any():
                self.held.append(frame[held])
                frame = frame[~held]
        self.stopped = (
            self.stopped
            or self._rejects(found)
            or (self.run is not None and any(self._rejects(items) for items in self.run.gx.values()))
            or self._repeats_a_key(frame)
        )
        if not self.stopped and len(frame):
            self.sink.write(frame)

    def _rejects(self, findings) -> bool:
        return any(f.severity == F.CRITICAL or (f.severity == F.ERROR and not self.quarantines) for f in findings)

    def _repeats_a_key(self, frame: pd.DataFrame) -> bool:
        """Whether a row repeats the fact table's key of a row written before (or of this chunk): the
        uniqueness rule rejects the file, and COPY would fail on the primary key."""
        key = [c for c in self.contract.key if c in frame]
        if not key or not len(frame):
            return False
        values = frame[key[0]].tolist() if len(key) == 1 else list(zip(*(frame[c] for c in key)))
        keys = set(values)
        if len(keys) < len(values) or not self.seen_keys.isdisjoint(keys):
            return True
        self.seen_keys |= keys
        return False

    def done(self) -> None:
        """The held-back rows on the report (the load records those its findings quarantine)."""
        self.report.quarantine = pd.concat(self.held, ignore_index=True) if self.held else None


@dataclass
class CheckedFile:
    """A file checked: its report (``report.parts``: a load per period), each load's facts waiting in a
    sink (None: nothing to load), and its Data Docs page — or, when written by a thread, ``docs_page()``
    waits for it."""

    report: ParsedReport
    sinks: list[FactSink | None]
    docs: list = field(default_factory=list)  # each validated load's ValidationOutcome
    background_docs: bool = False

    def docs_page(self) -> str | None:
        """The file's Data Docs page (its first load's), once every load's page is written."""
        pages = [outcome.wait_docs() if self.background_docs else outcome.docs_page for outcome in self.docs]
        return pages[0] if pages else None

    def close(self) -> None:
        for sink in self.sinks:
            if sink is not None:
                sink.close()


def check_file(
    path: Path,
    settings: Settings,
    engine,
    run_id: str | None = None,
    meta=None,
    background_docs: bool = False,
    inbox_root: Path | None = None,
    scratch_dir: Path | None = None,
) -> CheckedFile:
    """Read, parse and validate ``path`` (its suite's result kept in Data Docs, the rules that need history
    applied), each load's facts in a sink for ``record``. With ``background_docs`` the Data Docs pages are
    written by a thread while the file is loaded. On PostgreSQL, given ``meta``, a load's transaction may be
    opened here (``LiveCopy``): ``record`` finishes it, ``CheckedFile.close`` rolls back what it did not.
    ``inbox_root``: the folder whose subfolders name districts (default the inbox); ``scratch_dir``: where a
    large file's facts wait for the load (default ``inbox_root``'s folder)."""
    from etl.ingest.validate.data_docs import DataDocs

    inbox_root = inbox_root or settings.inbox
    docs = DataDocs.from_settings(settings, run_id, index=False)
    live = meta is not None and engine.dialect.name == "postgresql"
    encoding = csv_chunks.text_encoding(path)
    if encoding is not None:
        sink = LiveCopy(engine, meta, **LiveCopy.STREAM) if live else Spool(scratch_dir or inbox_root.parent)
        try:
            report, sink, outcome = check_in_chunks(
                path,
                inbox_root,
                encoding,
                sink,
                docs=docs,
                background_docs=background_docs,
                findings_cap=settings.limits.max_findings_per_rule,
            )
            return CheckedFile(report, [sink], [outcome] if outcome else [], background_docs)
        except ReadWhole as exc:
            log.info("%s is read whole: %s", path.name, exc)
    report = parse_file(path, inbox=inbox_root, limits=settings.limits)
    checked = CheckedFile(report, [], [], background_docs)
    try:
        for part in report.parts:  # a load per period of the workbook's data sheets: each validated on its own
            if part.frame is None or any(f.severity == F.CRITICAL for f in part.findings):
                checked.sinks.append(None)  # not validated, nothing loaded
                continue
            one_sheet = len(report.parts) == 1 and len(part.sheet_names) == 1
            sink = LiveCopy(engine, meta, **LiveCopy.WHOLE_FRAME) if live and one_sheet else KeptFrames()
            checked.sinks.append(sink)
            checked.docs.append(check_whole(part, sink, engine, docs, background_docs))
    except BaseException:
        checked.close()
        raise
    return checked


def check_whole(part: ParsedReport, sink: FactSink, engine, docs=None, background_docs: bool = False):
    """A load read whole: one chunk, then the rules that need history. Returns the validation outcome."""
    from etl.ingest.validate.outliers import flag_outliers

    load = LoadCheck(part, sink, SuiteRun(part))
    load.check_chunk(part.frame, part.findings)
    outcome = load.run.finish(docs, background_docs)
    flag_outliers(part, engine)
    load.done()
    return outcome


def check_in_chunks(
    path: Path,
    inbox: Path | None,
    encoding: str,
    sink: FactSink | None = None,
    places: Places | None = None,
    contracts: dict[str, ReportContract] = CONTRACTS,
    chunk_rows: int | None = None,
    docs=None,
    background_docs: bool = False,
    findings_cap: int = F.MAX_PER_RULE,
):
    """A large CSV read, parsed, validated and written to ``sink`` (default a ``Spool``) chunk by chunk.
    Returns the report, the sink and the validation outcome (None when the file has critical findings:
    such a file is not validated). Raises ``ReadWhole`` (after closing the sink) when the file is to be read whole.
    A period other than the first chunk's (which derive was given) means a second pass with the file's."""
    places = places or default_places()
    sink = sink if sink is not None else Spool()
    period = None
    try:
        for _attempt in range(2):
            report, table, load = _read_chunks(
                path,
                inbox,
                encoding,
                places,
                contracts,
                chunk_rows or csv_chunks.CHUNK_ROWS,
                sink,
                period,
                findings_cap,
            )
            final = table.finish()
            if final == table.period_hint or table.contract.derive is None or period is not None:
                break
            period = final  # derive was given the first chunk's period, the file's is another: again
        outcome = None
        if load.run.results and not any(f.severity == F.CRITICAL for f in report.findings):
            outcome = load.run.finish(docs, background_docs)
        load.done()
    except BaseException:
        sink.close()
        raise
    return report, sink, outcome


def _head_where_the_header_is(path, encoding, contracts) -> tuple[str, list[list[str]], TableLayout]:
    """The delimiter, the first records split on it and their table: the delimiter the first records
    suggest, or else the first other one under which a complete header is found (as the whole-file
    parse decides, etl.ingest.parse.tables: a split whose first records cannot be read, a quote left
    open, is not the file's); ReadWhole when no header is found at all."""
    judged = csv_chunks.file_delimiter(path, encoding)
    first, unread = None, None
    for delimiter in (judged, *other_delimiters(judged)):
        try:
            head = csv_chunks.head_records(path, encoding, delimiter)
        except ReadWhole as exc:
            unread = unread or exc
            continue
        rows = text_literals.unwrap_rows([list(r) for r in head])  # as the chunks will be: ="工单编号" is 工单编号
        layout = find_table([Sheet(path.stem, rows, delimiter=delimiter)], contracts)
        if layout is not None and not layout.missing_required:
            return delimiter, head, layout
        if first is None and layout is not None:  # an incomplete header: its findings, if no other is complete
            first = delimiter, head, layout
    if first is None:
        raise unread or ReadWhole("no known header in the first records")
    return first


def _read_chunks(path, inbox, encoding, places, contracts, chunk_rows, sink, period, findings_cap):
    report = ParsedReport(path, findings=FindingList(cap=findings_cap))
    folder, report.district = folder_district(path, inbox, places)
    if folder is not None and report.district is None:
        report.add(
            "unknown_folder",
            F.CRITICAL,
            f"提交文件夹「{folder}」不是本市区县，请放入本区县的文件夹",
            f"folder {folder!r} is not a known district",
        )
    delimiter, head, layout = _head_where_the_header_is(path, encoding, list(contracts.values()))
    chunkable_suite(layout.contract)
    held = csv_chunks.bytes_held(path, (csv_chunks.NUL, *text_literals.marks(encoding)))  # one pass over the bytes
    table = TableParse(
        report,
        layout,
        places,
        inbox,
        keep_datetime64=True,
        nul_check=csv_chunks.NUL in held,
        period_hint=period,
    )
    report.source_sheets = []  # the head only: receipts of files read in chunks carry no copy of the table
    header_critical = any(f.severity == F.CRITICAL for f in report.findings)
    load = LoadCheck(report, sink, SuiteRun(report, places, whole=False))
    literals = not held.isdisjoint(text_literals.marks(encoding))
    for chunk in csv_chunks.record_chunks(path, encoding, head, chunk_rows, delimiter):
        if literals:
            chunk = text_literals.unwrap_chunk(chunk)
        records, totals, footer, repeats = chunk_data_rows(chunk, layout)
        table.header_repeats += repeats
        if len(records):
            every_row = len(records) == len(chunk) and (records == chunk.index.to_numpy()).all()
            grid = (chunk if every_row else chunk.loc[records]).reset_index(drop=True)  # the usual chunk: no copy
            frame, found = table.add_chunk(records, grid, totals)
            if header_critical:  # the whole-file path validates no file with critical findings
                load.stopped = True
                continue
            load.check_chunk(frame, found)
        else:
            table.totals += totals
        if footer:
            break
    return report, table, load
