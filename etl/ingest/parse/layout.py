"""Find the table inside a sheet: which rows are the header, which report type it is, where data ends.

Clerks put a merged title and a 填报单位 line above the header, use one- or two-row headers (清运垃圾 over
吨 | 车次), merge 区县 down the rows, and finish with 合计 and 填报人/审核人 lines. The report type is
recognised from the header signature, never from the file name.
"""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from etl.contracts import ReportContract, header_base, header_key
from etl.ingest.parse.units import UNITS, unit_named, written_factor
from etl.ingest.read.readers import Sheet
from etl.text import INVISIBLE, INVISIBLE_CHARACTERS, fold, visible

HEADER_SCAN_ROWS = 20
# a column that only numbers the rows (序号, 行号, No.): not loaded, and no finding — unless a report type has it
ROW_NUMBER_HEADERS = frozenset(header_key(text) for text in ("序号", "行号", "No.", "NO.", "No", "NO", "no."))
TOTAL_MARKERS = ("合计", "总计", "小计", "累计", "共计")
GRAND_TOTAL_MARKERS = ("合计", "总计", "共计")  # what the rows above add up to (小计 is a part's, 累计 a running total)
# a grand total's label when it is all the cell holds: 合 or 总 (合 | 计 in two cells), 汇总 (an Excel/WPS table's
# 汇总行; a name may begin with 汇总)
GRAND_TOTAL_ALONE = ("合", "总", "汇总")
FOOTER_MARKERS = ("填报人", "审核人", "联系电话", "制表人", "填表人", "负责人", "填报日期", "制表日期")
# a note or an annex under the table (注：…, 说明：…, 附表：…), in a row's first filled cell, ends it too
NOTE_MARKERS = ("注", "说明", "备注", "附注")  # followed by a colon
ANNEX_MARKERS = ("附表", "附件")


@dataclass
class TableLayout:
    contract: ReportContract
    sheet: Sheet
    header_rows: tuple[int, ...]  # 0-based row indices of the header
    columns: dict[str, int]  # contract column → 0-based column index
    headers: dict[int, str]  # column index → header as written (two-row headers joined with " / ")
    unknown_columns: dict[int, str] = field(default_factory=dict)
    duplicate_columns: dict[int, str] = field(default_factory=dict)
    # contract column → the unit its header names in brackets where that is not the contract's (总投资（元）)
    written_units: dict[str, str] = field(default_factory=dict)

    @property
    def missing_required(self) -> list[str]:
        return [c.name for c in self.contract.required_columns if c.name not in self.columns]

    def own_header_row(self, c: int) -> int:
        """The 0-based header row holding column ``c``'s own header text (the lowest of a two-row header
        that has one)."""
        rows = self.sheet.rows
        return next(
            (r for r in reversed(self.header_rows) if c < len(rows[r]) and cell_text(rows[r][c])), self.header_rows[0]
        )

    @property
    def first_data_row(self) -> int:
        return self.header_rows[-1] + 1

    @property
    def score(self) -> tuple[int, int]:
        required_found = len(self.contract.required_columns) - len(self.missing_required)
        return required_found, len(self.columns)


@dataclass
class DataRows:
    indices: np.ndarray  # 0-based row indices of the data rows in the grid
    total_rows: list[tuple[int, list[object]]]
    footer_row: int | None
    values: np.ndarray | None = None  # the data rows' cells as one 2-D object array (short rows padded with None)
    grid: list[list[object]] = field(default_factory=list, repr=False)
    header_repeats: list[int] = field(default_factory=list)  # 0-based indices of rows that repeat the header

    @property
    def rows(self) -> list[tuple[int, list[object]]]:
        """(0-based row index, cells) of each data row; built on demand (a register has 24,671)."""
        return [(int(i), self.grid[i]) for i in self.indices]


def cell_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def fill_merged(sheet: Sheet, numbers: frozenset[int] = frozenset(), from_row: int = 0) -> list[list[object]]:
    """A copy of the grid where every cell of a merged range carries the range's top-left value. Rows no
    merged range touches are the sheet's own row lists (read-only to callers); the others are copies.
    ``numbers``: columns of figures, whose ranges merged down over data rows (from ``from_row`` on) keep
    their value in their first row only — 4 vehicles merged over two streets' rows are 4, not 4 + 4
    (``merged_figures`` lists them for a finding)."""
    grid = list(sheet.rows)
    copied: set[int] = set()
    for (r1, c1), (r2, c2) in sheet.merged:
        if r1 >= len(grid) or c1 >= len(grid[r1]):
            continue
        value = grid[r1][c1]
        last = r1 if r1 >= from_row and numbers.intersection(range(c1, c2 + 1)) else r2
        for r in range(r1, min(last, len(grid) - 1) + 1):
            if r not in copied:
                grid[r] = list(grid[r])
                copied.add(r)
            row = grid[r]
            for c in range(c1, min(c2, len(row) - 1) + 1):
                row[c] = value
    return grid


# a group header over the figures of the report's own period (当日 | 累计 side by side): its children are the
# contract's columns; a 累计 group beside it stays "累计 / 出动人员", a column nobody knows (said, not loaded)
THIS_PERIOD = frozenset({"当日", "本日", "今日", "当天", "本月", "当月", "本期", "本季度", "当季"})


def _header_candidates(sheet: Sheet, grid: list[list[object]], r: int) -> list[tuple[tuple[int, ...], dict[int, str]]]:
    """Header texts per column for a one-row header at r and a two-row header at r, r+1."""
    raw = sheet.rows
    single = {c: cell_text(v) for c, v in enumerate(raw[r]) if cell_text(v)}
    candidates = [((r,), single)]
    if r + 1 < len(raw):
        merged_parent = grid[r]  # merged parents are filled across their children
        double: dict[int, str] = {}
        width = max(len(raw[r]), len(raw[r + 1]))
        for c in range(width):
            parent = cell_text(merged_parent[c]) if c < len(merged_parent) else ""
            own_parent = cell_text(raw[r][c]) if c < len(raw[r]) else ""
            child = cell_text(raw[r + 1][c]) if c < len(raw[r + 1]) else ""
            if not parent and child:  # a group header typed once, not merged over its children
                parent = _left_group_parent(raw, r, c)
            if parent and child and fold(parent) in THIS_PERIOD:  # 当日 over 出动人员（人次）: the day's figures
                double[c] = child
            elif parent and child and parent != child:
                double[c] = f"{parent} / {child}"
            elif parent or child:
                double[c] = parent or child
            elif own_parent:
                double[c] = own_parent
        candidates.append(((r, r + 1), double))
    return candidates


def _left_group_parent(raw: list[list[object]], r: int, c: int) -> str:
    """Without merge information: an empty parent cell belongs to the nearest group header on its left."""
    for left in range(min(c, len(raw[r])) - 1, -1, -1):
        text = cell_text(raw[r][left])
        if text:
            has_child = left < len(raw[r + 1]) and cell_text(raw[r + 1][left])
            return text if has_child else ""
    return ""


_HEADER_INDEX: dict[int, tuple[ReportContract, dict[str, str]]] = {}


def header_index(contract: ReportContract) -> dict[str, str]:
    """``contract.header_index()``, built once per contract: find_table matches every candidate header row
    of every sheet against every contract."""
    cached = _HEADER_INDEX.get(id(contract))
    if cached is None or cached[0] is not contract:
        cached = _HEADER_INDEX[id(contract)] = (contract, contract.header_index())
    return cached[1]


@lru_cache(maxsize=4096)
def _header_keys(text: str) -> tuple[str, str]:
    """``header_key`` and ``header_base`` of a header text (two-row headers joined): every candidate row is
    matched against every contract, so the same texts come back six times per row."""
    joined = text.replace(" / ", "")
    return header_key(joined), header_base(joined)


_BRACKETED_UNIT = re.compile(r"\(([^()]+)\)$")  # 总投资(元) → 元 (folded: full-width brackets are half-width)


def _by_unit(contract: ReportContract, base: str, text: str) -> str | None:
    """The column a header names by its unit where its words name several (清运垃圾 is 清运垃圾（吨） and
    清运垃圾（车次）: 清运垃圾（公斤） is the tons, in another unit of weight), when exactly one of them
    takes that unit."""
    written = _BRACKETED_UNIT.search(fold(text.replace(" / ", "")))
    unit = written[1] if written else ""
    if unit_named(unit) is None:
        return None
    owners = [
        c.name
        for c in contract.columns
        if c.unit
        and any(header_base(h) == base for h in (c.header, *c.aliases))
        and written_factor(unit, c.unit) is not None
    ]
    return owners[0] if len(owners) == 1 else None


def match_header(
    contract: ReportContract, sheet: Sheet, header_rows: tuple[int, ...], headers: dict[int, str]
) -> TableLayout:
    index = header_index(contract)
    layout = TableLayout(contract, sheet, header_rows, {}, headers)
    for c, text in headers.items():
        key, base = _header_keys(text)
        name = index.get(key) or index.get(base) or _by_unit(contract, base, text)  # 最多跑动次数（次） → 最多跑动次数
        written = (
            _BRACKETED_UNIT.search(fold(text.replace(" / ", ""))) if name is not None and key not in index else None
        )
        if written and name not in layout.columns:
            layout.written_units[name] = written[1]
        if name is None:
            if key not in ROW_NUMBER_HEADERS:  # 序号 numbers the rows of almost every form: no data, no finding
                layout.unknown_columns[c] = text
        elif name in layout.columns:
            layout.duplicate_columns[c] = text
        else:
            layout.columns[name] = c
    return layout


def find_table(sheets: list[Sheet], contracts: list[ReportContract]) -> TableLayout | None:
    """The best (sheet, header rows, report type) across visible sheets; None when nothing matches."""
    best: TableLayout | None = None
    for sheet in sorted(sheets, key=lambda s: not s.visible):
        layout = best_on_sheet(sheet, contracts)
        if layout is not None and (best is None or _rank(layout) > _rank(best)):
            best = layout
        if best is not None and sheet.visible and not best.missing_required:
            break  # a complete table on a visible sheet: hidden sheets are not read
    return best


def best_on_sheet(sheet: Sheet, contracts: list[ReportContract]) -> TableLayout | None:
    """The best (header rows, report type) of one sheet; None when nothing on it looks like a report."""
    best: TableLayout | None = None
    grid = fill_merged(sheet) if sheet.merged else sheet.rows
    for r in range(min(HEADER_SCAN_ROWS, len(sheet.rows))):
        for header_rows, headers in _header_candidates(sheet, grid, r):
            if len(headers) < 2:
                continue
            for contract in contracts:
                layout = match_header(contract, sheet, header_rows, headers)
                if _plausible(layout) and (best is None or _rank(layout) > _rank(best)):
                    best = layout
    return best


# Why a sheet of a workbook with data tables was not read (etl.ingest.parse.tables turns each into a finding)
OTHER_TYPE = "other_report_sheet"  # a complete table of another report type than the workbook's
INCOMPLETE = "incomplete_sheet"  # looks like a report of the workbook's type, but required columns are missing
UNREADABLE = "unreadable_sheet"  # the reader could not read the sheet (Sheet.unreadable)


@dataclass
class SkippedSheet:
    sheet: Sheet
    why: str  # one of the constants above
    layout: TableLayout | None = None


@dataclass
class WorkbookTables:
    tables: list[TableLayout]  # the tables to read, in sheet order: all of one report type
    skipped: list[SkippedSheet] = field(default_factory=list)


def find_tables(sheets: list[Sheet], contracts: list[ReportContract]) -> WorkbookTables:
    """Every visible sheet's complete table of the workbook's report type (the type most visible sheets
    hold; the first sheet's on a tie), and the visible sheets that look like data but are not read, with
    why: clerks keep a sheet per day or per month, and a sheet left out must be said, never dropped.
    A workbook without a complete visible table is read as before: its best table (hidden or
    incomplete, which then gives the file's findings)."""
    found = [(sheet, best_on_sheet(sheet, contracts)) for sheet in sheets]
    complete = [
        layout for sheet, layout in found if sheet.visible and layout is not None and not layout.missing_required
    ]
    if not complete:
        best = find_table(sheets, contracts)
        skipped = [SkippedSheet(sheet, UNREADABLE) for sheet in sheets if sheet.visible and sheet.unreadable]
        return WorkbookTables([best] if best is not None else [], skipped if best is not None else [])
    kinds = [layout.contract.report_type for layout in complete]
    main = max(dict.fromkeys(kinds), key=kinds.count)  # dicts keep order: the first on a tie
    tables, skipped = [], []
    for sheet, layout in found:
        if sheet.unreadable:
            if sheet.visible:
                skipped.append(SkippedSheet(sheet, UNREADABLE))
        elif layout is None:
            continue  # instructions, notes, an empty sheet: no table
        elif not sheet.visible:
            continue  # hidden by the clerk (old data, lookup lists): DOMAIN.md's workbooks carry them, never read
        elif layout.contract.report_type != main:
            if not layout.missing_required:
                skipped.append(SkippedSheet(sheet, OTHER_TYPE, layout))
        elif layout.missing_required:
            skipped.append(SkippedSheet(sheet, INCOMPLETE, layout))
        else:
            tables.append(layout)
    return WorkbookTables(tables, skipped)


def _plausible(layout: TableLayout) -> bool:
    required = len(layout.contract.required_columns)
    return len(layout.columns) >= 3 and layout.score[0] * 2 >= required


def _rank(layout: TableLayout) -> tuple:
    # complete over incomplete, then visible, then more matched columns, then a units row under the
    # header (出动人员 over 人次) read as part of it, then fewer header rows
    return (
        not layout.missing_required,
        layout.sheet.visible,
        layout.score,
        _is_unit_row(layout),
        -len(layout.header_rows),
    )


def _is_unit_row(layout: TableLayout) -> bool:
    if len(layout.header_rows) < 2:
        return False
    cells = [cell_text(v) for v in layout.sheet.rows[layout.header_rows[1]] if cell_text(v)]
    return bool(cells) and all(fold(c).strip("()（）") in UNITS for c in cells)


_GAP = rf"[\s{INVISIBLE}]*"  # spaces, and the invisible characters a copy leaves (etl.text.INVISIBLE)


def _spaced(words: tuple[str, ...]) -> str:
    r"""合计 → 合\s*计: clerks write 合 计 and 合　计 too."""
    return "|".join(_GAP.join(word) for word in words)


_ALONE = rf"|^{_GAP}(?:{_spaced(GRAND_TOTAL_ALONE)}){_GAP}[:：]?{_GAP}$"
_TOTAL_CELL = re.compile(rf"^{_GAP}(?:{_spaced(TOTAL_MARKERS)}){_ALONE}")
_GRAND_TOTAL_CELL = re.compile(rf"^{_GAP}(?:{_spaced(GRAND_TOTAL_MARKERS)}){_ALONE}")
_FOOTER_CELL = re.compile(rf"^{_GAP}(?:{_spaced(FOOTER_MARKERS)})")
# 注：…, 说明：…; 附表：…, 附件1 …, 附表（一）…, 附件 物资… — the word alone, or followed by a colon, a number or a
# letter (in brackets or not) or a space (附件材料电子化 is a task's name)
_NOTE_CELL = re.compile(
    rf"^{_GAP}(?:(?:{_spaced(NOTE_MARKERS)}){_GAP}[:：]"
    rf"|(?:{_spaced(ANNEX_MARKERS)})(?:[\s\u3000:：（(]|[0-9一二三四五六七八九十A-Za-z]|$))"
)
# a total named for what it adds up, written before the marker: the whole or a part of the form (全区合计,
# 总合计, 以上合计, 本日合计, 本页小计, 各街道合计, 本年累计), a place or office (明山区合计, 北地街道小计, 市本级
# 小计, 市直合计, 社区居委会合计) or a category (社区卫生环境类小计); 城镇新增就业累计 names a task, and is data.
# After a colon it may say what it counts (以上合计：3项).
_NAMED_TOTAL_CELL = re.compile(
    rf"^{_GAP}(?P<name>(?:全|总|本|以上|各)[^\s\d{INVISIBLE}]{{0,4}}?"
    rf"|[^\s\d{INVISIBLE}]{{1,10}}?(?:区|县|市|镇|乡|街道|社区|村|办事处|居委会|本级|直|类))"
    rf"{_GAP}(?P<marker>{'|'.join(TOTAL_MARKERS)}){_GAP}(?:[:：].*)?$"
)
WHOLE_PREFIXES = ("全", "总", "以上")  # a named total of the whole (全区合计, 总合计, 以上合计) is the grand total
_FOOTER_FIRST = (
    {m[0] for m in FOOTER_MARKERS} | {" ", "\u3000", "\t", "\n"} | set(INVISIBLE_CHARACTERS)
)  # before the regex


def data_rows(layout: TableLayout) -> DataRows:
    """Rows below the header up to the footer, without blank and 合计 rows (kept apart for cross-checks)
    and rows that repeat the header (``repeated_headers``). Runs once per row of large registers, so it
    only looks at text cells, with precompiled patterns."""
    sheet = layout.sheet
    grid = fill_merged(sheet, figure_columns(layout), layout.first_data_row) if sheet.merged else sheet.rows
    headers = header_rows_as_written(layout, grid)
    return classify_rows(grid, layout.first_data_row, headers=headers, as_written=sheet.rows if sheet.merged else None)


def figure_columns(layout: TableLayout) -> frozenset[int]:
    """The sheet columns of the table's figures (counts, amounts): a figure belongs to one row."""
    figures = {c.name for c in layout.contract.columns if c.kind in ("int", "decimal")}
    numbering = {c.name for c in layout.contract.columns if header_key(c.header) in ROW_NUMBER_HEADERS}  # 序号
    return frozenset(c for name, c in layout.columns.items() if name in figures - numbering)


def merged_figures(layout: TableLayout) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The merged ranges of the sheet that run down over data rows in a column of figures (0-based
    ((first row, first column), (last row, last column))): their value is read in their first row only."""
    figures = figure_columns(layout)
    return [
        ((r1, c1), (r2, c2))
        for (r1, c1), (r2, c2) in layout.sheet.merged
        if r2 > r1 and r1 >= layout.first_data_row and figures.intersection(range(c1, c2 + 1))
    ]


def header_rows_as_written(layout: TableLayout, grid: list[list[object]] | None = None) -> list[list[object]]:
    """The header's rows as a repeat of them may be written: as in the sheet, and — where cells of the
    header are merged (清运垃圾 over 吨 | 车次) — with each merged range's value in every cell of it, as a
    copy pasted with its merges reads."""
    rows = [layout.sheet.rows[h] for h in layout.header_rows]
    if grid is None or grid is layout.sheet.rows:
        return rows
    return rows + [grid[h] for h in layout.header_rows]


def classify_rows(
    grid: list[list[object]],
    start: int,
    end: int | None = None,
    headers: list[list[object]] = (),
    as_written: list[list[object]] | None = None,
) -> DataRows:
    """``data_rows`` on ``grid[start:end]`` (row indices stay those of ``grid``): blank rows skipped, 合计
    rows apart, the first footer row ends the table; rows that repeat one of ``headers`` apart.
    ``as_written``: the sheet's rows before merged ranges were filled in (``fill_merged``), which decide what
    kind each row is — a date merged down over the 合计 row is the rows above's, and that row's first cell
    of its own is 合计 — while the data rows' values are the grid's."""
    stop = len(grid) if end is None else end
    values = _object_array(grid[start:stop])
    kinds = None if as_written is None else _object_array(as_written[start:stop])
    data, totals, footer, repeats = classify_array_under(values, headers, kinds)
    rows = grid if as_written is None else as_written
    return DataRows(
        start + np.flatnonzero(data),
        [(start + p, rows[start + p]) for p in totals],
        None if footer is None else start + footer,
        values[data],
        grid,
        [start + int(p) for p in repeats],
    )


def classify_array_under(
    values: np.ndarray, headers: list[list[object]], kinds: np.ndarray | None = None
) -> tuple[np.ndarray, list[int], int | None, np.ndarray]:
    """``classify_array`` for the rows under a header (``headers``: its rows as written), with the rows that
    repeat it set apart first: such a row is neither data nor — whatever its cells say, a 联系电话 or 负责人
    column's header — the footer that ends the table. Returns the data mask, the 合计 rows, the footer
    row and the repeated header rows (those above the footer). ``kinds``: the same rows as written, before
    merged ranges were filled in, to classify by (``classify_rows``)."""
    repeats = repeated_headers(values, headers)
    data, totals, footer = classify_array(values if kinds is None else kinds, set_apart=set(repeats.tolist()))
    if footer is not None:
        repeats = repeats[repeats < footer]
    data[repeats] = False
    return data, totals, footer, repeats


# the header columns a repeat is looked for in, vectorised (a repeat is then compared cell by cell): one
# of its first two filled cells must be written as in the header (or trimmed, or after a byte-order mark)
REPEAT_PROBE_COLUMNS = 2


def repeated_headers(values: np.ndarray, headers: list[list[object]]) -> np.ndarray:
    """Positions of the rows of ``values`` that repeat one of the table's header rows: two or more filled
    cells, and each the text of the same column of that header row. A header pasted again between blocks
    of rows, or repeated on every page of an export, is no data: read as data its every cell would be a
    finding; two exports joined into one file carry the second's header too, after its byte-order mark.
    Vectorised on the header row's first ``REPEAT_PROBE_COLUMNS`` filled columns; the few rows that match
    there are compared cell by cell."""
    found: set[int] = set()
    width = values.shape[1] if values.ndim == 2 else 0
    for header in headers:
        texts = [_header_text(v) for v in header[:width]] + [""] * max(0, width - len(header))
        filled = [c for c, text in enumerate(texts) if text]
        if len(filled) < 2:
            continue
        probe = np.zeros(len(values), dtype=bool)
        for c in filled[:REPEAT_PROBE_COLUMNS]:
            column = values[:, c]
            for written in {header[c], texts[c], BOM + texts[c]}:
                probe |= column == written
        for position in np.flatnonzero(probe):
            cells = [_header_text(v) for v in values[position]]
            shown = [c for c, text in enumerate(cells) if text]
            if len(shown) >= 2 and all(cells[c] == texts[c] for c in shown):
                found.add(int(position))
    return np.array(sorted(found), dtype=np.int64)


BOM = "\ufeff"  # a text file's byte-order mark: where two exports were joined, the second's is in a cell


def _header_text(value: object) -> str:
    return cell_text(value).lstrip(BOM).strip()


def _object_array(rows: list[list[object]]) -> np.ndarray:
    """The rows as one 2-D array of their cells (short rows padded with None)."""
    width = max(map(len, rows), default=0)
    if all(len(row) == width for row in rows):  # one flat pass: numpy need not look for nested sequences
        cells = itertools.chain.from_iterable(rows)
        return np.fromiter(cells, dtype=object, count=len(rows) * width).reshape(len(rows), width)
    values = np.full((len(rows), width), None, dtype=object)
    for i, row in enumerate(rows):
        values[i, : len(row)] = row
    return values


_WHITESPACE_CODES = {c for c in range(0x3001) if chr(c).isspace()} | {ord(c) for c in INVISIBLE_CHARACTERS}


# a first character no blank, 合计 or footer cell can start with marks a data row at a glance
def _code_table(codes: set[int]) -> np.ndarray:
    """Whether each code point is one of ``codes``: looked up by index, a third of ``np.isin``'s time."""
    table = np.zeros(sys.maxunicode + 1, dtype=bool)
    table[sorted(codes)] = True
    return table


_SPECIAL_FIRST = _code_table(
    _WHITESPACE_CODES
    | {ord(m[0]) for m in FOOTER_MARKERS + TOTAL_MARKERS + GRAND_TOTAL_ALONE + NOTE_MARKERS + ANNEX_MARKERS}
)
_FOOTER_FIRST_TABLE = _code_table(_WHITESPACE_CODES | {ord(m[0]) for m in FOOTER_MARKERS})


def classify_array(values: np.ndarray, set_apart: set[int] = frozenset()) -> tuple[np.ndarray, list[int], int | None]:
    """``classify_row`` for every row of a 2-D object array, without a Python step per row for the rows
    that are plainly data: (data mask, positions of 合计 rows, position of the footer row or None). A row
    whose first cell starts with a character no blank, 合计 or footer cell can start with, and with no cell
    starting like a footer, is data; the few others are classified one by one. ``set_apart``: positions
    known to be none of these (a repeated header), left out."""
    if values.size == 0:
        return np.zeros(len(values), dtype=bool), [], None
    first = values.astype("U1").view(np.uint32).reshape(values.shape)  # str(cell)[:1]; "" → 0, None → "N"
    # A None read as "N" matters only where emptiness does, the first column; elsewhere it can at most send
    # a row to classify_row below (were "N" to start a footer), never take one away from it.
    first[:, 0][np.equal(values[:, 0], None)] = 0
    plain = (first[:, 0] != 0) & ~_SPECIAL_FIRST[first[:, 0]] & ~_FOOTER_FIRST_TABLE[first].any(axis=1)
    plain[_named_total_candidates(values[:, 0])] = False
    data, totals = plain.copy(), []
    for position in np.flatnonzero(~plain):
        if position in set_apart:  # known not to be data, a total or the footer (classify_array_under)
            continue
        kind = classify_row(values[position].tolist())
        if kind == "footer":
            data[position:] = False
            return data, totals, int(position)
        if kind == "total":
            totals.append(int(position))
        elif kind == "data":
            data[position] = True
    return data, totals, None


def _named_total_candidates(column: np.ndarray) -> np.ndarray:
    """Positions of the text cells of ``column`` that hold 计 (全区合计 …: what a named total ends with); one
    search of the whole column first — most columns hold none."""
    try:
        joined = "\x00".join(column.tolist())
    except TypeError:  # cells that are no text
        joined = "\x00".join(v for v in column.tolist() if v.__class__ is str)
    if "计" not in joined:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.fromiter((v.__class__ is str and "计" in v for v in column), bool, len(column)))


def classify_row(
    cells: list[object], _footer_first=_FOOTER_FIRST, _footer=_FOOTER_CELL.match, _total=_TOTAL_CELL.match
) -> str:
    """ "blank" (every cell None, "" or whitespace), "footer" (a cell starts like 填报人/审核人…, or the first
    filled cell is a note or an annex: 注：…, 附表…), "total" (the first filled cell is 合计/总计…, or a
    total named for what it adds up: 全区合计, 明山区合计) or "data"."""
    first = first_filled(cells)
    if first is None:
        return "blank"
    for v in cells:
        if v.__class__ is str and v[:1] in _footer_first and _footer(v):
            return "footer"
    if isinstance(first, str):
        if _NOTE_CELL.match(first):
            return "footer"
        if _total(first) or _NAMED_TOTAL_CELL.match(first):
            return "total"
    return "data"


def first_filled(cells: list[object]) -> object | None:
    """The first cell that is not None, "" or whitespace (None when there is none)."""
    return next((v for v in cells if not (v is None or (isinstance(v, str) and not visible(v).strip()))), None)


def is_grand_total(cells: list[object]) -> bool:
    """Whether a total row (``classify_row``) is the table's grand total, which the rows above must add up
    to: its first filled cell is 合计/总计…, a lone 合 or 总, or 汇总 — not 小计 or 累计."""
    return grand_total_label(cells) is not None


def grand_total_label(cells: list[object]) -> str | None:
    """A grand total row's name as the clerk labelled it, for the messages about it: 合计, 总计 or 汇总 (合 | 计
    in two cells is 合计); None when the row is not the grand total."""
    first = first_filled(cells)
    if not isinstance(first, str):
        return None
    if _GRAND_TOTAL_CELL.match(first) is None:
        named = _NAMED_TOTAL_CELL.match(first)
        whole = named and visible(named["name"]).startswith(WHOLE_PREFIXES) and named["marker"] in GRAND_TOTAL_MARKERS
        return f"{visible(named['name']).strip()}{named['marker']}" if whole else None  # 以上合计：3项 → 以上合计
    return {"总": "总计", "汇": "汇总", "共": "共计"}.get(visible(first).strip()[:1], "合计")


def title_text(layout: TableLayout) -> str:
    """Everything written above the header (title, 填报单位 and date line), for period detection."""
    return " ".join(cell_text(v) for row in layout.sheet.rows[: layout.header_rows[0]] for v in row if cell_text(v))


def chunk_data_rows(chunk, layout: TableLayout) -> tuple[np.ndarray, list, bool, list[int]]:
    """``data_rows`` for one chunk of a table read in chunks (a DataFrame of text cells indexed by record
    number): (record numbers of the data rows, 合计 rows, whether a footer row ended the table here, record
    numbers of the rows that repeat the header)."""
    if len(chunk) and chunk.index[0] < layout.first_data_row:  # the first chunk, with the header: any other is all data
        chunk = chunk[chunk.index >= layout.first_data_row]
    if not len(chunk):
        return np.empty(0, dtype=np.int64), [], False, []
    values = chunk.to_numpy(dtype=object)
    data, totals, footer, repeats = classify_array_under(values, header_rows_as_written(layout))
    index = chunk.index.to_numpy()
    totals = [(int(index[p]), values[p].tolist()) for p in totals]
    return index[data], totals, footer is not None, [int(index[p]) for p in repeats]
