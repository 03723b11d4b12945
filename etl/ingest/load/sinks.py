"""Where a load's facts go while its file is checked, and how the load's one transaction takes them.

Every file's facts take the same road: the checking step (``etl.ingest.check``) writes each chunk's facts
that may be loaded (quarantined rows held back) to the load's sink; ``etl.ingest.load.record.record``
opens the load transaction (``begin``), writes the audit row and findings, and asks the sink to put the
facts into the fact table (``finish``: all of them, or none when the load is rejected). Three sinks:

* ``KeptFrames`` — the frames in memory, inserted when the load is recorded (COPY on PostgreSQL,
  executemany elsewhere): a workbook, whose rows are in memory anyway.
* ``Spool`` — a temporary file of pickled frames, inserted when the load is recorded: a large CSV on
  SQLite, whose rows must not stay in memory.
* ``LiveCopy`` — PostgreSQL: the load's transaction opened before the first chunk (audit row first, with
  a provisional status, for its load_id) and the facts COPYed under a savepoint by a worker thread while
  the next chunk is parsed and validated; ``finish`` waits for the last statement and releases the
  savepoint (or rolls it back). A process that dies midway leaves nothing.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import queue
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from etl.contracts import ReportContract
from etl.ingest.parse.frames import datetime_objects
from etl.ingest.parse.tables import APPROXIMATE, SOURCE_ROW, SOURCE_SHEET
from etl.statuses import REJECTED
from etl.warehouse import summaries
from etl.warehouse.copy_format import copy_block, copy_texts
from etl.warehouse.engine import copy_statement, fact_column_names, insert_facts

log = logging.getLogger(__name__)


class FactSink:
    """The interface: ``start`` (once per pass over the file; a second pass forgets the first), ``write``
    (a chunk's facts), ``begin`` (the load's transaction), ``finish`` (the facts into the fact table, inside
    that transaction), ``close`` (give everything back; idempotent)."""

    holds_transaction = False  # True: the load's transaction is the sink's own (opened by ``start``)
    count = 0
    tally: summaries.Tally | None = None  # the summaries of the facts written so far

    def start(self, contract: ReportContract, sheet: str | None) -> None:
        self.contract, self.sheet, self.count = contract, sheet, 0
        # a file of no known report type (unreadable, unrecognised) has no facts to tally
        self.tally = summaries.Tally(contract.report_type, SOURCE_ROW) if contract is not None else None

    def write(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def begin(self, engine):
        """(connection, transaction, load_id of the provisional audit row or None) of the load."""
        conn = engine.connect()
        return conn, conn.begin(), None

    def finish(self, conn, load_id: int, sha256: str, loaded: bool) -> int:
        """Insert the facts (when ``loaded``) inside the caller's transaction; returns how many."""
        if not loaded:
            return 0
        count = 0
        for frame in self.frames():
            count += insert_frame(conn, self.contract, frame, load_id, sha256, self.sheet)
        return count

    def frames(self):
        return iter(())

    def close(self) -> None:
        pass


def insert_frame(conn, contract: ReportContract, frame: pd.DataFrame, load_id: int, sha256: str, sheet) -> int:
    """Insert one frame of facts: COPY text built column-wise on PostgreSQL, executemany elsewhere; each
    fact with its lineage (load, file, sheet — per row in a table read from several sheets — and row)."""
    columns = fact_column_names(contract)
    if conn.dialect.name == "postgresql":
        by_sheet = frame.groupby(SOURCE_SHEET, sort=False) if SOURCE_SHEET in frame else [(sheet, frame)]
        blocks = [
            fact_copy_block(rows, contract, lineage_fields(load_id, sha256, sheet_name))
            for sheet_name, rows in by_sheet
        ]
        insert_facts(conn, contract, columns, blocks)
        return len(frame)
    data = {
        "load_id": [load_id] * len(frame),
        "source_sha256": [sha256] * len(frame),
        "source_sheet": frame[SOURCE_SHEET].tolist() if SOURCE_SHEET in frame else [sheet] * len(frame),
        "source_row": frame[SOURCE_ROW].tolist(),
        "approximate_cols": frame[APPROXIMATE].tolist(),
    }
    for name in (c.name for c in contract.fact_columns):
        data[name] = cells(frame[name]) if name in frame else [None] * len(frame)
    rows = list(zip(*(map(driver_value, data[c]) for c in columns), strict=True))
    insert_facts(conn, contract, columns, rows)
    return len(rows)


def cells(values: pd.Series) -> list:
    """A column's values for the database driver (datetime64 as datetime objects, NaT as None)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        return datetime_objects(values).tolist()
    return values.tolist()


def driver_value(value: object) -> object:
    """pandas/numpy scalars → plain Python values the DB drivers accept (NA → None)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def fact_copy_block(frame: pd.DataFrame, contract, lineage: str) -> bytes:
    """COPY text of the facts in ``frame``: the lineage constants (``lineage_fields``), source row, the
    contract's fact columns (NULL where the file had no such column), approximate_cols."""
    null = pd.Series(None, index=frame.index, dtype=object)
    columns = [frame[SOURCE_ROW]]
    columns += [frame[c.name] if c.name in frame else null for c in contract.fact_columns]
    columns.append(frame[APPROXIMATE])
    return copy_block(columns, lead=lineage)


def lineage_fields(load_id: int, sha256: str, sheet: str | None) -> str:
    """The first three COPY fields of every fact line: load_id, source_sha256, source_sheet."""
    return f"{load_id}\t{sha256}\t{copy_texts(pd.Series([sheet], dtype=object))[0]}"


class KeptFrames(FactSink):
    """The facts in memory until the load is recorded."""

    def start(self, contract: ReportContract, sheet: str | None) -> None:
        super().start(contract, sheet)
        self.kept: list[pd.DataFrame] = []

    @classmethod
    def of(cls, report) -> KeptFrames:
        """A sink holding ``report``'s frame less its quarantined rows: a report recorded as parsed."""
        sink = cls()
        sink.start(report.contract, report.sheet)
        if report.frame is not None and not report.rejected:
            sink.write(report.frame[~report.held_back(report.frame)])
        return sink

    def write(self, frame: pd.DataFrame) -> None:
        self.kept.append(frame)
        self.count += len(frame)
        self.tally.add(frame)

    def frames(self):
        return iter(self.kept)

    def close(self) -> None:
        self.kept = []


class Spool(FactSink):
    """The facts in a temporary file (pickled frames) until the load is recorded. ``directory``: where (the
    pipeline passes the file's claim folder, inside SHARED_DIR; default the system's temporary folder)."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self.path: Path | None = None

    def start(self, contract: ReportContract, sheet: str | None) -> None:
        self.close()
        super().start(contract, sheet)
        self.path = Path(tempfile.mkdtemp(prefix="district-stream-", dir=self.directory)) / "facts.pickle"
        self.path.touch()

    def write(self, frame: pd.DataFrame) -> None:
        with self.path.open("ab") as handle:
            pickle.dump(frame, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += len(frame)
        self.tally.add(frame)

    def frames(self):
        with self.path.open("rb") as handle:
            while True:
                try:
                    yield pickle.load(handle)
                except EOFError:
                    return

    def close(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
            self.path = None


class LiveCopy(FactSink):
    """PostgreSQL: the load's transaction opened by ``start`` (audit row first, with a provisional status,
    for its load_id), facts COPYed under a savepoint by a worker thread while the file is still being read
    and validated, finished by ``etl.ingest.load.record.record``: the savepoint released (or rolled back
    when the file is not loaded), audit row completed, findings and quarantined rows written, one commit.

    Every ``statement_rows`` rows are a COPY statement of their own, and the server checks a statement's
    rows against their load when the statement ends (warehouse_sql/fct_load_reference.postgresql.sql), so a
    single COPY of a million rows would leave all of that to wait for at the end. Statement by statement
    it runs on the other core while this thread goes on. (Formatting the text in this worker instead, or
    in a forked child, was measured slower: the first takes turns with GX for the GIL, the second makes
    both processes copy the pages whose objects' reference counts they touch.) At most ``queued_statements`` wait in
    memory (0: no bound — a workbook's frame is in memory anyway). ``STREAM`` suits a large CSV read in
    chunks, ``WHOLE_FRAME`` a workbook written as one frame while GX validates it."""

    STREAM = {"statement_rows": 20_000, "queued_statements": 10}
    WHOLE_FRAME = {"statement_rows": 5_000, "queued_statements": 0}
    holds_transaction = True

    def __init__(self, engine, meta, statement_rows: int = 20_000, queued_statements: int = 10):
        self.engine, self.meta = engine, meta
        self.statement_rows, self.queued_statements = statement_rows, queued_statements
        self.conn = self.transaction = self.savepoint = None
        self.load_id: int | None = None
        self.error: BaseException | None = None
        self._thread = self._queue = None
        self._abandoned = False

    def start(self, contract: ReportContract, sheet: str | None) -> None:
        from etl.ingest.load.record import audit_row

        if self.conn is None:
            self.conn = self.engine.connect()
            self.transaction = self.conn.begin()
            self.load_id = audit_row(
                self.conn, self.meta, {"status": REJECTED, "report_type": contract.report_type, "sheet_name": sheet}
            )
        else:  # a second pass: forget the first pass's facts
            self.wait()
            self.savepoint.rollback()
        self.savepoint = self.conn.begin_nested()
        super().start(contract, sheet)
        self._lineage = lineage_fields(self.load_id, self.meta.sha256, sheet)

    def write(self, frame: pd.DataFrame) -> None:
        self.raise_error()
        if self._thread is None:
            statement = copy_statement(self.contract, fact_column_names(self.contract))
            self._queue = queue.Queue(maxsize=self.queued_statements)
            self._thread = threading.Thread(target=self._copy_chunks, args=(statement,), name="live-copy", daemon=True)
            self._thread.start()
        for first in range(0, len(frame), self.statement_rows):
            rows = frame.iloc[first : first + self.statement_rows]
            self._queue.put(fact_copy_block(rows, self.contract, self._lineage))
        self.count += len(frame)
        self.tally.add(frame)

    def begin(self, engine):
        return self.conn, self.transaction, self.load_id

    def finish(self, conn, load_id: int, sha256: str, loaded: bool) -> int:
        self.wait()
        if loaded:
            self.savepoint.commit()
            return self.count
        self.savepoint.rollback()  # a rejected file loads no facts
        return 0

    def _copy_chunks(self, statement) -> None:
        """The worker: one COPY per queued statement until None. After an error the rest are dropped (the
        transaction is aborted anyway) and the error is raised again in the caller's thread."""
        cursor = None
        try:
            cursor = self.conn.connection.driver_connection.cursor()
        except BaseException as exc:  # noqa: BLE001 - raised again by raise_error
            self.error = exc
        while (text := self._queue.get()) is not None:  # drained to the end, so a writer never blocks
            if cursor is not None and self.error is None and not self._abandoned:
                try:
                    with cursor.copy(statement) as copy:
                        copy.write(text)
                except BaseException as exc:  # noqa: BLE001 - raised again by raise_error
                    self.error = exc
        if cursor is not None:
            with contextlib.suppress(Exception):
                cursor.close()

    def _stop_worker(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None

    def wait(self) -> None:
        """Wait until the server has every statement written so far."""
        self._stop_worker()
        self.raise_error()

    def raise_error(self) -> None:
        """Raise, in the caller's thread, the error the COPY worker met (wrapped as SQLAlchemy wraps a
        driver error on its own calls)."""
        if self.error is None:
            return
        error, self.error = self.error, None
        import psycopg
        import sqlalchemy as sa

        if isinstance(error, psycopg.Error):
            raise sa.exc.DBAPIError.instance("COPY (facts)", None, error, psycopg.Error) from error
        raise error

    def close(self) -> None:
        """Roll back whatever was not committed and give the connection back."""
        if self.conn is None:
            return
        self._abandoned = True  # statements still queued are not sent
        self._stop_worker()
        self.error = None
        conn, self.conn = self.conn, None
        try:
            if self.transaction is not None and self.transaction.is_active:
                self.transaction.rollback()
        except Exception:  # noqa: BLE001 - a dead connection: PostgreSQL rolled it back already
            log.warning("rollback of an abandoned load failed", exc_info=True)
        finally:
            conn.close()
