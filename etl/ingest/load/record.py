"""Record a processed file in the warehouse: audit row, findings and facts in one transaction.

All or nothing per file; a byte-identical file is a duplicate; a later accepted file for the same
district × report type × period becomes current and the earlier one stays as history — unless a steward
approved the current one (etl.approval.lock): the new file is then held for approval.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from etl.approval.lock import held_reason, is_locked, lock_unit
from etl.ingest import findings as F
from etl.ingest.findings import storable
from etl.ingest.load.row_json import rows_as_json
from etl.ingest.load.sinks import FactSink, KeptFrames
from etl.ingest.parse.tables import APPROXIMATE, SOURCE_ROW, SOURCE_SHEET, ParsedReport
from etl.statuses import ACCEPTED, DUPLICATE, FLAGGED, HELD, LOADED_STATUSES, REJECTED
from etl.warehouse import summaries
from etl.warehouse.engine import as_datetime, bulk_insert_blocks, now


@dataclass
class FileMeta:
    file_name: str
    folder: str | None
    source_path: str
    archive_path: str
    sha256: str
    size_bytes: int
    received_at: object
    started_at: object
    run_id: str | None = None
    source_path_bytes: str | None = None  # hex of the raw relative path when it is not plain UTF-8 text
    file_modified_at: object = None  # the file's own mtime (information: received_at is our first sight)


def find_previous(
    conn: Connection, sha256: str, loaded_only: bool = False, source_path: str | None = None
) -> dict | None:
    """The first record of this exact content that makes a new copy a duplicate: a load, or a rejection —
    of the same ``source_path`` when given: the folder and the name are read too (the district, the
    period), so the same bytes renamed as the receipt asked (…2021年12月.xls) may get another answer.
    ``loaded_only`` (reprocessing on purpose, after rules or reference data changed): a load only."""
    rejected = "" if loaded_only else " OR (status = :rejected" + (" AND source_path = :path)" if source_path else ")")
    row = (
        conn.execute(
            sa.text(
                "SELECT load_id, status, file_name, source_path, moved_to, run_id FROM stg_file_load "
                f"WHERE sha256 = :sha AND (status IN :loaded{rejected}) ORDER BY load_id LIMIT 1"
            ).bindparams(sa.bindparam("loaded", expanding=True)),
            {"sha": sha256, "loaded": list(LOADED_STATUSES), "rejected": REJECTED, "path": source_path},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def status_of(report: ParsedReport) -> str:
    """rejected: critical, or row errors under a reject-the-file policy; flagged: loaded with warnings or
    with rows quarantined; accepted: clean."""
    if report.rejected:
        return REJECTED
    return FLAGGED if report.findings else ACCEPTED


def audit_row(conn: Connection, meta: FileMeta, values: dict, load_id: int | None = None) -> int:
    """Insert the file's audit row (stg_file_load) with ``values``, or complete the provisional one
    ``load_id`` (a sink that holds the load's transaction inserted it first). Column names are ours."""
    if load_id is not None:
        assignments = ", ".join(f"{k} = :{k}" for k in values)
        conn.execute(
            sa.text(f"UPDATE stg_file_load SET {assignments} WHERE load_id = :load_id"), {**values, "load_id": load_id}
        )
        return load_id
    params = {**meta.__dict__, **values}
    columns = ", ".join(params)
    placeholders = ", ".join(f":{k}" for k in params)
    statement = sa.text(f"INSERT INTO stg_file_load ({columns}) VALUES ({placeholders}) RETURNING load_id")
    return int(conn.execute(statement, params).scalar_one())


def record_duplicate(engine: Engine, meta: FileMeta, previous: dict) -> int:
    with engine.begin() as conn:
        return audit_row(
            conn,
            meta,
            {
                "status": DUPLICATE,
                "finished_at": now(),
                "reason_zh": f"与已提交的文件「{previous['file_name']}」内容完全相同，未重复处理",
                "reason_en": f"byte-identical to load {previous['load_id']} ({previous['file_name']})",
            },
        )


def record(
    engine: Engine,
    meta: FileMeta,
    parts: list[tuple[ParsedReport, str, str]],
    sinks: list[FactSink | None] | None = None,
) -> list[tuple[int, str]]:
    """Record each load of one file (``ParsedReport.parts``, with its reason) in a single transaction: an
    audit row each, its findings, its quarantined rows and — unless that part is rejected — its facts,
    which ``sinks`` hold, one per part (etl.ingest.load.sinks; None or none given: the part's frame as parsed). Returns (load_id, status) per part, or one duplicate
    record when an overlapping run loaded the same content first."""
    sinks = [
        sink or KeptFrames.of(part) for (part, _, _), sink in zip(parts, sinks or [None] * len(parts), strict=True)
    ]
    own = [sink for sink in sinks if sink.holds_transaction]
    if own and len(parts) > 1:
        raise ValueError("a sink holding the load's transaction records a file of one load")
    try:
        conn, transaction, provisional = (own[0] if own else FactSink()).begin(engine)
        try:
            recorded = []
            for (report, reason_zh, reason_en), sink in zip(parts, sinks, strict=True):
                recorded.append(
                    _record_load(conn, meta, report, sink, status_of(report), reason_zh, reason_en, provisional)
                )
            transaction.commit()
            return recorded
        finally:
            for sink in sinks:
                sink.close()
            if not own:
                conn.close()
    except sa.exc.IntegrityError:
        with engine.connect() as conn:
            previous = find_previous(conn, meta.sha256)
        if previous is None:
            raise
        # An overlapping run loaded the same content first: the unique index stopped a second load.
        return [(record_duplicate(engine, meta, previous), DUPLICATE)]


def record_filed(
    engine: Engine, load_ids: list[int], moved_to: str, receipt: str | None, docs_page: str | None
) -> None:
    """Where the file's original and receipt went, on its audit rows (the first load's carries the Data
    Docs page; a retry that had none keeps the one recorded)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE stg_file_load SET moved_to = :m, receipt_path = :r, "
                "docs_page = COALESCE(:d, docs_page) WHERE load_id = :id"
            ),
            [
                {"m": moved_to, "r": receipt, "d": docs_page if i == 0 else None, "id": load_id}
                for i, load_id in enumerate(load_ids)
            ],
        )


def sheet_name_of(report: ParsedReport) -> str | None:
    """The audit row's sheet: the sheets a load was read from, in workbook order."""
    return storable("、".join(report.sheet_names), 200) if report.sheet_names else None


def _record_load(
    conn: Connection,
    meta: FileMeta,
    report: ParsedReport,
    sink: FactSink,
    status: str,
    reason_zh: str,
    reason_en: str,
    load_id: int | None,
) -> tuple[int, str]:
    """One load's rows; returns (load_id, status): held_for_approval when its unit is locked."""
    counts = report.findings.counts()
    values = {
        "report_type": report.report_type,
        "district_code": report.district.code if report.district else None,
        "period": report.period,
        "sheet_name": sheet_name_of(report),
        "rows_read": report.rows_read,
        "status": status,
        "reason_zh": reason_zh,
        "reason_en": reason_en,
        "findings_critical": counts[F.CRITICAL],
        "findings_error": counts[F.ERROR],
        "findings_warning": counts[F.WARNING],
    }
    loaded = status in LOADED_STATUSES
    if load_id is None:
        load_id = audit_row(conn, meta, values)
        rows_loaded = sink.finish(conn, load_id, meta.sha256, loaded)
    else:  # the sink's provisional audit row: its facts' savepoint is settled before anything else is written
        rows_loaded = sink.finish(conn, load_id, meta.sha256, loaded)
        audit_row(conn, meta, values, load_id)
    if loaded and sink.tally is not None:
        summaries.write_tally(conn, load_id, sink.tally)
    elif loaded:  # a sink never started holds no facts: the summaries from the warehouse
        summaries.refresh(conn, report.report_type, [load_id])
    _insert_findings(conn, load_id, report)
    places = report.quarantined_rows if loaded else set()
    if places:
        _insert_quarantined(conn, load_id, report, places)
    if loaded and not _make_current(conn, load_id, report, meta):
        conn.execute(
            sa.text(
                "UPDATE stg_file_load SET status = :held, checked_status = status, reason_zh = :zh, "
                "reason_en = :en WHERE load_id = :id"
            ),
            {
                "held": HELD,
                "zh": held_reason(reason_zh, report.period),
                "en": f"{reason_en}; held: the period is approved and locked",
                "id": load_id,
            },
        )
        status = HELD
    conn.execute(
        sa.text("UPDATE stg_file_load SET rows_loaded = :n, finished_at = :t WHERE load_id = :id"),
        {"n": rows_loaded, "t": now(), "id": load_id},
    )
    return load_id, status


def _insert_findings(conn: Connection, load_id: int, report: ParsedReport) -> None:
    listed = report.findings.listed()
    if not listed:
        return
    conn.execute(
        sa.text(
            "INSERT INTO stg_finding (load_id, rule, severity, sheet_name, row_number, column_header, cell_ref, "
            "value_text, message_zh, message_en) VALUES (:load_id, :rule, :severity, :sheet, :row, :column, :cell, "
            ":value, :message_zh, :message_en)"
        ),
        [{"load_id": load_id, **f.as_dict()} for f in listed],
    )


QUARANTINE_BLOCK_ROWS = 20_000  # held-back rows made into JSON lines and inserted at a time
QUARANTINE_COLUMNS = ["load_id", "source_sheet", "source_row", "reason_zh", "row_json"]
QUARANTINE_TABLE = sa.table("stg_quarantined_row", *map(sa.column, QUARANTINE_COLUMNS))
UNLISTED_REASON = "该行有错误（同类问题较多，未逐条列出，详见回执）"


def _insert_quarantined(conn: Connection, load_id: int, report: ParsedReport, places: set) -> None:
    """Rows held back under the quarantine policy (``places``: ``report.quarantined_rows``), with their
    values, for the steward to follow up. A million held-back rows cost a million small lines, not a million
    findings' lookups of every row or a dict each: ``places`` is built once, the reasons come from the
    findings listed (a rule lists at most its cap), the values' JSON column by column (``rows_as_json``),
    and the rows go in blocks, by one COPY on PostgreSQL."""
    frame = report.quarantine_frame(places)
    reasons: dict[tuple, list[str]] = {}
    for f in report.findings:
        if f.severity == F.ERROR and (f.sheet or report.sheet, f.row) in places:
            reasons.setdefault((f.sheet or report.sheet, f.row), []).append(f"{f.cell or f.column}：{f.message_zh}")
    values = frame.drop(columns=[c for c in (SOURCE_ROW, SOURCE_SHEET, APPROXIMATE) if c in frame])

    def blocks():
        for start in range(0, len(frame), QUARANTINE_BLOCK_ROWS):
            block = frame.iloc[start : start + QUARANTINE_BLOCK_ROWS]
            sheets = block[SOURCE_SHEET].tolist() if SOURCE_SHEET in block else [report.sheet] * len(block)
            yield [
                (load_id, sheet, row, "；".join(reasons.get((sheet, row), [])) or UNLISTED_REASON, data)
                for sheet, row, data in zip(
                    sheets,
                    block[SOURCE_ROW].tolist(),
                    rows_as_json(values.iloc[start : start + QUARANTINE_BLOCK_ROWS]),
                    strict=True,
                )
            ]

    bulk_insert_blocks(conn, QUARANTINE_TABLE, QUARANTINE_COLUMNS, blocks())


def _make_current(conn: Connection, load_id: int, report: ParsedReport, meta: FileMeta) -> bool:
    """The newest received accepted file for the key is current; older ones stay as history. When the
    current version is approved (locked), a newer file is not made current: False, it is to be held, and
    a replacement held before it becomes history."""
    key = {"rt": report.report_type, "d": report.district.code if report.district else None, "p": report.period}
    lock_unit(conn, key["rt"], key["d"], key["p"])
    current = (
        conn.execute(
            sa.text(
                "SELECT load_id, received_at FROM stg_file_load WHERE report_type = :rt AND district_code = :d "
                "AND period = :p AND is_current = 1"
            ),
            key,
        )
        .mappings()
        .first()
    )
    if (
        current is not None
        and current["received_at"] is not None
        and as_datetime(current["received_at"]) > meta.received_at
    ):
        conn.execute(
            sa.text("UPDATE stg_file_load SET superseded_by = :cur WHERE load_id = :id"),
            {"cur": current["load_id"], "id": load_id},
        )
        return True
    if current is not None and is_locked(conn, current["load_id"]):
        conn.execute(
            sa.text(
                "UPDATE stg_file_load SET status = checked_status, superseded_by = :id WHERE report_type = :rt "
                "AND district_code = :d AND period = :p AND status = :held AND superseded_by IS NULL"
            ),
            {**key, "id": load_id, "held": HELD},
        )
        return False
    if current is not None:
        conn.execute(
            sa.text("UPDATE stg_file_load SET is_current = 0, superseded_by = :id WHERE load_id = :cur"),
            {"id": load_id, "cur": current["load_id"]},
        )
    conn.execute(sa.text("UPDATE stg_file_load SET is_current = 1 WHERE load_id = :id"), {"id": load_id})
    return True
