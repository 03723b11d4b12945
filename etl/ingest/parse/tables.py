"""Turn one district file into a typed DataFrame plus findings, driven by the report contracts."""

from __future__ import annotations

import gc
import math
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from etl.contracts import CONTRACTS, ReportContract
from etl.ingest import findings as F
from etl.ingest.findings import Finding, FindingList, column_letter, storable
from etl.ingest.parse import layout as L
from etl.ingest.parse.frames import dates, datetime_objects
from etl.ingest.parse.layout import (
    TableLayout,
    WorkbookTables,
    data_rows,
    find_tables,
    grand_total_label,
    merged_figures,
    title_text,
)
from etl.ingest.parse.units import written_factor
from etl.ingest.parse.values import (
    GROUPED_THOUSANDS,
    ColumnConverter,
    ValueProblem,
    as_typed,
    is_blank,
    parse_number,
)
from etl.ingest.read.isolated import read_isolated
from etl.ingest.read.limits import Limits
from etl.ingest.read.readers import Sheet, UnreadableFile, other_delimiters
from etl.reference.periods import most_common_period, period_from_sheet_name, period_from_text, period_keys, year_hint
from etl.reference.places import Place, Places, default_places

SOURCE_ROW = "_source_row"  # Excel row number (1-based) of each record, for findings and lineage
APPROXIMATE = "_approximate"  # comma-separated columns whose value was written as approximate (30余)
SOURCE_SHEET = "_source_sheet"  # the sheet of each record, in a table read from several sheets


@dataclass
class ParsedReport:
    path: Path
    contract: ReportContract | None = None
    sheet: str | None = None
    frame: pd.DataFrame | None = None
    findings: FindingList = field(default_factory=FindingList)  # capped per rule, the rest counted
    district: Place | None = None
    period: str | None = None
    header_cells: dict[str, tuple[str, str]] = field(default_factory=dict)  # column → (header as written, letter)
    total_rows: list[dict] = field(default_factory=list)
    source_sheets: list[Sheet] = field(default_factory=list)  # the sheets read, for receipts of non-xlsx files
    rows_total: int | None = None  # data rows read (a file read in chunks keeps no frame of them all)
    quarantine: pd.DataFrame | None = None  # the rows held back from the facts, with their parsed values
    # a table read from several sheets: each sheet's header cells (its columns may sit in other letters)
    sheet_headers: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    later_parts: list["ParsedReport"] = field(default_factory=list)  # the workbook's other periods: a load each
    _places: tuple | None = field(default=None, repr=False, compare=False)  # error_places' set, and what it was of

    @property
    def parts(self) -> list["ParsedReport"]:
        """The loads this file makes: one per period of its data sheets (etl.ingest.parse.tables.parse_file)."""
        return [self, *self.later_parts]

    @property
    def sheet_names(self) -> list[str]:
        """The sheets the table was read from, in workbook order."""
        return [sheet.name for sheet in self.source_sheets] or ([self.sheet] if self.sheet else [])

    @property
    def report_type(self) -> str | None:
        return self.contract.report_type if self.contract else None

    @property
    def rejected(self) -> bool:
        """Critical findings always reject; row errors reject unless the report type quarantines rows, and
        then when they hold back every row: a file none of whose rows is loaded is never current."""
        if any(f.severity == F.CRITICAL for f in self.findings):
            return True
        quarantines = self.contract is not None and self.contract.row_errors == "quarantine_rows"
        if not quarantines:
            return any(f.severity == F.ERROR for f in self.findings)
        return self.rows_read > 0 and len(self.error_places()) >= self.rows_read

    @property
    def quarantined_rows(self) -> set[tuple[str | None, int]]:
        """(sheet, Excel row) of the rows held back from the facts (only under the quarantine policy); not
        to be changed (``error_places``)."""
        if self.rejected or self.contract is None or self.contract.row_errors != "quarantine_rows":
            return set()
        return self.error_places()

    def error_places(self) -> set[tuple[str | None, int]]:
        """``findings.error_places`` on this report's sheet, built again only when a finding has been added
        since: a million held-back rows are a set of a million places, which the outcome, the record and
        the receipt each ask for. Findings are only ever added, kept or counted, so their numbers tell a
        change. The set is shared: not to be changed by the caller."""
        findings = self.findings
        state = (len(findings), sum(findings.omitted.values()), self.sheet)
        if self._places is None or self._places[0] is not findings or self._places[1] != state:
            self._places = (findings, state, findings.error_places(self.sheet))
        return self._places[2]

    def add(self, rule: str, severity: str, zh: str, en: str, **where) -> None:
        self.findings.append(Finding(rule, severity, zh, en, sheet=where.pop("sheet", self.sheet), **where))

    def add_cell(
        self, rule: str, severity: str, zh: str, en: str, column: str, row: int, value: object, sheet: str | None = None
    ) -> None:
        """A finding on one cell; beyond the rule's cap it is counted (its row kept for the quarantine), not
        made: a million bad cells must not cost a million findings' worth of work."""
        if not self.findings.has_room(rule, severity):
            sheet = sheet or self.sheet
            self.findings.count_omitted(rule, severity, row, sheet=sheet, column=self.header_of(column, sheet))
            return
        self.findings.append(self.cell_finding(rule, severity, zh, en, column, row, value, sheet))

    def cell_finding(
        self, rule: str, severity: str, zh: str, en: str, column: str, row: int, value: object, sheet: str | None = None
    ) -> Finding:
        """The finding ``add_cell`` would add, without adding it. ``sheet``: the row's sheet (default the
        report's: a table read from several sheets names it per row, ``sheet_of``)."""
        sheet = sheet or self.sheet
        header, letter = self.header_cell(column, sheet)
        return Finding(
            rule,
            severity,
            zh,
            en,
            sheet=sheet,
            row=row,
            column=header,
            cell=f"{letter}{row}" if letter else None,
            value=None if value is None else str(value),
        )

    def header_cell(self, column: str, sheet: str | None = None) -> tuple[str, str | None]:
        """(the header the clerk wrote for ``column``, a contract name, on ``sheet`` — default the report's;
        its column letter, None when the file has no such column)."""
        return self.sheet_headers.get(sheet or self.sheet, self.header_cells).get(column, (column, None))

    def header_of(self, column: str, sheet: str | None = None) -> str:
        """The header the clerk wrote for ``column`` on ``sheet`` (``header_cell``)."""
        return self.header_cell(column, sheet)[0]

    def sheet_of(self, position: int) -> str | None:
        """The sheet of the frame's row at ``position``."""
        if self.frame is not None and SOURCE_SHEET in self.frame:
            return self.frame[SOURCE_SHEET].iat[position]
        return self.sheet

    @property
    def rows_read(self) -> int:
        """Data rows read from the file (0 when it could not be read)."""
        if self.rows_total is not None:
            return self.rows_total
        return 0 if self.frame is None else len(self.frame)

    def held_back(self, frame: pd.DataFrame, places: set | None = None) -> np.ndarray:
        """Which rows of ``frame`` (rows of this report) are quarantined, by (sheet, Excel row); ``places``:
        ``quarantined_rows``, when the caller has it already."""
        places = self.quarantined_rows if places is None else places
        if not places:
            return np.zeros(len(frame), dtype=bool)
        return rows_at(frame, self.sheet, places)

    def quarantine_frame(self, places: set | None = None) -> pd.DataFrame:
        """The quarantined rows with their parsed values (``places`` as for ``held_back``)."""
        frame = self.quarantine if self.quarantine is not None else self.frame
        return frame[self.held_back(frame, places)]


def _row_places(frame: pd.DataFrame, sheet: str | None) -> pd.MultiIndex:
    """(sheet, Excel row) of each row of ``frame``: a table read from several sheets names its sheet per row."""
    sheets = frame[SOURCE_SHEET] if SOURCE_SHEET in frame else pd.Series([sheet] * len(frame), index=frame.index)
    return pd.MultiIndex.from_arrays([sheets, frame[SOURCE_ROW]])


def rows_at(frame: pd.DataFrame, sheet: str | None, places) -> np.ndarray:
    """Which rows of ``frame`` are at one of ``places`` ((sheet, Excel row) pairs). A table of one sheet
    compares its row numbers only: the pairs as an index cost a hash of every row (0.1 s a million)."""
    if SOURCE_SHEET in frame:
        return np.asarray(_row_places(frame, sheet).isin(list(places)))
    return frame[SOURCE_ROW].isin([row for at, row in places if at == sheet]).to_numpy(dtype=bool)


def folder_district(path: Path, inbox: Path | None, places: Places) -> tuple[str | None, Place | None]:
    """The clerk's folder (inbox/<区县>/file) and the place it names."""
    if inbox is None:
        return None, None
    try:
        relative = path.relative_to(inbox)
    except ValueError:
        return None, None
    if len(relative.parts) < 2:
        return None, None
    folder = relative.parts[0]
    return folder, places.resolve_district(folder)


def parse_file(
    path: Path,
    inbox: Path | None = None,
    places: Places | None = None,
    contracts: dict[str, ReportContract] = CONTRACTS,
    limits: Limits | None = None,
) -> ParsedReport:
    """``limits``: what the file may hold (default ``Limits()``); it is read in a child process under them."""
    with collector_paused():
        return _parse_file(path, inbox, places, contracts, limits or Limits())


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector off while a file is read: a register is hundreds of thousands of
    new cells in lists, none of them in a cycle, and every collection they trigger walks all the objects
    the process holds (GX's and Airflow's too): a quarter of the parse time. Reference counting still
    frees everything; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_file(
    path: Path, inbox: Path | None, places: Places | None, contracts: dict[str, ReportContract], limits: Limits
) -> ParsedReport:
    places = places or default_places()
    report = ParsedReport(path, findings=FindingList(cap=limits.max_findings_per_rule))
    folder, report.district = folder_district(path, inbox, places)
    if folder is not None and report.district is None:
        report.add(
            "unknown_folder",
            F.CRITICAL,
            f"提交文件夹「{folder}」不是本市区县，请放入本区县的文件夹",
            f"folder {folder!r} is not a known district",
        )
    try:
        found = _split_where_the_header_is(path, limits, list(contracts.values()))
    except UnreadableFile as exc:
        report.add("unreadable_file", F.CRITICAL, exc.zh, exc.en)
        return report
    if not found.tables:
        expected = "；".join(
            f"{c.title_zh}：{'、'.join(col.header for col in c.required_columns)}" for c in contracts.values()
        )
        report.add(
            "unknown_report_type",
            F.CRITICAL,
            f"未识别出报表类型：前{20}行中没有找到任何报表的表头。各报表应有的表头为 —— {expected}",
            "no known report header found in the first 20 rows",
        )
        return report
    tables = []
    for layout in found.tables:
        table = ParsedReport(path, findings=FindingList(cap=limits.max_findings_per_rule), district=report.district)
        _read_table(table, layout, places, inbox)
        tables.append(table)
    parts = [_merge(group) for group in _by_period(tables)]
    for part in parts:  # what is wrong with the file as a whole (its folder) is wrong with every load of it
        findings = FindingList(report.findings, cap=limits.max_findings_per_rule)
        findings.extend(part.findings)
        part.findings = findings
    _skipped_sheet_findings(parts[0], found.skipped)
    parts[0].later_parts = parts[1:]
    return parts[0]


def _split_where_the_header_is(path: Path, limits: Limits, contracts: list[ReportContract]) -> WorkbookTables:
    """The file's tables, read in a child process. A text table is split on the delimiter its first records
    suggest; when no complete header is found that way, or that split cannot be read (more fields than
    max_columns, a quote left open), it is split again on each other delimiter, and the first under which
    the header is found wins: the header decides, not a count of commas. Raises UnreadableFile when the
    file cannot be read, or when its first split cannot and no other finds a complete header (the reason
    is the first split's)."""
    try:
        sheets = read_isolated(path, limits)
    except UnreadableFile as exc:
        if exc.split_on is None:
            raise
        found = _split_otherwise(path, limits, contracts, exc.split_on, WorkbookTables([]))
        if not _complete(found):
            raise
        return found
    found = find_tables(sheets, contracts)
    if _complete(found) or len(sheets) != 1 or sheets[0].delimiter is None:
        return found
    return _split_otherwise(path, limits, contracts, sheets[0].delimiter, found)


def _split_otherwise(
    path: Path, limits: Limits, contracts: list[ReportContract], tried: str, found: WorkbookTables
) -> WorkbookTables:
    """The text table split on each delimiter but ``tried``: the first split with a complete header, else
    ``found`` (the tried split's tables) or, when that has none, the first split with an incomplete one
    (its findings say what it lacks)."""
    for delimiter in other_delimiters(tried):
        try:
            again = find_tables(read_isolated(path, limits, delimiter), contracts)
        except UnreadableFile:  # e.g. more fields than max_columns that way: not this delimiter
            continue
        if _complete(again):
            return again
        if again.tables and not found.tables:
            found = again
    return found


def _complete(found: WorkbookTables) -> bool:
    return bool(found.tables) and not found.tables[0].missing_required


def _by_period(tables: list[ParsedReport]) -> list[list[ParsedReport]]:
    """The sheets' tables grouped into loads: one per district × period, in sheet order. Sheets of one
    period (a sheet per street, or an export split in two) are one load; a sheet per day or per month is a
    load per period, so a later file of one day replaces that day only (DOMAIN.md, resubmission)."""
    groups: dict[tuple, list[ParsedReport]] = {}
    for table in tables:
        key = (table.district.code if table.district else None, table.period)
        groups.setdefault(key, []).append(table)
    return list(groups.values())


def _merge(tables: list[ParsedReport]) -> ParsedReport:
    """One load of several sheets' tables: the rows one after the other, each with its sheet."""
    if len(tables) == 1:
        return tables[0]
    first = tables[0]
    merged = ParsedReport(
        first.path,
        contract=first.contract,
        sheet=first.sheet,
        findings=FindingList(cap=first.findings.cap),
        district=first.district,
        period=first.period,
        header_cells=first.header_cells,
    )
    frames = []
    for table in tables:
        merged.findings.extend(table.findings)
        merged.total_rows += table.total_rows
        merged.source_sheets += table.source_sheets
        merged.sheet_headers[table.sheet] = table.header_cells
        frames.append(table.frame.assign(**{SOURCE_SHEET: table.sheet}))
    merged.frame = pd.concat(frames, ignore_index=True)
    return merged


_SKIPPED_ZH = {
    L.OTHER_TYPE: "工作表「{sheet}」是{title}，与本文件其余工作表的报表类型不同，未从本文件入库；请另存为单独的文件提交",
    L.INCOMPLETE: "工作表「{sheet}」像是{title}，但缺少必填列{missing}，未读取。如是要上报的数据，请补齐表头后重新提交",
    L.UNREADABLE: "工作表「{sheet}」无法读取（可能已损坏），其中的内容未入库。如其中有要上报的数据，请用 Excel/WPS 修复后重新提交",
}


def _skipped_sheet_findings(report: ParsedReport, skipped: list) -> None:
    """A warning for each sheet of the workbook that holds data but is not read, and why."""
    for item in skipped:
        contract = item.layout.contract if item.layout else None
        missing = (
            "、".join(f"「{contract.column(name).header}」" for name in item.layout.missing_required)
            if item.layout
            else ""
        )
        zh = _SKIPPED_ZH[item.why].format(
            sheet=item.sheet.name, title=contract.title_zh if contract else "", missing=missing
        )
        en = f"sheet {item.sheet.name!r} not read: {item.why}" + (
            f" ({item.sheet.unreadable})" if item.sheet.unreadable else ""
        )
        report.add(item.why, F.WARNING, zh, en, sheet=item.sheet.name)


def _read_table(report: ParsedReport, layout: TableLayout, places: Places, inbox: Path | None) -> None:
    """A sheet's table: its data rows are one chunk."""
    rows = data_rows(layout)
    table = TableParse(report, layout, places, inbox)
    for (r1, c1), (r2, c2) in merged_figures(layout):
        where, value = f"{column_letter(c1)}{r1 + 1}:{column_letter(c2)}{r2 + 1}", as_typed(layout.sheet.rows[r1][c1])
        report.add(
            "merged_figure",
            F.WARNING,
            f"单元格 {where} 已合并，其中的数值「{value}」只计入第{r1 + 1}行（一个数值只能属于一行）；"
            "如各行分别有该数值，请取消合并后逐行填写",
            f"the merged cells {where} hold one figure ({value!r}): counted in row {r1 + 1} only",
            row=r1 + 1,
            column=layout.headers.get(c1),
            cell=f"{column_letter(c1)}{r1 + 1}",
        )
    table.header_repeats += rows.header_repeats
    report.frame, _ = table.add_chunk(rows.indices, pd.DataFrame(rows.values, dtype=object), rows.total_rows)
    _rows_of_another_day(report, table.finish())


def _rows_of_another_day(report: ParsedReport, period: str | None) -> None:
    """A daily report's rows dated another day (a late row of the day before): each is that day's figure
    for its street, and where another file reported the street's day too the later submission counts
    (mart_flood_cleanup_daily) — said on the row, so the clerk knows which figure stands."""
    contract, frame = report.contract, report.frame
    if contract.period_grain != "day" or not period or frame is None or contract.date_column not in frame:
        return
    days = dates(frame, contract.date_column).dt.strftime("%Y-%m-%d")
    for position in np.flatnonzero((days.notna() & (days != period)).to_numpy()):
        day = days.iat[position]
        report.add_cell(
            "another_day",
            F.WARNING,
            f"该行日期为{day}，不是本日报的日期{period}：按{day}计入；该街道当日如另有报送，以较晚提交的为准",
            f"the row is dated {day}, not the report's day {period}: counted on {day}, the later submission wins",
            contract.date_column,
            int(frame[SOURCE_ROW].iat[position]),
            day,
        )


@dataclass
class TableParse:
    """One table's rows typed and checked chunk by chunk — a workbook's sheet is one chunk, a large CSV
    many (etl.ingest.read.csv_chunks) — and, at ``finish``, what needs every row: 合计 rows against the
    sum of all rows, the district of a file outside a district folder, the period. The findings come out
    in the same order whatever the chunking: the header's, no data, the rows repeating the header, each
    column's cell findings, the district, the totals, the period.

    Each chunk is derived (``contract.derive``) with ``period_hint``: given, or the period known after
    the first chunk; when ``finish`` finds another one, the caller reads the file again with it."""

    report: ParsedReport
    layout: TableLayout
    places: Places
    inbox: Path | None
    keep_datetime64: bool = False  # datetime columns stay datetime64 where the contract's derive allows it
    nul_check: bool | None = None  # whether text cells may hold NUL (None: as the sheet says)
    period_hint: str | None = None
    rows: int = 0
    groups: dict[tuple[int, int, int], FindingList] = field(default_factory=dict)
    mismatches: FindingList = field(init=False)  # rows of another district, capped as the report's findings
    numbers: dict[str, list[pd.Series]] = field(default_factory=dict)  # numeric columns, for 合计 rows
    period_keys: Counter = field(default_factory=Counter)
    district_codes: set = field(default_factory=set)
    totals: list[tuple[int, list[object]]] = field(default_factory=list)
    header_repeats: list[int] = field(default_factory=list)  # 0-based record numbers of rows repeating the header
    # for each column whose time of day a rule needs (Column.clock): (values seen, a time of day seen)
    clocks: dict[str, tuple[int, bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.mismatches = FindingList(cap=self.report.findings.cap)
        self.contract = start_table(self.report, self.layout)
        self.title = title_text(self.layout)
        self.converter = table_converter(self.report, self.layout, self.places, self.title)
        if self.nul_check is not None:
            self.converter.nul_check = self.nul_check
        self.keep_datetime64 = (
            self.keep_datetime64 and self.contract.derive_keeps_datetime64 and self.contract.derive is not None
        )
        self.converter.datetime64 = self.keep_datetime64

    def add_chunk(self, records, grid: pd.DataFrame, totals: list) -> tuple[pd.DataFrame, FindingList]:
        """``records``: the chunk's data rows (0-based record numbers of the sheet), ``grid`` their raw cells
        (columns by position), ``totals`` its 合计 rows. Returns the typed, checked and derived frame and the
        chunk's findings (kept for ``finish`` too)."""
        report, contract = self.report, self.contract
        self.totals += totals
        frame, groups = convert_rows(report, self.layout, self.converter, np.asarray(records) + 1, grid)
        for column in (c for c in contract.columns if c.clock and c.name in frame):
            seen, timed = self.clocks.get(column.name, (0, False))
            if not timed:  # once one value has a time of day, the column has them
                stamps = dates(frame, column.name).dropna()
                self.clocks[column.name] = (seen + len(stamps), bool((stamps != stamps.dt.normalize()).any()))
        found = FindingList(cap=math.inf)  # every finding of the chunk (each group is capped already)
        for key, items in groups:
            self.groups.setdefault(key, FindingList(cap=report.findings.cap)).extend(items)
            found.extend(items)
        if contract.district_column in frame:
            self.district_codes |= set(frame[contract.district_column].dropna())
        if report.district is not None:
            checked = collector(report, frame)
            check_district(checked, self.places)
            self.mismatches += checked.findings
            found.extend(checked.findings)
        for name in [SOURCE_ROW, *(n for n in self.layout.columns if contract.column(n).kind in ("int", "decimal"))]:
            self.numbers.setdefault(name, []).append(frame[name])
        if contract.date_column and contract.date_column in frame:
            self.period_keys.update(period_keys(frame[contract.date_column].dropna(), contract.period_grain))
        if self.period_hint is None:
            self.period_hint = self.period()
        self.rows += len(frame)
        return derive(contract, frame, self.period_hint, self.keep_datetime64), found

    def period(self) -> str | None:
        """The period most rows fall in, else the one the title, the sheet's name or the file's name says."""
        contract, report = self.contract, self.report
        return (
            most_common_period(self.period_keys)
            or period_from_text(self.title, contract.period_grain)
            or period_from_sheet_name(
                report.sheet or "", contract.period_grain, year_hint(self.title, report.path.name)
            )
            or period_from_text(report.path.name, contract.period_grain)
        )

    def finish(self) -> str | None:
        """The table-wide findings, after the chunks' own; returns (and sets) the report's period."""
        report, contract = self.report, self.contract
        report.total_rows = [{"row": r + 1, "cells": cells} for r, cells in self.totals]
        report.rows_total = self.rows
        if not self.rows:
            report.add("no_data", F.CRITICAL, "表头下方没有数据行", "the table has no data rows")
        for r in self.header_repeats:
            report.add(
                "repeated_header",
                F.WARNING,
                f"第{r + 1}行与表头相同（重复粘贴的表头），未作为数据读取；如不需要请删除该行",
                f"row {r + 1} repeats the header and was not read as data",
                row=r + 1,
            )
        for _key, items in sorted(self.groups.items(), key=lambda item: item[0]):
            report.findings.extend(items)
        if report.district is None and folder_district(report.path, self.inbox, self.places)[0] is None:
            codes = pd.DataFrame({contract.district_column: pd.Series(list(self.district_codes), dtype=object)})
            found = collector(report, codes)
            district_from_content(found, self.places)
            report.district = found.district
            report.findings += found.findings
        report.findings += self.mismatches
        for name, (seen, timed) in self.clocks.items():
            if seen >= 2 and not timed:  # one ticket at 00:00 may be one; a column of them is dates alone
                header = report.header_of(name)
                report.add(
                    "no_time_of_day",
                    F.CRITICAL,
                    f"「{header}」列只有日期、没有时刻（时:分），无法判断是否在2小时内首次答复；"
                    "请从12345平台导出含时刻的时间后重新提交",
                    f"the column {header} holds dates without a time of day: the 2-hour rule cannot be judged",
                    column=header,
                )
        if self.totals:
            numbers = collector(
                report, pd.DataFrame({n: pd.concat(s, ignore_index=True) for n, s in self.numbers.items()})
            )
            check_totals(numbers, self.layout, self.totals)
            report.findings += numbers.findings
        report.period = self.period()
        if report.period is None:
            example = {"quarter": "2021Q4", "month": "2022-03", "day": "2021-07-29"}[contract.period_grain]
            report.add(
                "unknown_period",
                F.CRITICAL,
                f"无法确定报表所属期间，请在标题、工作表名或文件名中注明（例如 {example}）",
                "cannot tell the reporting period from data, title or file name",
            )
        return report.period


def collector(report: ParsedReport, frame: pd.DataFrame | None = None) -> ParsedReport:
    """A report that collects findings worded and located exactly as ``report``'s would be (about
    ``frame``, when given): for checks run on a part of the rows."""
    return ParsedReport(
        report.path,
        contract=report.contract,
        sheet=report.sheet,
        frame=frame,
        district=report.district,
        header_cells=report.header_cells,
        sheet_headers=report.sheet_headers,
        findings=FindingList(cap=report.findings.cap),
    )


def derive(contract: ReportContract, frame: pd.DataFrame, period: str | None, keep_datetime64: bool = False):
    """The contract's derived columns. With ``keep_datetime64`` (the converter gave datetime64 columns) the
    contract's derive leaves them datetime64; otherwise datetime columns are datetime objects."""
    if contract.derive is not None and len(frame):
        frame = (
            contract.derive(frame, period, keep_datetime64=True) if keep_datetime64 else contract.derive(frame, period)
        )
    if not keep_datetime64:
        for name in [n for n in frame.columns if isinstance(frame[n].dtype, np.dtype) and frame[n].dtype.kind == "M"]:
            frame[name] = datetime_objects(frame[name])
    return frame


def start_table(report: ParsedReport, layout: TableLayout) -> ReportContract:
    """The report type, sheet and header cells from the layout, and the header's own findings."""
    contract = report.contract = layout.contract
    report.sheet = storable(layout.sheet.name, 200)  # what the warehouse's sheet columns hold
    report.source_sheets = [layout.sheet]
    header_row = layout.header_rows[0] + 1
    report.header_cells = {name: (layout.headers[c], column_letter(c)) for name, c in layout.columns.items()}
    for name in layout.missing_required:
        col = contract.column(name)
        report.add(
            "missing_column",
            F.CRITICAL,
            f"缺少必填列「{col.header}」（第{header_row}行表头）",
            f"required column {col.header} ({name}) is missing",
            row=header_row,
        )
    for c, text in layout.unknown_columns.items():
        row = layout.own_header_row(c) + 1  # 累计 / 出动人员: the cell of 出动人员, under the group's
        report.add(
            "unknown_column",
            F.WARNING,
            f"未知列「{text}」不属于{contract.title_zh}，该列未入库（原文件已存档）",
            f"unknown column {text!r} was not loaded",
            row=row,
            column=text,
            cell=f"{column_letter(c)}{row}",
        )
    unmeasured = [name for name, factor in header_unit_factors(layout).items() if factor is None]
    for name in unmeasured:  # a header unit of another quantity than the contract's
        column, c, written = contract.column(name), layout.columns[name], layout.written_units[name]
        report.add(
            "header_unit",
            F.CRITICAL,
            f"表头「{layout.headers[c]}」的单位是“{written}”，本表该列的单位是“{column.unit}”，不是同一种量；"
            f"请按“{column.unit}”填写该列并改正表头",
            f"column {layout.headers[c]!r} is in {written}, the report type's is in {column.unit}",
            row=header_row,
            column=layout.headers[c],
            cell=f"{column_letter(c)}{header_row}",
        )
    for c, text in layout.duplicate_columns.items():
        report.add(
            "duplicate_column",
            F.CRITICAL,
            f"列「{text}」重复出现，请删除多余的列",
            f"column {text!r} appears twice",
            row=header_row,
            column=text,
            cell=f"{column_letter(c)}{header_row}",
        )
    return contract


def table_converter(report: ParsedReport, layout: TableLayout, places: Places, title: str) -> ColumnConverter:
    return ColumnConverter(
        places,
        default_year=year_hint(title, report.path.name),
        district_code=report.district.code if report.district else None,
        cell_errors=layout.sheet.has_cell_errors,
        nul_check=layout.sheet.may_hold_nul,
        dots_may_group=layout.sheet.delimiter == ";",
        bare_factors=bare_factors(layout),
    )


def header_unit_factors(layout: TableLayout) -> dict[str, Fraction | None]:
    """For each number column of a contract unit whose header names a unit: how many of the contract's
    units one of the header's is (``units.written_factor``), None when the header's measures another
    quantity (服务时长（天） for 小时)."""
    factors = {}
    for name, written in layout.written_units.items():
        column = layout.contract.column(name)
        if column.kind in ("int", "decimal") and column.unit:
            factors[name] = written_factor(written, column.unit)
    return factors


def bare_factors(layout: TableLayout) -> dict[str, Fraction]:
    """For each number column whose header names a unit other than the contract's but of the same quantity
    (总投资（元） for 万元, 服务时长（分钟） for 小时): what a number written bare under it is in the contract's unit."""
    return {name: f for name, f in header_unit_factors(layout).items() if f is not None and f != 1}


def convert_rows(
    report: ParsedReport, layout: TableLayout, converter: ColumnConverter, source_rows, grid: pd.DataFrame
) -> tuple[pd.DataFrame, list[tuple[tuple[int, int, int], FindingList]]]:
    """Typed columns for the data rows in ``grid`` (raw cells, columns by position; ``source_rows`` their
    Excel row numbers), and the cell findings grouped by (column, kind, stage) in the order they are
    reported: per column its unreadable values (by stage: unparseable, not whole, formula errors), then
    unknown streets, then approximate values, each group by row. The groups of consecutive chunks of one
    table concatenate into the groups of the whole table."""
    contract = layout.contract
    frame = pd.DataFrame({SOURCE_ROW: pd.array(source_rows, dtype="int64")})
    rows = frame[SOURCE_ROW].to_numpy()
    groups: dict[tuple[int, int, int], FindingList] = {}
    cap = report.findings.cap

    def add_each(key, rule, severity, positions: list[int], make) -> None:
        """The group's findings on the rows at ``positions`` (``make(i)``: the one at position i), made while
        the group has room; the rest counted at once, with their cells (a million bad cells: one call)."""
        if not positions:
            return
        group = groups.get(key)
        if group is None:
            group = groups[key] = FindingList(cap=cap)
        made = int(min(len(positions), group.room(rule, severity)))
        for i in positions[:made]:
            group.append(make(i))
        if made < len(positions):
            beyond = rows[positions[made:]].tolist()
            group.count_omitted_rows(rule, severity, beyond, sheet=report.sheet, column=headers[key[0]])

    headers = [report.header_of(name) for name in layout.columns]  # by the column's order, as the group keys
    approximate = pd.Series([""] * len(frame), dtype=object)
    for order, (name, c) in enumerate(layout.columns.items()):
        column = contract.column(name)
        raw = grid[c] if c in grid else pd.Series([None] * len(frame), dtype=object)
        converted = converter.convert(column, raw)
        frame[name] = converted.values.set_axis(frame.index)
        by_stage: dict[int, list[int]] = {}
        for i, problem in converted.problems.items():
            by_stage.setdefault(problem.stage, []).append(i)
        for stage, positions in by_stage.items():
            add_each(
                (order, 0, stage),
                "value_format",
                F.ERROR,
                positions,
                lambda i, problems=converted.problems, raw=raw, name=name: report.cell_finding(
                    "value_format", F.ERROR, problems[i].zh, problems[i].en, name, int(rows[i]), raw.iat[i]
                ),
            )
        add_each(
            (order, 1, 0),
            "unknown_street",
            F.WARNING,
            list(converted.notes),
            lambda i, notes=converted.notes, raw=raw, name=name: report.cell_finding(
                "unknown_street", F.WARNING, notes[i].zh, notes[i].en, name, int(rows[i]), raw.iat[i]
            ),
        )
        approximate_rows = converted.approximate[converted.approximate].index

        def approximate_finding(i, converted=converted, raw=raw, name=name):
            value = f"{converted.values.iat[i]:g}"
            return report.cell_finding(
                "approximate_value",
                F.WARNING,
                f"「{raw.iat[i]}」是约数，按 {value} 入库并标记为约数",
                f"approximate value {raw.iat[i]!r} loaded as {value}",
                name,
                int(rows[i]),
                raw.iat[i],
            )

        add_each((order, 2, 0), "approximate_value", F.WARNING, list(approximate_rows), approximate_finding)
        if len(approximate_rows):
            approximate = approximate.where(
                ~converted.approximate.to_numpy(), approximate.map(lambda s, n=name: f"{s},{n}" if s else n)
            )
    frame[APPROXIMATE] = approximate.where(approximate != "", None).to_numpy()
    return frame, sorted(groups.items(), key=lambda item: item[0])


def district_from_content(report: ParsedReport, places: Places) -> None:
    """A file dropped outside any district folder belongs to the one district its rows name."""
    column = report.contract.district_column
    codes = set(report.frame[column].dropna()) if column in report.frame else set()
    if len(codes) == 1:
        report.district = places.by_code(codes.pop())
        return
    report.add(
        "unknown_district",
        F.CRITICAL,
        "无法确定报表所属区县：请把文件放入本区县的文件夹" + ("（文件中出现了多个区县）" if codes else ""),
        "cannot tell which district the file belongs to",
    )


def check_totals(report: ParsedReport, layout: TableLayout, total_rows: list) -> None:
    """The clerk's own 合计/总计/汇总 row (``grand_total_label``) must equal the sum of the detail rows (blank
    formula caches are skipped). When it does not and some detail cells of the column were numbers written
    as text (30余, ３０, 1.2万, a number stored as text), the warning names their rows: a SUM formula in
    Excel, WPS or LibreOffice skips text, which is why a total computed by the spreadsheet differs; and says
    so when the total is exactly the sum of the other rows."""
    grand = [(r, cells, label) for r, cells in total_rows if (label := grand_total_label(cells)) is not None]
    if not grand or report.frame is None or not len(report.frame):
        return
    r, cells, label = grand[-1]
    bare = bare_factors(layout)  # the total is written in the header's unit, as the rows are
    for name, c in layout.columns.items():
        column = report.contract.column(name)
        if column.kind not in ("int", "decimal") or c >= len(cells) or is_blank(cells[c]):
            continue
        try:
            stated, _ = parse_number(cells[c], column.unit, bare.get(name))
        except ValueProblem:
            continue
        values = report.frame[name]
        total = float(values.fillna(0).sum())
        if stated is None or abs(stated - total) <= 0.005 + 1e-9 * abs(total):
            continue
        zh = f"{label}行为 {stated:g}，但明细各行相加为 {total:g}"
        en = f"the total row says {stated:g} but the rows add up to {total:g}"
        text_rows = _text_number_rows(report, layout, c, values)
        if text_rows:
            shown = "、".join(str(row) for _, row, _ in text_rows[:10]) + (
                f"等 {len(text_rows)} 行" if len(text_rows) > 10 else "行"
            )
            examples = "".join(f"「{text}」" for text in dict.fromkeys(text for _, _, text in text_rows[:3]))
            zh += f"；其中第{shown}的数值是以文字填写的（{examples}），Excel/WPS 的求和公式不计入以文字填写的单元格"
            en += f"; row(s) {', '.join(str(row) for _, row, _ in text_rows[:10])} hold numbers written as text, which a SUM formula skips"
            numeric = total - sum(float(values.iat[i]) for i, _, _ in text_rows)
            if abs(stated - numeric) <= 0.005 + 1e-9 * abs(numeric):
                zh += f"，{label} {stated:g} 正是其余以数字填写的各行之和"
                en += f": {stated:g} is exactly the sum of the rows written as numbers"
        report.add_cell("total_mismatch", F.WARNING, zh + "，请核对", en, name, r + 1, _cell_value(cells[c]))


# how an HTML or CSV export shows a number (its every cell is text): digits, ASCII, perhaps grouped by commas
_PLAIN_NUMBER = re.compile(rf"[+-]?(?:{GROUPED_THOUSANDS}|\d+)(?:\.\d+)?", re.ASCII)


def _text_number_rows(
    report: ParsedReport, layout: TableLayout, c: int, values: pd.Series
) -> list[tuple[int, int, str]]:
    """(position in the frame, Excel row, text) of the detail cells of column ``c`` that hold a number written as text: an
    approximation or unit (22余, 1.2万), full-width digits (３０), separators (1,234), or — where the sheet
    types its numbers (a workbook, not HTML or CSV, whose every cell is text) — a plain number stored as
    text. Only for a frame that knows its source rows within ``layout.sheet`` (not a streamed file's)."""
    if SOURCE_ROW not in report.frame:
        return []
    grid = layout.sheet.rows
    raws = []
    for position, row in enumerate(report.frame[SOURCE_ROW].tolist()):
        if not 0 < row <= len(grid):
            return []
        line = grid[row - 1]
        raws.append((position, row, line[c] if c < len(line) else None))
    typed = any(isinstance(raw, (int, float)) and not isinstance(raw, bool) for _, _, raw in raws)
    found = []
    for position, row, raw in raws:
        if raw.__class__ is not str or is_blank(raw):
            continue
        value = values.iat[position]
        if pd.isna(value):  # None, NaN or, in a whole-number column, pandas' NA
            continue  # not read as a number (a finding of its own), nothing the total misses
        if typed or not _PLAIN_NUMBER.fullmatch(raw.strip()):
            found.append((position, row, raw.strip()))
    return found


def _cell_value(value: object) -> object:
    """The stated total as the clerk sees it, whatever the format stored: 94, not 94.0, and 85.6 to the 15
    significant digits a spreadsheet shows and xlsx stores (an .xls keeps the double: 85.60000000000001)."""
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        value = float(f"{value:.15g}")
        return int(value) if value.is_integer() else value
    return value


def check_district(report: ParsedReport, places: Places) -> None:
    """Rows must belong to the clerk's folder district; a mismatch is never loaded under either. Every
    mismatched row is a row error (the quarantine holds each one back); the first of them up to the rule's
    cap are listed, the rest counted — a city-wide export dropped into one district's folder is a
    million mismatches."""
    frame, column = report.frame, report.contract.district_column
    if column not in frame or report.district is None:
        return
    codes = frame[column]
    wrong = np.flatnonzero((codes.notna() & (codes != report.district.code)).to_numpy(dtype=bool))
    if not len(wrong):
        return
    rule, severity = "district_mismatch", F.ERROR
    rows = frame[SOURCE_ROW].to_numpy()[wrong]
    listed = min(len(wrong), report.findings.room(rule, severity))
    for i, row in zip(wrong[:listed].tolist(), rows[:listed].tolist(), strict=True):
        report.add_cell(
            rule,
            severity,
            f"本行区县与提交文件夹「{report.district.name}」不一致，请核对是否放错文件夹或填错区县",
            f"row district differs from the folder district {report.district.name}",
            column,
            row,
            places.by_code(codes.iat[i]).name,
        )
    report.findings.count_omitted_rows(
        rule, severity, rows[listed:].tolist(), sheet=report.sheet, column=report.header_of(column)
    )
