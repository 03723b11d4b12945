"""Record a processed file in the warehouse: audit row, findings and facts in one transaction.

All or nothing per file; a byte-identical file is a duplicate; a later accepted file for the same
district × report type × period becomes current and the earlier one stays as history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from etl.ingest import findings as F
from etl.ingest.findings import storable
from etl.ingest.parse.tables import APPROXIMATE, SOURCE_ROW, SOURCE_SHEET, ParsedReport
from etl.warehouse.engine import (
    COPY_NULL,
    as_datetime,
    copy_text_lines,
    copy_texts,
    fact_column_names,
    insert_facts,
    now,
)

ACCEPTED, FLAGGED, REJECTED, DUPLICATE = "accepted", "flagged", "rejected", "duplicate"
LOADED_STATUSES = (ACCEPTED, FLAGGED)


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


def find_previous(conn: Connection, sha256: str, loaded_only: bool = False) -> dict | None:
    """The first record of this exact content that makes a new copy a duplicate: any earlier outcome, or
    with ``loaded_only`` (reprocessing on purpose, after rules or reference data changed) a load only."""
    statuses = LOADED_STATUSES if loaded_only else (ACCEPTED, FLAGGED, REJECTED)
    row = (
        conn.execute(
            sa.text(
                "SELECT load_id, status, file_name, source_path, moved_to, run_id FROM stg_file_load "
                "WHERE sha256 = :sha AND status IN (:s0, :s1, :s2) ORDER BY load_id LIMIT 1"
            ),
            {"sha": sha256, "s0": statuses[0], "s1": statuses[1], "s2": statuses[-1]},
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


def insert_audit(conn: Connection, meta: FileMeta, values: dict) -> int:
    params = {**meta.__dict__, **values}
    columns = ", ".join(params)
    placeholders = ", ".join(f":{k}" for k in params)
    statement = sa.text(f"INSERT INTO stg_file_load ({columns}) VALUES ({placeholders}) RETURNING load_id")
    return int(conn.execute(statement, params).scalar_one())


def record_duplicate(engine: Engine, meta: FileMeta, previous: dict) -> int:
    with engine.begin() as conn:
        return insert_audit(
            conn,
            meta,
            {
                "status": DUPLICATE,
                "finished_at": now(),
                "reason_zh": f"与已提交的文件「{previous['file_name']}」内容完全相同，未重复处理",
                "reason_en": f"byte-identical to load {previous['load_id']} ({previous['file_name']})",
            },
        )


def record_report(
    engine: Engine, meta: FileMeta, report: ParsedReport, reason_zh: str, reason_en: str
) -> tuple[int, str]:
    """Write audit, findings and (unless rejected) facts in a single transaction. Returns (load_id, status)."""
    return record_parts(engine, meta, [(report, reason_zh, reason_en)])[0]


def record_parts(engine: Engine, meta: FileMeta, parts: list[tuple[ParsedReport, str, str]]) -> list[tuple[int, str]]:
    """Record each load of one file (``ParsedReport.parts``, with its reason) in a single transaction: an
    audit row each, its findings and (unless that part is rejected) its facts. Returns (load_id, status) per
    part — or one duplicate record when an overlapping run loaded the same content first."""
    try:
        if len(parts) == 1 and parts[0][0].live is not None:
            report, reason_zh, reason_en = parts[0]
            status = status_of(report)
            return [
                (
                    _record_live(report.live, meta, report, status, report.findings.counts(), reason_zh, reason_en),
                    status,
                )
            ]
        with engine.begin() as conn:
            recorded = []
            for report, reason_zh, reason_en in parts:
                status = status_of(report)
                recorded.append(
                    (_record(conn, meta, report, status, report.findings.counts(), reason_zh, reason_en), status)
                )
            return recorded
    except sa.exc.IntegrityError:
        with engine.connect() as conn:
            previous = find_previous(conn, meta.sha256)
        if previous is None:
            raise
        # An overlapping run loaded the same content first: the unique index stopped a second load.
        return [(record_duplicate(engine, meta, previous), DUPLICATE)]


def sheet_name_of(report: ParsedReport) -> str | None:
    """The audit row's sheet: the sheets a load was read from, in workbook order."""
    return storable("、".join(report.sheet_names), 200) if report.sheet_names else None


def _record(
    conn: Connection, meta: FileMeta, report: ParsedReport, status: str, counts: dict, reason_zh: str, reason_en: str
) -> int:
    load_id = insert_audit(
        conn,
        meta,
        {
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
        },
    )
    _insert_findings(conn, load_id, report)
    rows_loaded = 0
    if status in LOADED_STATUSES and report.quarantined_rows:
        _insert_quarantined(conn, load_id, report)
    if status in LOADED_STATUSES:
        rows_loaded = _insert_report_facts(conn, load_id, report, meta)
        _make_current(conn, load_id, report, meta)
    conn.execute(
        sa.text("UPDATE stg_file_load SET rows_loaded = :n, finished_at = :t WHERE load_id = :id"),
        {"n": rows_loaded, "t": now(), "id": load_id},
    )
    return load_id


def _record_live(
    live, meta: FileMeta, report: ParsedReport, status: str, counts: dict, reason_zh: str, reason_en: str
) -> int:
    """Finish the transaction a file's facts were already COPYed in (etl.ingest.stream.LiveCopy for a streamed
    file, etl.ingest.stream.Precopy while the suite ran): its audit row was inserted first with a provisional
    status and the facts went in under a savepoint. What is committed is what ``_record`` commits."""
    conn, load_id = live.conn, live.load_id
    try:
        live.close_copy()
        if status in LOADED_STATUSES:
            live.savepoint.commit()
        else:
            live.savepoint.rollback()  # a rejected file loads no facts
        conn.execute(
            sa.text(
                "UPDATE stg_file_load SET report_type = :report_type, district_code = :district_code, period = :period, "
                "sheet_name = :sheet_name, rows_read = :rows_read, status = :status, reason_zh = :reason_zh, "
                "reason_en = :reason_en, findings_critical = :c, findings_error = :e, findings_warning = :w "
                "WHERE load_id = :id"
            ),
            {
                "report_type": report.report_type,
                "district_code": report.district.code if report.district else None,
                "period": report.period,
                "sheet_name": sheet_name_of(report),
                "rows_read": report.rows_read,
                "status": status,
                "reason_zh": reason_zh,
                "reason_en": reason_en,
                "c": counts[F.CRITICAL],
                "e": counts[F.ERROR],
                "w": counts[F.WARNING],
                "id": load_id,
            },
        )
        _insert_findings(conn, load_id, report)
        rows_loaded = 0
        if status in LOADED_STATUSES and report.quarantined_rows:
            _insert_quarantined(conn, load_id, report)
        if status in LOADED_STATUSES:
            rows_loaded = live.count
            _make_current(conn, load_id, report, meta)
        conn.execute(
            sa.text("UPDATE stg_file_load SET rows_loaded = :n, finished_at = :t WHERE load_id = :id"),
            {"n": rows_loaded, "t": now(), "id": load_id},
        )
        live.transaction.commit()
    finally:
        live.close()
    return load_id


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


def fact_copy_lines(frame: pd.DataFrame, contract, lineage: str) -> list[str]:
    """COPY text lines of the facts in ``frame``: the lineage constants (``lineage_fields``), source row, the
    contract's fact columns (NULL where the file had no such column), approximate_cols."""
    null = np.full(len(frame), COPY_NULL, dtype=object)
    columns = [copy_texts(frame[SOURCE_ROW])]
    columns += [copy_texts(frame[c.name]) if c.name in frame else null for c in contract.fact_columns]
    columns.append(copy_texts(frame[APPROXIMATE]))
    return copy_text_lines(columns, lead=lineage)


def lineage_fields(load_id: int, sha256: str, sheet: str | None) -> str:
    """The first three COPY fields of every fact line: load_id, source_sha256, source_sheet."""
    return f"{load_id}\t{sha256}\t{copy_texts(pd.Series([sheet], dtype=object))[0]}"


def held_back(report: ParsedReport, frame: pd.DataFrame) -> np.ndarray:
    """Which rows of ``frame`` (the report's rows) are quarantined, by (sheet, Excel row)."""
    places = report.quarantined_rows
    if not places:
        return np.zeros(len(frame), dtype=bool)
    sheets = frame[SOURCE_SHEET] if SOURCE_SHEET in frame else pd.Series([report.sheet] * len(frame), index=frame.index)
    return pd.MultiIndex.from_arrays([sheets, frame[SOURCE_ROW]]).isin(list(places))


def _sheets_of(report: ParsedReport, frame: pd.DataFrame) -> list:
    return frame[SOURCE_SHEET].tolist() if SOURCE_SHEET in frame else [report.sheet] * len(frame)


def _insert_quarantined(conn: Connection, load_id: int, report: ParsedReport) -> None:
    """Rows held back under the quarantine policy, with their values, for the steward to follow up."""
    frame = report.quarantine_frame() if report.streamed else report.frame[held_back(report, report.frame)]
    reasons = {}
    for f in report.findings:
        if f.severity == F.ERROR and (f.sheet or report.sheet, f.row) in report.quarantined_rows:
            reasons.setdefault((f.sheet or report.sheet, f.row), []).append(f"{f.cell or f.column}：{f.message_zh}")
    sheets = _sheets_of(report, frame)
    records = frame.drop(columns=[c for c in (SOURCE_ROW, SOURCE_SHEET, APPROXIMATE) if c in frame])
    records = records.astype(object).where(records.notna(), None)
    conn.execute(
        sa.text(
            "INSERT INTO stg_quarantined_row (load_id, source_sheet, source_row, reason_zh, row_json) "
            "VALUES (:load_id, :sheet, :row, :reason, :data)"
        ),
        [
            {
                "load_id": load_id,
                "sheet": sheet,
                "row": int(row),
                "reason": "；".join(reasons.get((sheet, int(row)), []))
                or "该行有错误（同类问题较多，未逐条列出，详见回执）",
                "data": json.dumps(record, ensure_ascii=False, default=str),
            }
            for sheet, row, record in zip(sheets, frame[SOURCE_ROW], records.to_dict("records"), strict=True)
        ],
    )


def _insert_report_facts(conn: Connection, load_id: int, report: ParsedReport, meta: FileMeta) -> int:
    if report.streamed:
        return report.copy_facts(conn, load_id, meta.sha256)
    contract, frame = report.contract, report.frame
    if report.quarantined_rows:
        frame = frame[~held_back(report, frame)]
    columns = fact_column_names(contract)
    if conn.dialect.name == "postgresql":  # COPY text lines built column-wise (no Python call per value)
        by_sheet = frame.groupby(SOURCE_SHEET, sort=False) if SOURCE_SHEET in frame else [(report.sheet, frame)]
        lines = [
            line
            for sheet, rows in by_sheet
            for line in fact_copy_lines(rows, contract, lineage_fields(load_id, meta.sha256, sheet))
        ]
        insert_facts(conn, contract, columns, lines)
        return len(frame)
    data = {
        "load_id": [load_id] * len(frame),
        "source_sha256": [meta.sha256] * len(frame),
        "source_sheet": _sheets_of(report, frame),
        "source_row": frame[SOURCE_ROW].tolist(),
        "approximate_cols": frame[APPROXIMATE].tolist(),
    }
    for name in (c.name for c in contract.fact_columns):
        data[name] = frame[name].tolist() if name in frame else [None] * len(frame)
    rows = list(zip(*(map(driver_value, data[c]) for c in columns), strict=True))
    insert_facts(conn, contract, columns, rows)
    return len(rows)


def driver_value(value: object) -> object:
    """pandas/numpy scalars → plain Python values the DB drivers accept (NA → None)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def _make_current(conn: Connection, load_id: int, report: ParsedReport, meta: FileMeta) -> None:
    """The newest received accepted file for the key is current; older ones stay as history."""
    key = {"rt": report.report_type, "d": report.district.code if report.district else None, "p": report.period}
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
        return
    if current is not None:
        conn.execute(
            sa.text("UPDATE stg_file_load SET is_current = 0, superseded_by = :id WHERE load_id = :cur"),
            {"id": load_id, "cur": current["load_id"]},
        )
    conn.execute(sa.text("UPDATE stg_file_load SET is_current = 1 WHERE load_id = :id"), {"id": load_id})
