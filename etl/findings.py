"""Findings: one problem in one place, phrased for the clerk (Chinese) and for logs (English)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

CRITICAL = "critical"  # the file cannot be loaded at all
ERROR = "error"  # a row is wrong; the file is rejected until it is fixed
WARNING = "warning"  # loaded, but worth a look (approximate values, unknown streets)
SEVERITIES = (CRITICAL, ERROR, WARNING)


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
