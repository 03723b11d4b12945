"""The per-file job the ingest DAG maps over: archive → parse → validate → load → file the original.

A rejected file is an outcome, not a failure: it is recorded with its findings and the task succeeds.
Only system faults (database down, disk full) raise, so that Airflow retries them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from etl.config import Settings

log = logging.getLogger(__name__)

IGNORED_PREFIXES = ("~$", ".", "~")  # Office lock files, hidden files, editor temp files
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".swp")


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
        tmp = target.with_suffix(target.suffix + ".incoming")
        shutil.copy2(path, tmp)
        tmp.replace(target)
    return target


def file_away(path: Path, relative: Path, status: str, settings: Settings, stamp: str) -> Path:
    """Move the original out of the inbox: rejected/<区县>/… or processed/<区县>/…, never overwriting."""
    root = settings.rejected if status == "rejected" else settings.processed
    target = root / relative.parent / f"{stamp}_{relative.name}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), target)
    return target


def prepare(settings: Settings | None = None) -> None:
    from etl.warehouse import ensure_schema, get_engine

    settings = settings or Settings.from_env()
    for folder in (settings.inbox, settings.archive, settings.processed, settings.rejected):
        folder.mkdir(parents=True, exist_ok=True)
    ensure_schema(get_engine(settings.warehouse_url))


def process_file(relative_path: str, settings: Settings | None = None, run_id: str | None = None) -> FileOutcome:
    from etl.load import FileMeta, find_previous, record_duplicate, record_report
    from etl.parse import ParsedReport, parse_file
    from etl.validate import validate_report
    from etl.warehouse import get_engine, utcnow

    settings = settings or Settings.from_env()
    engine = get_engine(settings.warehouse_url)
    relative = Path(relative_path)
    path = settings.inbox / relative
    started = utcnow()
    if not path.exists():
        return _already_filed(engine, relative_path, run_id)
    stat = path.stat()
    sha256 = sha256_of(path)
    archived = archive_raw(path, sha256, settings)
    meta = FileMeta(file_name=path.name, folder=relative.parts[0] if len(relative.parts) > 1 else None,
                    source_path=str(relative), archive_path=str(archived.relative_to(settings.shared_dir)),
                    sha256=sha256, size_bytes=stat.st_size,
                    received_at=dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(tzinfo=None),
                    started_at=started, run_id=run_id)
    with engine.connect() as conn:
        previous = find_previous(conn, sha256)
    if previous is not None:
        load_id = record_duplicate(engine, meta, previous)
        outcome = FileOutcome(relative_path, "duplicate", load_id=load_id,
                              reason_zh=f"与已提交的文件「{previous['file_name']}」内容完全相同")
    else:
        report = parse_file(path, inbox=settings.inbox)
        if report.frame is not None and not _has_critical(report):
            validate_report(report)
        reason_zh, reason_en = summarise_reason(report)
        load_id, status = record_report(engine, meta, report, reason_zh, reason_en)
        outcome = _outcome(relative_path, status, load_id, report, reason_zh)
    moved = file_away(path, relative, outcome.status, settings, started.strftime("%Y%m%dT%H%M%S"))
    with engine.begin() as conn:
        from sqlalchemy import text

        conn.execute(text("UPDATE stg_file_load SET moved_to = :m WHERE load_id = :id"),
                     {"m": str(moved.relative_to(settings.shared_dir)), "id": outcome.load_id})
    log.info("%s → %s (%s)", relative_path, outcome.status, outcome.reason_zh)
    return outcome


def _already_filed(engine, relative_path: str, run_id: str | None) -> FileOutcome:
    """A retry after the file was filed away, or a file a clerk took back: report what is recorded."""
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT load_id, status, report_type, period, rows_loaded, findings_critical, findings_error, "
            "findings_warning, reason_zh FROM stg_file_load WHERE source_path = :p AND run_id IS NOT DISTINCT FROM :r "
            "ORDER BY load_id DESC LIMIT 1"), {"p": relative_path, "r": run_id}).mappings().first()
    if row is None:
        log.warning("%s left the inbox before it was processed", relative_path)
        return FileOutcome(relative_path, "vanished", reason_zh="文件在处理前已从收件箱移走")
    return FileOutcome(relative_path, row["status"], row["report_type"], None, row["period"], row["rows_loaded"],
                       row["findings_critical"], row["findings_error"], row["findings_warning"], row["reason_zh"],
                       row["load_id"])


def _has_critical(report) -> bool:
    from etl.findings import CRITICAL

    return any(f.severity == CRITICAL for f in report.findings)


def summarise_reason(report) -> tuple[str, str]:
    """One line for the clerk and the steward: why the file was rejected, or what to look at."""
    from etl.findings import CRITICAL, ERROR, WARNING

    by = {s: [f for f in report.findings if f.severity == s] for s in (CRITICAL, ERROR, WARNING)}
    if by[CRITICAL]:
        first = by[CRITICAL][0]
        return f"已退回：{first.message_zh}", f"rejected: {first.message_en}"
    if by[ERROR]:
        first = by[ERROR][0]
        return (f"已退回：共{len(by[ERROR])}处错误，例如{first.where_zh}：{first.message_zh}",
                f"rejected: {len(by[ERROR])} row errors, first: {first.message_en}")
    if by[WARNING]:
        return f"已入库，{len(by[WARNING])}处提示请核对", f"loaded with {len(by[WARNING])} warnings"
    rows = 0 if report.frame is None else len(report.frame)
    return f"已入库，共{rows}行", f"loaded {rows} rows"


def _outcome(relative_path: str, status: str, load_id: int, report, reason_zh: str) -> FileOutcome:
    from etl.findings import CRITICAL, ERROR, WARNING

    count = lambda s: sum(1 for f in report.findings if f.severity == s)  # noqa: E731
    return FileOutcome(relative_path, status, report.report_type,
                       report.district.name if report.district else None, report.period,
                       0 if report.frame is None else len(report.frame),
                       count(CRITICAL), count(ERROR), count(WARNING), reason_zh, load_id)


def summarise_run(outcomes: list[dict]) -> dict:
    """Counts per status and totals, for the run's last task log."""
    summary = {"files": len(outcomes), "rows": 0, "findings": 0}
    for status in ("accepted", "flagged", "rejected", "duplicate"):
        summary[status] = sum(1 for o in outcomes if o and o.get("status") == status)
    for o in outcomes:
        if o:
            summary["rows"] += o.get("rows", 0) if o.get("status") in ("accepted", "flagged") else 0
            summary["findings"] += o.get("critical", 0) + o.get("errors", 0) + o.get("warnings", 0)
    return summary


def log_summary(outcomes: list[dict]) -> dict:
    """The run summary as the steward reads it in the last task's log."""
    summary = summarise_run(outcomes)
    log.info("run summary: %s", summary)
    for o in outcomes:
        if o:
            log.info("  %-10s %s  %s", o["status"], o["file"], o["reason_zh"])
    return summary
