"""Findings: one problem in one place, phrased for the clerk (Chinese) and for logs (English)."""

from __future__ import annotations

import re
from array import array
from collections import Counter
from dataclasses import asdict, dataclass

CRITICAL = "critical"  # the file cannot be loaded at all
ERROR = "error"  # a row is wrong; the file is rejected until it is fixed
WARNING = "warning"  # loaded, but worth a look (approximate values, unknown streets)
SEVERITIES = (CRITICAL, ERROR, WARNING)
RANK = {WARNING: 1, ERROR: 2, CRITICAL: 3}  # how grave a severity is
MAX_PER_RULE = 1_000  # findings kept per rule and severity (etl.ingest.read.limits.Limits.max_findings_per_rule)
MAX_VALUE_CHARS = 200  # a value quoted in a finding; the file in the archive has it whole
MAX_MESSAGE_CHARS = 1_000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # no database text column holds these


def storable(text: str | None, limit: int | None = None) -> str | None:
    """Text every database, workbook and page can hold: NUL and lone surrogates become U+FFFD; cut to
    ``limit`` characters with an ellipsis."""
    if text is None:
        return None
    text = _UNSTORABLE.sub("\ufffd", text)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message_zh: str
    message_en: str
    sheet: str | None = None
    row: int | None = None  # Excel row number as the clerk sees it (1-based)
    column: str | None = None  # header as written in the file
    cell: str | None = None  # e.g. D12
    value: str | None = None

    def __post_init__(self) -> None:
        """Whatever a clerk's cell held, the finding quotes it in a form that can be stored and shown."""
        for name, limit in (
            ("message_zh", MAX_MESSAGE_CHARS),
            ("message_en", MAX_MESSAGE_CHARS),
            ("sheet", MAX_VALUE_CHARS),
            ("column", MAX_VALUE_CHARS),
            ("value", MAX_VALUE_CHARS),
        ):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, storable(value, limit))

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def where_zh(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"「{self.column}」列")
        if self.cell:
            parts.append(f"（{self.cell}）")
        return "".join(parts)


class FindingList(list):
    """The findings of one file, at most ``cap`` per rule and severity: a file with a million bad cells
    must not cost gigabytes. The rest are counted (``counts``, the receipt's and the warehouse's figures
    include them), the rows of row errors are kept (``error_rows``: the quarantine needs every one) and so
    are the cells they speak of, as row numbers per column (``OmittedCells``: one message per cell)."""

    def __init__(self, items=(), cap: int = MAX_PER_RULE):
        super().__init__()
        self.cap = cap
        self.kept: Counter = Counter()
        self.omitted: Counter = Counter()  # (rule, severity) → findings counted, not kept
        self.omitted_error_places: set[tuple[str | None, int]] = set()  # (sheet, row) of the row errors counted
        self.omitted_cells = OmittedCells()
        self.extend(items)

    def has_room(self, rule: str, severity: str) -> bool:
        return self.kept[(rule, severity)] < self.cap

    def room(self, rule: str, severity: str) -> int | float:
        """How many more findings of the rule this list keeps."""
        return max(0, self.cap - self.kept[(rule, severity)])

    def count_omitted(
        self, rule: str, severity: str, row: int | None, sheet: str | None = None, column: str | None = None
    ) -> None:
        """A finding counted, not kept; ``column``: the header of the cell it speaks of, if one."""
        self.omitted[(rule, severity)] += 1
        if row is None:
            return
        if severity == ERROR:
            self.omitted_error_places.add((sheet, row))
        if column is not None:
            self.omitted_cells.add(sheet, column, severity, [row])

    def count_omitted_rows(
        self, rule: str, severity: str, rows: list[int], sheet: str | None = None, column: str | None = None
    ) -> None:
        """``count_omitted`` for a finding on each of ``rows`` (of one sheet) at once."""
        if not rows:
            return
        self.omitted[(rule, severity)] += len(rows)
        if severity == ERROR:
            self.omitted_error_places.update((sheet, row) for row in rows)
        if column is not None:
            self.omitted_cells.add(sheet, column, severity, rows)

    def count_omitted_of(self, other: FindingList) -> None:
        """What ``other`` counted without keeping, counted here too."""
        self.omitted.update(other.omitted)
        self.omitted_error_places |= other.omitted_error_places
        self.omitted_cells.update(other.omitted_cells)

    def append(self, finding: Finding) -> None:
        key = (finding.rule, finding.severity)
        if self.kept[key] < self.cap:
            super().append(finding)
            self.kept[key] += 1
        else:
            self.count_omitted(finding.rule, finding.severity, finding.row, sheet=finding.sheet, column=finding.column)

    def extend(self, items) -> None:
        for finding in items:
            self.append(finding)
        if isinstance(items, FindingList):
            self.count_omitted_of(items)

    def __iadd__(self, items):
        self.extend(items)
        return self

    def counts(self) -> dict[str, int]:
        """Findings by severity, the counted ones included."""
        totals = {s: 0 for s in SEVERITIES}
        for finding in self:
            totals[finding.severity] += 1
        for (_rule, severity), n in self.omitted.items():
            totals[severity] += n
        return totals

    def error_rows(self) -> set[int]:
        """Excel rows of row errors (of a one-sheet table: a streamed CSV's)."""
        rows = {row for _sheet, row in self.omitted_error_places}
        rows.update(f.row for f in self if f.severity == ERROR and f.row is not None)
        return rows

    def error_places(self, default_sheet: str | None = None) -> set[tuple[str | None, int]]:
        """(sheet, Excel row) of row errors: a table read from several sheets has a row 5 on each.
        ``default_sheet`` stands for a finding that names no sheet."""
        places = {(sheet or default_sheet, row) for sheet, row in self.omitted_error_places}  # one set, not two
        places.update((f.sheet or default_sheet, f.row) for f in self if f.severity == ERROR and f.row is not None)
        return places

    def listed(self) -> list[Finding]:
        """What receipts and the warehouse list: the kept findings, then one line per rule saying how
        many more there are."""
        extra = [
            Finding(
                rule,
                severity,
                f"另有 {n} 处同类问题（{rule}）未逐条列出（每类最多列出 {self.cap} 处），请按上面列出的问题检查全表",
                f"{n} more findings of rule {rule} not listed (cap {self.cap})",
            )
            for (rule, severity), n in self.omitted.items()
            if n
        ]
        return [*self, *extra]


class OmittedCells:
    """The cells of findings counted but not kept: Excel rows per (sheet, column header, severity), 8 bytes
    a cell (a million bad cells in a column are 8 MB, not a set of tuples ten times that). Sheet and header
    as a Finding stores them (``cell_place``)."""

    def __init__(self):
        self.rows: dict[tuple[str | None, str | None, str], array] = {}

    def add(self, sheet: str | None, column: str, severity: str, rows) -> None:
        self.rows.setdefault((*cell_place(sheet, column), severity), array("q")).extend(rows)

    def update(self, other: OmittedCells) -> None:
        for key, rows in other.rows.items():
            self.rows.setdefault(key, array("q")).extend(rows)


def cell_place(sheet: str | None, column: str | None) -> tuple[str | None, str | None]:
    """A cell's sheet and column header as a Finding stores them (cut to MAX_VALUE_CHARS, storable)."""
    return storable(sheet, MAX_VALUE_CHARS), storable(column, MAX_VALUE_CHARS)
