"""The per-file job the ingest DAG maps over:
archive → parse → validate → load (one transaction) → receipt → file the original away.

A rejected file is an outcome, not a failure: it is recorded with its findings and the task succeeds.
Only system faults (database down, disk full) raise, so that Airflow retries them; a retry finishes a
file whose load was already committed instead of calling it a duplicate of itself.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from etl import findings as F
from etl import stream
from etl.config import Settings, local_time
from etl.load import FileMeta, find_previous, record_duplicate, record_report
from etl.parse import ParsedReport, parse_file
from etl.receipts import receipt_path, write_receipt
from etl.schema import ensure_schema
from etl.warehouse import get_engine, now

log = logging.getLogger(__name__)

IGNORED_PREFIXES = ("~$", ".", "~")  # Office lock files, hidden files, editor temp files
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".swp")
# A receipt copies the clerk's table (problem cells marked) only up to this many rows; above, it lists every
# finding with its row and cell but carries no copy (see _write_findings_receipt).
RECEIPT_COPY_MAX_ROWS = 50_000


@dataclass
class FileOutcome:
    file: str  # path relative to the inbox
    status: str
    report_type: str | None = None
    district: str | None = None
    period: str | None = None
    rows: int = 0
    critical: int = 0
    errors: int = 0
    warnings: int = 0
    reason_zh: str = ""
    load_id: int | None = None
    receipt: str | None = None
    docs_page: str | None = None  # Data Docs page of the validation, relative to SHARED_DIR

    def as_dict(self) -> dict:
        return asdict(self)


def is_candidate(path: Path) -> bool:
    name = path.name
    return path.is_file() and not name.startswith(IGNORED_PREFIXES) and not name.lower().endswith(IGNORED_SUFFIXES)


def discover(settings: Settings) -> list[str]:
    """Files waiting in the inbox, relative to it, oldest first. Lock and temp files are not ours, and a
    file still being copied in (its size or mtime changes while we watch) is left for the next run."""
    if not settings.inbox.exists():
        return []
    seen = {p: _signature(p) for p in settings.inbox.rglob("*") if is_candidate(p)}
    recent = [p for p, (_, mtime) in seen.items() if time.time() - mtime < settings.settle_seconds]
    if recent:
        time.sleep(settings.settle_seconds)
        for path in recent:
            if not path.exists() or _signature(path) != seen[path]:
                log.info("%s is still changing; left for the next run", path.name)
                del seen[path]
    files = sorted(seen, key=lambda p: (seen[p][1], str(p)))
    return [str(p.relative_to(settings.inbox)) for p in files]


def _signature(path: Path) -> tuple[int, float]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_raw(path: Path, sha256: str, settings: Settings) -> Path:
    """Keep the raw bytes by content hash before anything else happens; never overwrite."""
    target = settings.archive / sha256[:2] / f"{sha256}{path.suffix.lower()}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # a temporary name of this process's own: two runs archiving the same content at once must not
        # move each other's copy away (the second rename then failed)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.incoming")
        shutil.copy2(path, tmp)
        try:
            os.link(tmp, target)  # atomic, and never replaces a file another run archived first
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def unused_path(folder: Path, name: str) -> Path:
    """folder/name, or folder/name with (2), (3)… before the suffix: nothing is ever overwritten."""
    candidate, n = folder / name, 2
    while candidate.exists():
        stem, dot, suffix = name.rpartition(".")
        candidate = folder / (f"{stem}({n}).{suffix}" if dot else f"{name}({n})")
        n += 1
    return candidate


def file_away(path: Path, relative: Path, outcome: FileOutcome, settings: Settings, stamp: str,
              findings: list[F.Finding]) -> Path:
    """Move the original out of the inbox: rejected/<区县>/… (with a 退回原因 note) or processed/<区县>/…"""
    root = settings.rejected if outcome.status == "rejected" else settings.processed
    folder = root / relative.parent
    folder.mkdir(parents=True, exist_ok=True)
    target = unused_path(folder, f"{stamp}_{relative.name}")
    shutil.move(str(path), target)
    if outcome.status == "rejected":
        note = "\r\n".join([f"文件：{relative.name}", f"结果：{outcome.reason_zh}", "",
                            *(f"{f.where_zh}：{f.message_zh}" for f in findings)])
        unused_path(folder, f"{target.name}.退回原因.txt").write_text(note + "\r\n", encoding="utf-8-sig")
    return target


def prepare(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    for folder in (settings.inbox, settings.archive, settings.processed, settings.rejected, settings.receipts):
        folder.mkdir(parents=True, exist_ok=True)
    ensure_schema(get_engine(settings.warehouse_url))


def process_file(relative_path: str, settings: Settings | None = None, run_id: str | None = None,
                 force: bool = False) -> FileOutcome:
    """``force``: process again even if the same bytes were rejected before (rules or references changed);
    content already loaded is still a duplicate."""
    settings = settings or Settings.from_env()
    engine = get_engine(settings.warehouse_url)
    relative = Path(relative_path)
    path = settings.inbox / relative
    if not path.exists():
        return _recorded_outcome(engine, relative_path, run_id)
    started = now()
    stat = path.stat()
    sha256 = sha256_of(path)
    archived = archive_raw(path, sha256, settings)
    meta = FileMeta(file_name=path.name, folder=relative.parts[0] if len(relative.parts) > 1 else None,
                    source_path=str(relative), archive_path=str(archived.relative_to(settings.shared_dir)),
                    sha256=sha256, size_bytes=stat.st_size,
                    received_at=local_time(stat.st_mtime),
                    started_at=started, run_id=run_id)
    with engine.connect() as conn:
        previous = find_previous(conn, sha256, loaded_only=force)
    report = ParsedReport(path)
    if previous is not None and previous["source_path"] == meta.source_path and previous["moved_to"] is None:
        outcome = _recorded_outcome(engine, relative_path, previous["run_id"])  # committed, not filed: finish it
    elif previous is not None:
        load_id = record_duplicate(engine, meta, previous)
        outcome = FileOutcome(relative_path, "duplicate", load_id=load_id,
                              reason_zh=f"与已提交的文件「{previous['file_name']}」内容完全相同，未重复处理")
    else:
        report, docs_page = check_file(path, settings, engine, run_id, meta, background_docs=True)
        try:
            reason_zh, reason_en = summarise_reason(report)
            load_id, status = record_report(engine, meta, report, reason_zh, reason_en)
        finally:
            if callable(docs_page):
                docs_page()  # the Data Docs thread has written its page (it ran during the load)
            if report.live is not None:
                report.live.close()  # committed by record_report, else rolled back (the task is retried)
            if report.streamed:
                report.discard()  # the spooled facts are in the warehouse (or the load failed and is retried)
        outcome = _outcome(relative_path, status, load_id, report, reason_zh)
        outcome.docs_page = docs_page() if callable(docs_page) else docs_page
    receipt = _write_receipt(path, meta, report, outcome, settings)
    outcome.receipt = str(receipt.relative_to(settings.shared_dir))
    try:
        moved = file_away(path, relative, outcome, settings, started.strftime("%Y%m%dT%H%M%S"), report.findings)
        moved_to = str(moved.relative_to(settings.shared_dir))
    except FileNotFoundError:  # an overlapping run filed the same file away first
        moved_to = None
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE stg_file_load SET moved_to = :m, receipt_path = :r, "
                             "docs_page = COALESCE(:d, docs_page) WHERE load_id = :id"),
                     {"m": moved_to, "r": outcome.receipt, "d": outcome.docs_page, "id": outcome.load_id})
    log.info("%s → %s (%s)", relative_path, outcome.status, outcome.reason_zh)
    return outcome


def check_file(path: Path, settings: Settings, engine, run_id: str | None = None,
               meta: FileMeta | None = None, background_docs: bool = False) -> tuple[ParsedReport, str | None]:
    """Parse, then the suite (its result kept in Data Docs) and the rules that need history; a file that
    cannot be read stops at parsing. Returns the report and its Data Docs page.

    A large CSV export (etl.stream) is read, validated and loaded chunk by chunk instead: on PostgreSQL,
    given ``meta``, its load transaction is opened here and ``record_report`` finishes it.

    With ``background_docs`` the Data Docs page is written by a thread while the file is loaded and the
    second value is a function that waits for it and returns the page."""
    from etl.data_docs import DataDocs
    from etl.outliers import flag_outliers
    from etl.validate import validate_report

    encoding = stream.text_encoding(path)
    if encoding is not None:
        live = meta is not None and engine.dialect.name == "postgresql"
        try:
            report = stream.check_streamed(path, settings.inbox, encoding,
                                           docs=DataDocs.from_settings(settings, run_id, index=False),
                                           facts=stream.LiveCopy(engine, meta) if live else None,
                                           background_docs=background_docs)
            return report, report.docs_page
        except stream.NotStreamable as exc:
            log.info("%s is read whole: %s", path.name, exc)
    report = parse_file(path, inbox=settings.inbox)
    docs_page = None
    if report.frame is not None and not any(f.severity == F.CRITICAL for f in report.findings):
        if (meta is not None and engine.dialect.name == "postgresql" and len(report.frame)
                and report.contract.row_errors == "reject_file" and not report.rejected):
            report.live = stream.Precopy(engine, meta, report)  # facts COPYed while the suite runs
        try:
            validation = validate_report(report, docs=DataDocs.from_settings(settings, run_id, index=False),
                                         background=background_docs)
            docs_page = validation.wait_docs if background_docs else validation.docs_page
            flag_outliers(report, engine)
        except BaseException:
            if report.live is not None:
                report.live.close()
            raise
    return report, docs_page


def _write_receipt(path: Path, meta: FileMeta, report: ParsedReport, outcome: FileOutcome, settings: Settings) -> Path:
    target = receipt_path(settings.receipts, meta.folder, meta.file_name)
    summary = {"file_name": meta.file_name, "report_title": report.contract.title_zh if report.contract else None,
               "district": outcome.district, "period": outcome.period, "status": outcome.status,
               "reason_zh": outcome.reason_zh, "rows_read": report.rows_read, "rows_loaded": outcome.rows}
    if report.rows_read > RECEIPT_COPY_MAX_ROWS and any(f.cell for f in report.findings):
        return _write_findings_receipt(target, summary, report.findings)
    return write_receipt(target, path, summary, report.findings, report.source_sheet)


def _write_findings_receipt(target: Path, summary: dict, findings: list[F.Finding]) -> Path:
    """The receipt of a file above RECEIPT_COPY_MAX_ROWS rows: the 处理结果 sheet with every finding (sheet,
    row, column, cell, value, message) and a note, but no copy of the clerk's table: copying a
    million-row export cell by cell into a workbook would take minutes and gigabytes."""
    from openpyxl import Workbook

    from etl.excel_safe import set_cell
    from etl.receipts import RESULT_SHEET, _result_sheet

    workbook = Workbook()
    _result_sheet(workbook, summary, findings, {})
    set_cell(workbook[RESULT_SHEET].cell(row=10, column=1),
             f"本文件共{summary['rows_read']}行，超过{RECEIPT_COPY_MAX_ROWS}行，回执不附原表副本；"
             "下表列出每处问题在原文件中的行号和单元格。")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".writing")
    workbook.save(tmp)
    tmp.replace(target)
    return target


def _recorded_outcome(engine, relative_path: str, run_id: str | None) -> FileOutcome:
    """What the warehouse already holds for this file: a retry after the load was committed."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT l.load_id, l.status, l.report_type, l.period, l.rows_loaded, l.findings_critical, "
            "l.findings_error, l.findings_warning, l.reason_zh, l.receipt_path, p.place_name "
            "FROM stg_file_load l LEFT JOIN dim_place p ON p.place_code = l.district_code "
            "WHERE l.source_path = :p AND (l.run_id = :r OR (:r IS NULL AND l.run_id IS NULL)) "
            "ORDER BY l.load_id DESC LIMIT 1"), {"p": relative_path, "r": run_id}).mappings().first()
    if row is None:
        log.warning("%s left the inbox before it was processed", relative_path)
        return FileOutcome(relative_path, "vanished", reason_zh="文件在处理前已从收件箱移走")
    return FileOutcome(relative_path, row["status"], row["report_type"], row["place_name"], row["period"],
                       row["rows_loaded"], row["findings_critical"], row["findings_error"], row["findings_warning"],
                       row["reason_zh"], row["load_id"], row["receipt_path"])


def summarise_reason(report: ParsedReport) -> tuple[str, str]:
    """One line for the clerk and the steward: why the file was rejected, or what to look at."""
    by = {s: [f for f in report.findings if f.severity == s] for s in F.SEVERITIES}
    rows = report.rows_read
    if by[F.CRITICAL]:
        first = by[F.CRITICAL][0]
        return f"已退回：{first.message_zh}", f"rejected: {first.message_en}"
    if by[F.ERROR] and report.rejected:
        first = by[F.ERROR][0]
        return (f"已退回：共{len(by[F.ERROR])}处错误，例如{first.where_zh}：{first.message_zh}",
                f"rejected: {len(by[F.ERROR])} row errors, first: {first.message_en}")
    if by[F.ERROR]:
        bad = len(report.quarantined_rows)
        return (f"已入库{rows - bad}行；{bad}行有错误未入库（已隔离），请核对回执后补报",
                f"loaded {rows - bad} rows; {bad} rows with errors quarantined")
    if by[F.WARNING]:
        return f"已入库{rows}行，{len(by[F.WARNING])}处提示请核对", f"loaded {rows} rows with {len(by[F.WARNING])} warnings"
    return f"已入库，共{rows}行", f"loaded {rows} rows"


def _outcome(relative_path: str, status: str, load_id: int, report: ParsedReport, reason_zh: str) -> FileOutcome:
    count = {s: sum(1 for f in report.findings if f.severity == s) for s in F.SEVERITIES}
    rows = 0 if report.rows_read == 0 or status == "rejected" else report.rows_read - len(report.quarantined_rows)
    return FileOutcome(relative_path, status, report.report_type,
                       report.district.name if report.district else None, report.period, rows,
                       count[F.CRITICAL], count[F.ERROR], count[F.WARNING], reason_zh, load_id)


def summarise_run(outcomes: list[dict]) -> dict:
    """Counts per status and totals, for the run's last task log."""
    outcomes = [o for o in outcomes if o]
    summary = {"files": len(outcomes)}
    for status in ("accepted", "flagged", "rejected", "duplicate"):
        summary[status] = sum(1 for o in outcomes if o["status"] == status)
    summary["rows_loaded"] = sum(o["rows"] for o in outcomes if o["status"] in ("accepted", "flagged"))
    summary["findings"] = sum(o["critical"] + o["errors"] + o["warnings"] for o in outcomes)
    return summary


def log_summary(outcomes: list[dict], run_id: str | None = None, settings: Settings | None = None) -> dict:
    """The run summary as the steward reads it in the last task's log, and (with a run id, when the run had
    files) kept in the warehouse table stg_ingest_run: a run every five minutes must not add a row each time."""
    summary = summarise_run(outcomes)
    log.info("run summary: %s", summary)
    for o in outcomes:
        if o:
            log.info("  %-10s %s  %s", o["status"], o["file"], o["reason_zh"])
    if run_id is not None and summary["files"]:  # a run that found nothing is in Airflow's run list, not here
        settings = settings or Settings.from_env()
        row = {"run_id": run_id, "finished_at": now(), **{k: summary[k] for k in (
            "files", "accepted", "flagged", "rejected", "duplicate", "rows_loaded", "findings")}}
        with get_engine(settings.warehouse_url).begin() as conn:
            conn.execute(sa.text("DELETE FROM stg_ingest_run WHERE run_id = :run_id"), row)
            conn.execute(sa.text(
                "INSERT INTO stg_ingest_run (run_id, finished_at, files, accepted, flagged, rejected, duplicate, "
                "rows_loaded, findings) VALUES (:run_id, :finished_at, :files, :accepted, :flagged, :rejected, "
                ":duplicate, :rows_loaded, :findings)"), row)
    settings = settings or Settings.from_env()
    shared = settings.shared_dir
    log.info("receipts: %s · rejected: %s", shared / "receipts", shared / "rejected")
    index = refresh_docs_index(outcomes, settings)
    log.info("Data Docs (every validation): %s", shared / (index or "data_docs/local_site/index.html"))
    return summary


def refresh_docs_index(outcomes: list[dict], settings: Settings) -> str | None:
    """index.html of Data Docs, rendered once when the run's files have been validated: each file's task
    writes its own page only (listing every stored result for the index grows with the history, and the
    tasks would queue for the lock to do it once each). A failure is logged: the pages are all there."""
    if not any(o and o.get("docs_page") for o in outcomes):
        return None
    from etl.data_docs import DataDocs

    try:
        return DataDocs.from_settings(settings).refresh_index()
    except Exception:  # noqa: BLE001 - the index is for browsing; the run's outcomes stand
        log.exception("Data Docs index not refreshed")
        return None
