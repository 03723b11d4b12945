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
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from etl.approval.lock import held_reason
from etl.config import Settings, local_time
from etl.faults import is_system_fault
from etl.ingest import findings as F
from etl.ingest.check import check_file
from etl.ingest.inbox import entries as inbox
from etl.ingest.inbox import sightings
from etl.ingest.inbox.names import bounded_name, display_path, is_plain, key_bytes
from etl.ingest.load.record import FileMeta, find_previous, record, record_duplicate, record_filed
from etl.ingest.parse.tables import ParsedReport
from etl.ingest.receipts.receipt import receipt_path, write_receipt
from etl.shared_paths import real_folder, write_unused
from etl.statuses import HELD, LOADED_STATUSES, STATUSES
from etl.warehouse.engine import get_engine, now
from etl.warehouse.schema import ensure_schema

log = logging.getLogger(__name__)

# A receipt copies the clerk's table (problem cells marked) only up to this many rows; above, it lists every
# finding with its row and cell but carries no copy (see _write_findings_receipt).
RECEIPT_COPY_MAX_ROWS = 50_000
CLAIMED_ELSEWHERE = "claimed_elsewhere"  # another run has the file: this run leaves no trace of it
LOGGED_WAITING = 100  # waiting entries named in the run's log (all are counted)


@dataclass
class FileOutcome:
    file: str  # path relative to the inbox, as displayed (etl.ingest.inbox.names.display_path)
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
    # a workbook whose data sheets hold several periods is a load per period: each one's load_id, period,
    # status, rows and reason (the fields above then speak of the file as a whole)
    loads: list[dict] | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def discover(settings: Settings) -> list[str]:
    """Keys of the inbox entries ready for processing (etl.ingest.inbox.names.entry_key: the relative path, or its raw
    bytes in base64 when it is not UTF-8 text), stranded claims first, then the oldest entries up to
    ``max_files_per_run``. Lock files, temp files, files still growing and the entries beyond the batch
    wait; each is logged with its reason (``waiting``)."""
    engine = get_engine(settings.warehouse_url)
    found = inbox.scan(
        settings, first_seen=lambda entries: sightings.record(engine, [(e.key, e.mtime) for e in entries])
    )
    for entry, reason in found.waiting:
        log.info("waiting: %s — %s", entry.display, reason)
    keys = list(found.stranded)
    return keys + [e.key for e in found.ready if e.key not in keys][: max(0, settings.max_files_per_run - len(keys))]


def batches(keys: list[str], settings: Settings) -> list[list[str]]:
    """The run's files as the ingest tasks take them: a district's files together, at most
    ``files_per_task`` a task, in the order discovered. One Airflow task a file would pay the task's
    start-up (seconds) per file; each file still gets its own outcome, log lines and audit row."""
    by_folder: dict[str, list[str]] = {}
    for key in keys:
        by_folder.setdefault(display_path(key_bytes(key)).split("/", 1)[0], []).append(key)
    size = settings.files_per_task
    return [group[i : i + size] for group in by_folder.values() for i in range(0, len(group), size)]


def batch_label(keys: list[str]) -> str:
    """How the Airflow UI lists a batch: its folder, how many files, the first file."""
    first = display_path(key_bytes(keys[0])) if keys else "—"
    return f"{first} 等{len(keys)}个文件" if len(keys) > 1 else first


def process_batch(keys: list[str], settings: Settings | None = None, run_id: str | None = None) -> list[FileOutcome]:
    """``process_file`` for each key, one after the other. A system fault in one file does not stop the
    others: each is given back to the inbox as ``process_file`` does, the rest go on, and the first fault
    is raised at the end so Airflow retries the task — a retry finds the files already filed and returns
    their recorded outcomes, and processes only the ones given back."""
    settings = settings or Settings.from_env()
    outcomes, faults = [], []
    for key in keys:
        try:
            outcomes.append(process_file(key, settings, run_id))
        except Exception as exc:  # noqa: BLE001 - process_file raises system faults only; re-raised below
            log.exception("%s: system fault, given back to the inbox for the retry", display_path(key_bytes(key)))
            faults.append(exc)
    if faults:
        raise faults[0]
    return outcomes


def waiting(settings: Settings) -> list[dict]:
    """Every entry still in the inbox and why it waits, for the run summary and the stewards' page:
    lock, temp and growing files, the entries beyond a run's batch, and the rest for the next run."""
    return [{"file": name, "reason_zh": reason} for name, reason in inbox.waiting_entries(settings)]


def sha256_of(path: Path) -> str:
    """The sha256 of a file of ours (the archive), never through a link."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unused_path(folder: Path, name: str) -> Path:
    """folder/name, or folder/name with (2), (3)… before the suffix: nothing is ever overwritten."""
    return inbox.unused_path(folder, name)


def file_away(
    held: inbox.Claim, outcome: FileOutcome, settings: Settings, stamp: str, findings: list[F.Finding]
) -> Path:
    """Move the original out of the inbox: rejected/<区县>/… (with a 退回原因 note) or processed/<区县>/…"""
    root = settings.rejected if outcome.status == "rejected" else settings.processed
    folder = root.joinpath(*held.safe_folders)
    name = held.file_name
    target = inbox.file_away(held, folder, f"{stamp}_{bounded_name(name)}", settings.shared_dir)
    if outcome.status == "rejected":
        note = "\r\n".join(
            [
                f"文件：{name}",
                f"结果：{outcome.reason_zh}",
                "",
                *(f"{f.where_zh}：{f.message_zh}" for f in findings.listed()),
            ]
        )
        write_unused(folder, f"{target.name}.退回原因.txt", settings.shared_dir, (note + "\r\n").encode("utf-8-sig"))
    return target


def prepare(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    settings.shared_dir.mkdir(parents=True, exist_ok=True)
    for folder in (settings.inbox, settings.archive, settings.processed, settings.rejected, settings.receipts):
        real_folder(folder, settings.shared_dir)  # a link left at one of them is moved aside, not followed
    ensure_schema(get_engine(settings.warehouse_url))


def process_file(
    key: str, settings: Settings | None = None, run_id: str | None = None, force: bool = False
) -> FileOutcome:
    """Claim the inbox entry ``key`` (etl.ingest.inbox.entries), then archive → parse → validate → load → receipt → file
    away. ``force``: process again even if the same bytes were rejected before (rules or references
    changed); content already loaded is still a duplicate. A system fault puts the entry back into the
    inbox (or leaves it for the next run to adopt) and raises."""
    settings = settings or Settings.from_env()
    engine = get_engine(settings.warehouse_url)
    display = display_path(key_bytes(key))
    held = inbox.claim(settings, key)
    if held is None:  # another run has it, or a retry of this (Airflow) run filed it already
        outcome = _recorded_outcome(engine, display, run_id) if run_id is not None else None
        return outcome or FileOutcome(display, CLAIMED_ELSEWHERE, reason_zh="另一次运行正在处理该文件")
    try:
        outcome = _process_claimed(held, settings, engine, run_id, force)
    except BaseException:
        inbox.give_back(held, settings)
        raise
    held.release()
    log.info("%s → %s (%s)", display, outcome.status, outcome.reason_zh)
    return outcome


def _process_claimed(held: inbox.Claim, settings: Settings, engine, run_id: str | None, force: bool) -> FileOutcome:
    started = now()
    display = held.display
    meta = FileMeta(
        file_name=held.file_name,
        folder=inbox.district_folder(held.raw),
        source_path=display,
        archive_path=None,
        sha256="",
        size_bytes=0,
        received_at=None,
        started_at=started,
        run_id=run_id,
        source_path_bytes=None if is_plain(held.raw) else held.raw.hex(),
    )
    try:
        snap = inbox.snapshot(held, settings)
    except (inbox.NotRegularFile, inbox.FileTooLarge, PermissionError) as exc:
        return _finish_unread(held, settings, engine, meta, exc)
    try:
        return _process_snapshot(held, settings, engine, run_id, force, meta, snap)
    finally:
        snap.close()


def _process_snapshot(
    held: inbox.Claim, settings: Settings, engine, run_id: str | None, force: bool, meta: FileMeta, snap
) -> FileOutcome:
    started, display = meta.started_at, held.display
    meta.archive_path = str(snap.archive.relative_to(settings.shared_dir))
    meta.sha256, meta.size_bytes = snap.sha256, snap.size
    meta.received_at, meta.file_modified_at = received_time(engine, held, snap.mtime, started)
    with engine.connect() as conn:
        previous = find_previous(conn, meta.sha256, loaded_only=force, source_path=meta.source_path)
    report = ParsedReport(snap.read_path)
    if previous is not None and previous["source_path"] == meta.source_path and previous["moved_to"] is None:
        outcome = _recorded_outcome(engine, display, previous["run_id"])  # committed, not filed: finish it
    elif previous is not None:
        load_id = record_duplicate(engine, meta, previous)
        outcome = FileOutcome(
            display,
            "duplicate",
            load_id=load_id,
            reason_zh=f"与已提交的文件「{previous['file_name']}」内容完全相同，未重复处理",
        )
    else:
        report, outcome = _check_and_record(snap, settings, engine, run_id, meta)
    return _hand_back(held, settings, engine, meta, report, outcome, started, source=snap.read_path)


def received_time(engine, held: inbox.Claim, mtime: float, started) -> tuple[object, object]:
    """(received_at, file_modified_at): when a scan first saw the entry (etl.ingest.inbox.sightings) — or, for an entry
    no scan has listed (``process_file`` called directly), the moment this run took it; and its mtime,
    for information only."""
    seen = sightings.first_seen(engine, held.key)
    return (seen[0] if seen else started), local_time(mtime)


def _check_and_record(
    snap: inbox.Snapshot, settings: Settings, engine, run_id: str | None, meta: FileMeta
) -> tuple[ParsedReport, FileOutcome]:
    """Parse, validate and record the snapshot; a failure that is not a system fault is the file's
    rejection (etl.faults), recorded with the reason and logged with the exception."""
    docs_page = None
    try:
        checked = check_file(
            snap.read_path,
            settings,
            engine,
            run_id,
            meta,
            background_docs=True,
            inbox_root=snap.read_root,
            scratch_dir=snap.scratch,
        )
        report = checked.report
        try:
            recorded = record(engine, meta, [(part, *summarise_reason(part)) for part in report.parts], checked.sinks)
        finally:
            checked.close()
            docs_page = checked.docs_page()  # the Data Docs thread has written its page (it ran during the load)
    except Exception as exc:  # noqa: BLE001 - sorted by etl.faults: a system fault is raised again
        if is_system_fault(exc):
            raise
        log.exception("%s: processing failed; the file is rejected", meta.source_path)
        report = failed_report(
            snap.read_path,
            "processing_failed",
            F.CRITICAL,
            "文件处理时出错，已退回；请用 Excel/WPS 打开确认后另存为 xlsx 重新提交。"
            "如仍出错，请联系数据管理员（错误已记录）",
            f"processing failed: {type(exc).__name__}: {str(exc)[:300]}",
        )
        recorded = record(engine, meta, [(report, *summarise_reason(report))])
        docs_page = None
    outcome = file_outcome(meta.source_path, report, recorded)
    outcome.docs_page = docs_page
    return report, outcome


def failed_report(path: Path, rule: str, severity: str, zh: str, en: str) -> ParsedReport:
    """A report of a file that could not be parsed: one finding, no table."""
    report = ParsedReport(path)
    report.add(rule, severity, zh, en)
    return report


def _finish_unread(held: inbox.Claim, settings: Settings, engine, meta: FileMeta, exc: Exception) -> FileOutcome:
    """An entry that is never read (a link, FIFO, device or socket; a file over max_file_bytes; a file we
    may not read) is rejected with its reason; nothing of it is archived."""
    if isinstance(exc, inbox.NotRegularFile):
        what = inbox.KIND_ZH.get(exc.kind, exc.kind)
        rule, zh = (
            "not_a_regular_file",
            (f"这是{what}，不是表格文件本身；为安全起见未打开。请把表格文件（xlsx/xls/CSV）本身放入本区县的文件夹"),
        )
        en = f"a {exc.kind}, not a regular file: never opened"
    elif isinstance(exc, inbox.FileTooLarge):
        rule, zh, en = "file_too_large", exc.zh, str(exc)
    else:
        rule, zh, en = (
            "unreadable_file",
            "文件无法读取（没有读取权限），请检查文件权限后重新提交",
            f"cannot open: {exc}",
        )
    info = os.lstat(held.entry)
    meta.sha256 = hashlib.sha256(b"unread\0" + rule.encode() + b"\0" + held.raw).hexdigest()
    meta.size_bytes = info.st_size
    meta.received_at, meta.file_modified_at = received_time(engine, held, info.st_mtime, meta.started_at)
    report = failed_report(held.entry, rule, F.CRITICAL, zh, en)
    outcome = file_outcome(meta.source_path, report, record(engine, meta, [(report, *summarise_reason(report))]))
    return _hand_back(held, settings, engine, meta, report, outcome, meta.started_at, source=None)


def _hand_back(
    held: inbox.Claim,
    settings: Settings,
    engine,
    meta: FileMeta,
    report: ParsedReport,
    outcome: FileOutcome,
    started,
    source: Path | None,
) -> FileOutcome:
    """Receipt, the original filed away, and both recorded on the file's audit row. ``source``: the bytes
    that were read, for the receipt's copy of the table (None: nothing was read)."""
    try:
        receipt = _write_receipt(source, meta, report, outcome, settings)
    except Exception as exc:  # noqa: BLE001 - sorted by etl.faults: the clerk still gets the result sheet
        if is_system_fault(exc):
            raise
        log.exception(
            "%s: the receipt's copy of the table failed; the receipt lists the findings only", meta.source_path
        )
        receipt = _write_receipt(None, meta, report, outcome, settings)
    outcome.receipt = str(receipt.relative_to(settings.shared_dir))
    moved = file_away(held, outcome, settings, started.strftime("%Y%m%dT%H%M%S"), file_findings(report))
    load_ids = [load["load_id"] for load in outcome.loads] if outcome.loads else [outcome.load_id]
    record_filed(engine, load_ids, str(moved.relative_to(settings.shared_dir)), outcome.receipt, outcome.docs_page)
    sightings.forget(engine, held.key)  # filed away: a new file of this name is a new submission
    return outcome


def _write_receipt(
    path: Path | None, meta: FileMeta, report: ParsedReport, outcome: FileOutcome, settings: Settings
) -> Path:
    """The clerk's receipt; ``path`` is the bytes that were read (None when nothing was read)."""
    target = receipt_path(settings.receipts, meta.folder, meta.file_name)
    findings = file_findings(report)
    rows_read = sum(part.rows_read for part in report.parts)
    summary = {
        "file_name": meta.file_name,
        "report_title": report.contract.title_zh if report.contract else None,
        "district": outcome.district,
        "period": outcome.period,
        "status": outcome.status,
        "reason_zh": outcome.reason_zh,
        "rows_read": rows_read,
        "rows_loaded": outcome.rows,
        "loads": outcome.loads,
    }
    if rows_read > RECEIPT_COPY_MAX_ROWS and any(f.cell for f in findings):
        return _write_findings_receipt(target, summary, findings, settings.shared_dir)
    sheets = [s for part in report.parts for s in part.source_sheets]
    return write_receipt(target, path, summary, findings, sheets, root=settings.shared_dir)


def file_findings(report: ParsedReport) -> F.FindingList:
    """The findings of every load of the file, for the clerk's receipt and the 退回原因 note."""
    if not report.later_parts:
        return report.findings
    findings = F.FindingList(cap=report.findings.cap)
    for part in report.parts:
        findings.extend(part.findings)
    return findings


def _write_findings_receipt(target: Path, summary: dict, findings: list[F.Finding], root: Path) -> Path:
    """The receipt of a file above RECEIPT_COPY_MAX_ROWS rows: the 处理结果 sheet with every finding (sheet,
    row, column, cell, value, message) and a note, but no copy of the clerk's table: copying a
    million-row export cell by cell into a workbook would take minutes and gigabytes."""
    from openpyxl import Workbook

    from etl.excel_safe import set_cell, write_workbook
    from etl.ingest.receipts.receipt import RESULT_SHEET, result_sheet

    workbook = Workbook()
    result_sheet(workbook, summary, findings, {})
    set_cell(
        workbook[RESULT_SHEET].cell(row=10 + len(summary.get("loads") or []), column=1),  # under the lines
        f"本文件共{summary['rows_read']}行，超过{RECEIPT_COPY_MAX_ROWS}行，回执不附原表副本；"
        "下表列出每处问题在原文件中的行号和单元格。",
    )
    return write_workbook(workbook, target, root)


def _recorded_outcome(engine, relative_path: str, run_id: str | None) -> FileOutcome | None:
    """What the warehouse already holds for this file: a retry after the load was committed."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(
                    "SELECT l.load_id, l.status, l.report_type, l.period, l.rows_loaded, l.findings_critical, "
                    "l.findings_error, l.findings_warning, l.reason_zh, l.receipt_path, p.place_name "
                    "FROM stg_file_load l LEFT JOIN dim_place p ON p.place_code = l.district_code "
                    "WHERE l.source_path = :p AND (l.run_id = :r OR (:r IS NULL AND l.run_id IS NULL)) "
                    "AND l.started_at = (SELECT MAX(started_at) FROM stg_file_load WHERE source_path = :p "
                    "AND (run_id = :r OR (:r IS NULL AND run_id IS NULL))) "
                    "ORDER BY l.load_id"
                ),
                {"p": relative_path, "r": run_id},
            )
            .mappings()
            .all()
        )
    if not rows:
        return None
    parts = [
        FileOutcome(
            relative_path,
            row["status"],
            row["report_type"],
            row["place_name"],
            row["period"],
            row["rows_loaded"],
            row["findings_critical"],
            row["findings_error"],
            row["findings_warning"],
            row["reason_zh"],
            row["load_id"],
            row["receipt_path"],
        )
        for row in rows
    ]  # a load per period
    if len(parts) == 1:
        return parts[0]
    outcome = combined_outcome(relative_path, parts)
    outcome.receipt = parts[0].receipt
    return outcome


def summarise_reason(report: ParsedReport) -> tuple[str, str]:
    """One line for the clerk and the steward: why the file was rejected, or what to look at."""
    by = {s: [f for f in report.findings if f.severity == s] for s in F.SEVERITIES}
    counts = report.findings.counts()  # with the findings counted beyond the cap per rule
    rows = report.rows_read
    if by[F.CRITICAL]:
        first = by[F.CRITICAL][0]
        return f"已退回：{first.message_zh}", f"rejected: {first.message_en}"
    if by[F.ERROR] and report.rejected:
        first = by[F.ERROR][0]
        return (
            f"已退回：共{counts[F.ERROR]}处错误，例如{first.where_zh}：{first.message_zh}",
            f"rejected: {counts[F.ERROR]} row errors, first: {first.message_en}",
        )
    if by[F.ERROR]:
        bad = len(report.quarantined_rows)
        return (
            f"已入库{rows - bad}行；{bad}行有错误未入库（已隔离），请核对回执后补报",
            f"loaded {rows - bad} rows; {bad} rows with errors quarantined",
        )
    if by[F.WARNING]:
        return (
            f"已入库{rows}行，{counts[F.WARNING]}处提示请核对",
            f"loaded {rows} rows with {counts[F.WARNING]} warnings",
        )
    return f"已入库，共{rows}行", f"loaded {rows} rows"


def _outcome(relative_path: str, status: str, load_id: int, report: ParsedReport, reason_zh: str) -> FileOutcome:
    count = report.findings.counts()
    rows = (
        0
        if report.rows_read == 0 or status in ("rejected", "duplicate")
        else report.rows_read - len(report.quarantined_rows)
    )
    return FileOutcome(
        relative_path,
        status,
        report.report_type,
        report.district.name if report.district else None,
        report.period,
        rows,
        count[F.CRITICAL],
        count[F.ERROR],
        count[F.WARNING],
        reason_zh,
        load_id,
    )


def file_outcome(relative_path: str, report: ParsedReport, recorded: list[tuple[int, str]]) -> FileOutcome:
    """The outcome of a file from its recorded loads (``etl.ingest.load.record.record``): one load as it is; several
    (a period each) as the file's sum — loaded when any period is, rejected when every one is — with each
    load listed. A duplicate record (an overlapping run loaded the content first) speaks for the file."""
    if len(recorded) == 1:
        load_id, status = recorded[0]
        if status == "duplicate":
            return _outcome(relative_path, status, load_id, report, "与已提交的文件内容完全相同，未重复处理")
        return _outcome(relative_path, status, load_id, report, _reason(report, status))
    parts = [
        _outcome(relative_path, status, load_id, part, _reason(part, status))
        for part, (load_id, status) in zip(report.parts, recorded, strict=True)
    ]
    return combined_outcome(relative_path, parts)


def _reason(report: ParsedReport, status: str) -> str:
    """The clerk's line for one load: what validation said, and for a held load why it waits."""
    reason = summarise_reason(report)[0]
    return held_reason(reason, report.period) if status == HELD else reason


def combined_outcome(relative_path: str, parts: list[FileOutcome]) -> FileOutcome:
    """One file's outcome from the outcomes of its loads (a period each)."""
    statuses = [p.status for p in parts]
    loaded = [p for p in parts if p.status in LOADED_STATUSES]
    if not loaded:
        status = "rejected"
    elif all(s == HELD for s in statuses):
        status = HELD
    else:
        status = "accepted" if all(s == "accepted" for s in statuses) else "flagged"
    rejected = [p for p in parts if p.status == "rejected"]
    reason = f"本文件含{len(parts)}个期间的数据，已入库{len(loaded)}个期间共{sum(p.rows for p in loaded)}行"
    if rejected:
        reason += (
            f"；{len(rejected)}个期间退回（"
            + "；".join(f"{p.period or '期间未识别'}：{p.reason_zh}" for p in rejected)
            + "）"
        )
    flagged = [p for p in loaded if p.status == "flagged"]
    if flagged:
        reason += f"；{len(flagged)}个期间有提示，请核对回执"
    held = [p.period or "未识别" for p in loaded if p.status == HELD]
    if held:
        reason += f"；{'、'.join(held)}已审核锁定，这些期间的数据已暂存，待数据管理员审核后替换"
    return FileOutcome(
        relative_path,
        status,
        parts[0].report_type,
        parts[0].district,
        "、".join(p.period or "未识别" for p in parts),
        sum(p.rows for p in parts),
        sum(p.critical for p in parts),
        sum(p.errors for p in parts),
        sum(p.warnings for p in parts),
        reason,
        parts[0].load_id,
        loads=[
            {"load_id": p.load_id, "period": p.period, "status": p.status, "rows": p.rows, "reason_zh": p.reason_zh}
            for p in parts
        ],
    )


def summarise_run(outcomes: list[dict]) -> dict:
    """Counts per status and totals, for the run's last task log."""
    outcomes = [o for o in outcomes if o and o["status"] in STATUSES]  # not files another run processed
    summary = {"files": len(outcomes)}
    for status in STATUSES:
        summary[status] = sum(1 for o in outcomes if o["status"] == status)
    summary["rows_loaded"] = sum(o["rows"] for o in outcomes if o["status"] in LOADED_STATUSES)
    summary["findings"] = sum(o["critical"] + o["errors"] + o["warnings"] for o in outcomes)
    return summary


def log_summary(outcomes: list[dict], run_id: str | None = None, settings: Settings | None = None) -> dict:
    """The run summary as the steward reads it in the last task's log, and (with a run id, when the run had
    files) kept in the warehouse table stg_ingest_run: a run every five minutes must not add a row each time."""
    settings = settings or Settings.from_env()
    summary = summarise_run(outcomes)
    still = waiting(settings)
    summary["waiting"] = len(still)  # entries left in the inbox: the steward sees a backlog grow or shrink
    log.info("run summary: %s", summary)
    for o in outcomes:
        if o and o["status"] in STATUSES:
            log.info("  %-10s %s  %s", o["status"], o["file"], o["reason_zh"])
    if run_id is not None and summary["files"]:  # a run that found nothing is in Airflow's run list, not here
        row = {
            "run_id": run_id,
            "finished_at": now(),
            **{k: summary[k] for k in ("files", *STATUSES, "rows_loaded", "findings")},
        }
        with get_engine(settings.warehouse_url).begin() as conn:
            conn.execute(sa.text("DELETE FROM stg_ingest_run WHERE run_id = :run_id"), row)
            conn.execute(
                sa.text(
                    "INSERT INTO stg_ingest_run (run_id, finished_at, files, accepted, flagged, rejected, duplicate, "
                    "held_for_approval, rows_loaded, findings) VALUES (:run_id, :finished_at, :files, :accepted, "
                    ":flagged, :rejected, :duplicate, :held_for_approval, :rows_loaded, :findings)"
                ),
                row,
            )
    for w in still[:LOGGED_WAITING]:
        log.info("  %-10s %s  %s", "waiting", w["file"], w["reason_zh"])
    if len(still) > LOGGED_WAITING:
        log.info("  … and %d more waiting (the stewards' page lists them all)", len(still) - LOGGED_WAITING)
    shared = settings.shared_dir
    log.info("receipts: %s · rejected: %s", settings.receipts, settings.rejected)
    index = refresh_docs_index(outcomes, settings)
    log.info("Data Docs (every validation): %s", shared / (index or "data_docs/local_site/index.html"))
    return summary


def refresh_docs_index(outcomes: list[dict], settings: Settings) -> str | None:
    """index.html of Data Docs, rendered once when the run's files have been validated: each file's task
    writes its own page only (listing every stored result for the index grows with the history, and the
    tasks would queue for the lock to do it once each). A failure is logged: the pages are all there."""
    if not any(o and o.get("docs_page") for o in outcomes):
        return None
    from etl.ingest.validate.data_docs import DataDocs

    try:
        return DataDocs.from_settings(settings).refresh_index()
    except Exception:  # noqa: BLE001 - the index is for browsing; the run's outcomes stand
        log.exception("Data Docs index not refreshed")
        return None


def ingest_inbox(settings: Settings) -> int:
    """``python -m etl ingest``: every ready entry, one after the other, as the DAG maps them. A file that
    fails with a system fault is reported and left for the next run; the others go on. Exit code 1 then."""
    prepare(settings)
    outcomes, failed = [], []
    for key in discover(settings):
        try:
            outcome = process_file(key, settings)
        except Exception as exc:  # noqa: BLE001 - a system fault: this file waits for the next run
            log.exception("%s: system fault, the file stays in the inbox", display_path(key_bytes(key)))
            failed.append(display_path(key_bytes(key)))
            print(f"{'failed':<10} {display_path(key_bytes(key))}  {type(exc).__name__}: {exc}")
            continue
        if outcome.status in STATUSES:
            outcomes.append(outcome.as_dict())
            print(f"{outcome.status:<10} {outcome.file}  {outcome.reason_zh}")
    summary = log_summary(outcomes, settings=settings)
    for w in waiting(settings):
        print(f"{'waiting':<10} {w['file']}  {w['reason_zh']}")
    print(summary | {"failed": len(failed)})
    return 1 if failed else 0
