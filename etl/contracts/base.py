"""The contract vocabulary: a report type is a set of columns (Chinese header, aliases, kind, unit), a key,
a period grain and a fact table. Derived columns are computed from the parsed columns before validation
(for example the 12345 closure deadline in Chinese working days)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from etl.contracts.publication import Publication
from etl.text import fold

# Value kinds the parser knows how to normalise (see etl/ingest/parse/values.py).
KINDS = {"text", "code", "int", "decimal", "date", "datetime", "bool", "district", "street"}


@dataclass(frozen=True)
class Column:
    name: str
    header: str  # canonical Chinese header as printed on the official template
    kind: str = "text"
    aliases: tuple[str, ...] = ()
    unit: str | None = None
    required: bool = False  # the column must be present in the file
    blank_is_zero: bool = False  # counts where clerks write —, -, /, 无 for "none"
    # a datetime whose time of day a rule needs (a reply within 2 hours): a column of dates alone is critical
    clock: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind}")


@dataclass(frozen=True)
class ReportContract:
    report_type: str
    title_zh: str
    period_grain: str  # quarter | month | day
    fact_table: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    date_column: str | None = None  # the column the period is read from, when the data carries one
    district_column: str = "district"
    suite: str = field(default="")
    # What a row error does: "reject_file" (the clerk fixes and resubmits; partial figures would mislead)
    # or "quarantine_rows" (load the good rows, hold the bad ones back in stg_quarantined_row).
    row_errors: str = "reject_file"
    history_columns: tuple[str, ...] = ()  # numeric columns checked against the same street's history
    derived: tuple[Column, ...] = ()  # computed by ``derive``, loaded like the others, never read from files
    derive: Callable | None = None  # (frame, period: str | None) -> frame with the derived columns added
    # derive also takes keep_datetime64=True and then leaves datetime columns datetime64 (the streamed path
    # of large CSVs never makes a Python datetime per cell)
    derive_keeps_datetime64: bool = False
    publication: Publication | None = None  # the mart view leaders read and how the review pack shows it

    def __post_init__(self) -> None:
        if not re.fullmatch(r"fct_[a-z0-9_]+", self.fact_table):  # it is written into SQL (mart_lineage)
            raise ValueError(f"{self.report_type}: fact table {self.fact_table!r} is not fct_<lowercase name>")

    @property
    def suite_name(self) -> str:
        return self.suite or self.report_type

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def fact_columns(self) -> list[Column]:
        """Everything the fact table stores besides lineage: file columns, then derived columns."""
        return [*self.columns, *self.derived]

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.fact_columns if c.name == name)

    def header_index(self) -> dict[str, str]:
        """Folded header key → column name, covering the canonical header, every alias, and the
        header without its unit when that is unambiguous within this report type."""
        index: dict[str, str] = {}
        base_owners: dict[str, set[str]] = {}
        for col in self.columns:
            for text in (col.header, *col.aliases):
                index[header_key(text)] = col.name
                base_owners.setdefault(header_base(text), set()).add(col.name)
        for base, owners in base_owners.items():
            if len(owners) == 1:
                index.setdefault(base, next(iter(owners)))
        return index


_BRACKETS = re.compile(r"[()\[\]【】〔〕<>《》:：]")
_UNIT_SUFFIX = re.compile(r"\(.*\)$")


def header_key(text: object) -> str:
    """清运垃圾（吨）, 清运垃圾(吨), 清运垃圾 吨 and a two-row 清运垃圾 | 吨 all fold to 清运垃圾吨."""
    return _BRACKETS.sub("", fold(text))


def header_base(text: object) -> str:
    """The header without a trailing unit in brackets: 出动人员（人次） → 出动人员."""
    return header_key(_UNIT_SUFFIX.sub("", fold(text)))
