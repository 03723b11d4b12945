"""回执: the receipt a clerk gets back for every file, in their own area of the shared folder.

A copy of their workbook with each problem cell filled (red for errors, yellow for warnings) and an Excel
comment saying what is wrong, behind a first sheet 处理结果 with the status, the counts and every
finding linked to its cell. Files that are not xlsx (CSV, xls, ods, HTML exports) are copied as the table
we read. Everything we write goes through ``set_cell`` so formula-looking text stays text.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.hyperlink import Hyperlink

from etl.excel_safe import set_cell, write_workbook
from etl.ingest import findings as F
from etl.ingest.findings import Finding, FindingList
from etl.ingest.inbox.names import bounded_name
from etl.ingest.receipts.safe_workbook import values_only_copy
from etl.shared_paths import real_folder
from etl.statuses import receipt_label

RESULT_SHEET = "处理结果"
FILLS = {
    F.CRITICAL: PatternFill("solid", fgColor="FFC7CE"),
    F.ERROR: PatternFill("solid", fgColor="FFC7CE"),
    F.WARNING: PatternFill("solid", fgColor="FFEB9C"),
}
SEVERITY_ZH = {F.CRITICAL: "严重（整个文件退回）", F.ERROR: "错误", F.WARNING: "提示"}
COPYABLE = {".xlsx", ".xlsm"}
HEADER_FONT = Font(bold=True)


def receipt_path(receipts_dir: Path, folder: str | None, file_name: str) -> Path:
    """receipts/<区县>/<file>.回执.xlsx (without a leading "."); a second receipt for the same name gets (2),
    (3)… — never overwritten.
    Folder and name are bounded (etl.ingest.inbox.names.bounded_name): the receipt of any name can be written."""
    base = real_folder(receipts_dir / bounded_name(folder or "_未分区"), receipts_dir.parent)
    stem = f"{bounded_name(file_name).lstrip('.') or '_'}.回执"  # never a hidden file: Samba hides ".x" by default
    candidate, n = base / f"{stem}.xlsx", 2
    while os.path.lexists(candidate):
        candidate, n = base / f"{stem}({n}).xlsx", n + 1
    return candidate


def write_receipt(
    target: Path,
    source: Path | None,
    summary: dict,
    findings: list[Finding],
    source_sheets: list | None = None,
    root: Path | None = None,
) -> Path:
    """``summary`` holds file_name, report_title, district, period, status, reason_zh, rows_read, rows_loaded
    and, for a file loaded as a load per period, ``loads`` (each one's period, status, rows and reason).
    ``source``: the bytes that were read (None: nothing was read, the receipt is the result sheet);
    ``source_sheets``: the sheets read, copied when the format cannot be copied as a workbook; ``root``: the
    shared folder the receipt is written below (etl.excel_safe.write_workbook)."""
    if not isinstance(findings, FindingList):
        findings = FindingList(findings, cap=len(findings) + 1)
    workbook = _copy_of_submission(source, findings, source_sheets or [])
    marked = _mark_cells(workbook, findings)
    result_sheet(workbook, summary, findings, marked)
    return write_workbook(workbook, target, root)


def _copy_of_submission(source: Path | None, findings: list[Finding], source_sheets: list) -> Workbook:
    """The clerk's workbook with values only (etl.ingest.receipts.safe_workbook: no formula, external link, connection
    or macro survives), or the sheets we read as a new workbook."""
    if source is None or not any(f.cell for f in findings):
        return Workbook()  # nothing to point at: the receipt is the result sheet alone
    if source.suffix.lower() in COPYABLE:
        try:
            return values_only_copy(source)
        except Exception:  # noqa: BLE001 - an unusual workbook still gets a receipt, as a table copy
            pass
    workbook = Workbook()
    for i, source_sheet in enumerate(source_sheets):
        sheet = workbook.active if i == 0 else workbook.create_sheet()
        sheet.title = _sheet_title(source_sheet.name)
        for r, row in enumerate(source_sheet.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value not in (None, ""):
                    set_cell(sheet.cell(row=r, column=c), value if isinstance(value, (int, float)) else str(value))
    return workbook


def _sheet_title(name: str) -> str:
    return "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "数据"


def _mark_cells(workbook: Workbook, findings: list[Finding]) -> dict[tuple[str, str], str]:
    """Fill and comment each problem cell; returns (sheet, cell) → the sheet title used in the workbook."""
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.cell and finding.sheet:
            by_cell[(finding.sheet, finding.cell)].append(finding)
    marked = {}
    for (sheet_name, ref), items in _merged_together(workbook, by_cell).items():
        title = sheet_name if sheet_name in workbook.sheetnames else _sheet_title(sheet_name)
        if title not in workbook.sheetnames:
            continue
        cell = workbook[title][ref]
        worst = min(items, key=lambda f: F.SEVERITIES.index(f.severity))
        cell.fill = FILLS[worst.severity]
        text = "\n".join(f"【{SEVERITY_ZH[f.severity]}】{f.message_zh}" for f in items)
        if cell.comment is not None:  # e.g. the formula a values-only copy replaced (etl.ingest.receipts.safe_workbook)
            text = f"{text}\n{cell.comment.text}"
        cell.comment = Comment(text, "数据管理员", width=320, height=40 + 30 * len(items))
        for finding in items:
            marked[(sheet_name, finding.cell)] = title
    return marked


def _merged_together(workbook: Workbook, by_cell: dict) -> dict:
    """``by_cell`` with the findings on a cell inside a merged range (C5 under a 区县 merged down from C4)
    moved to the range's first cell, the one Excel shows and the only one that takes a fill or a comment."""
    moved: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for (sheet_name, ref), items in by_cell.items():
        title = sheet_name if sheet_name in workbook.sheetnames else _sheet_title(sheet_name)
        if title in workbook.sheetnames:
            ranges = workbook[title].merged_cells
            inside = next((r for r in ranges.ranges if ref in r), None) if ref in ranges else None
            ref = inside.start_cell.coordinate if inside is not None else ref
        moved[(sheet_name, ref)] += items
    return moved


def result_sheet(workbook: Workbook, summary: dict, findings: FindingList, marked: dict) -> None:
    if len(workbook.sheetnames) == 1 and workbook.active.max_row == 1 and workbook.active["A1"].value is None:
        sheet = workbook.active
        sheet.title = RESULT_SHEET
    else:
        sheet = workbook.create_sheet(RESULT_SHEET, 0)
    counts = findings.counts()
    lines = [
        ("文件", summary.get("file_name")),
        ("报表类型", summary.get("report_title") or "未识别"),
        ("区县", summary.get("district") or "未识别"),
        ("报表期间", summary.get("period") or "未识别"),
        ("处理结果", receipt_label(summary.get("status"))),
        ("说明", summary.get("reason_zh")),
        ("读取行数", summary.get("rows_read")),
        ("入库行数", summary.get("rows_loaded")),
        ("严重问题 / 错误 / 提示", f"{counts[F.CRITICAL]} / {counts[F.ERROR]} / {counts[F.WARNING]}"),
        # a workbook with a sheet per day or per month: a load per period, each with its own result
        *(
            (
                f"期间 {load['period'] or '未识别'}",
                f"{receipt_label(load['status'])}：{load['reason_zh']}",
            )
            for load in summary.get("loads") or []
        ),
    ]
    for r, (label, value) in enumerate(lines, start=1):
        set_cell(sheet.cell(row=r, column=1), label).font = HEADER_FONT
        set_cell(sheet.cell(row=r, column=2), value)
    status_cell = sheet.cell(row=5, column=2)
    status_cell.fill = FILLS[F.ERROR] if summary.get("status") == "rejected" else PatternFill()
    start = len(lines) + 2
    columns = ["序号", "严重程度", "工作表", "行", "列", "单元格", "填写的值", "问题说明", "Message"]
    for c, title in enumerate(columns, start=1):
        set_cell(sheet.cell(row=start, column=c), title).font = HEADER_FONT
    for i, f in enumerate(findings.listed(), start=1):
        row = start + i
        values = [i, SEVERITY_ZH[f.severity], f.sheet, f.row, f.column, f.cell, f.value, f.message_zh, f.message_en]
        for c, value in enumerate(values, start=1):
            set_cell(sheet.cell(row=row, column=c), value)
        sheet.cell(row=row, column=2).fill = FILLS[f.severity]
        title = marked.get((f.sheet, f.cell))
        if title:
            link = sheet.cell(row=row, column=6)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{title}'!{f.cell}", display=f.cell)
            link.font = Font(color="0563C1", underline="single")
    for column, width in zip("ABCDEFGHI", (8, 18, 14, 6, 22, 8, 18, 60, 50), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.cell(row=6, column=2).alignment = Alignment(wrap_text=True)
    sheet.freeze_panes = sheet.cell(row=start + 1, column=1)
    workbook.active = 0
