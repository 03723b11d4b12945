"""How a report type is published: the vocabulary a contract uses to say which mart view leaders read, which of
its columns the review pack shows, how districts are ranked, what the headline figures are and how each
indicator is defined. The review pack (``etl.publish.review_pack``), the indicator printout (``etl.publish.indicators``) and the
definitions sheet are built from this data; none of them names a report type."""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds the pack knows how to show (Excel number format, HTML formatter): etl/publish/review_pack.py
INT, DEC1, DEC2, PCT, TEXT, RANK = "int", "dec1", "dec2", "pct", "text", "rank"
D_INT, D_DEC1, D_DEC2, D_PP = "d_int", "d_dec1", "d_dec2", "d_pp"
COLUMN_KINDS = {INT, DEC1, DEC2, PCT, TEXT, RANK, D_INT, D_DEC1, D_DEC2, D_PP, "mixed"}


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    kind: str = INT
    width: float = 12

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"{self.key}: unknown column kind {self.kind}")


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | line
    title: str
    keys: tuple[str, ...]  # value columns, one series each
    category: str = "district_name"
    y_title: str = ""
    stacked: bool = False


@dataclass(frozen=True)
class Definition:
    """One row of the pack's 指标说明 sheet."""

    name: str
    zh: str  # the definition in Chinese
    domain: str  # DOMAIN.md's own words where it defines the indicator, else ""
    view: str
    columns: str


@dataclass(frozen=True)
class DailySeries:
    """A city-wide table of every day around the period the pack shows, for families reported per day.

    window: "month" — every day of the shown day's month; "trailing" — the ``days`` days up to the latest.
    title: formatted with {month}, {start} and {end}."""

    window: str
    title: str
    delta_header: str  # the change of the first delta column on the previous day the view holds
    chart: Chart
    days: int = 31
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Publication:
    order: int  # the family's place in the pack and the printout
    sheet: str
    title_zh: str
    title_en: str
    view: str  # the mart view leaders query: period, district_code, district_name and the columns below
    period_col: str  # period | date
    period_label: str
    columns: tuple[Col, ...]
    rank_key: str
    rank_header: str
    deltas: tuple[Col, ...]  # key = view column; the change on the previous period of that column
    chart: Chart
    headline: tuple[tuple[str, str, str, str], ...]  # (column, label, kind, unit) for the overview
    definitions: tuple[Definition, ...]
    printout: tuple[str, ...]  # the view columns `python -m etl indicators` prints
    notes: tuple[str, ...] = ()
    # (column of the view counting rows whose figure is not final yet, note with {n} and {period}): when
    # the city row of the period has any, the section and the overview say the period is provisional
    provisional: tuple[str, str] | None = None
    city_row_in_view: bool = True  # False: the view has no 全市合计 row; the pack sums the districts in SQL
    # Per-day families: show the busiest day of the latest month (by rank_key) instead of the latest day;
    # the text is added to the period line
    busiest_day_note: str | None = None
    series: DailySeries | None = None

    def provisional_note(self, city_row: dict | None, period: str | None) -> str | None:
        if self.provisional is None or not city_row or not city_row.get(self.provisional[0]):
            return None
        return self.provisional[1].format(n=int(city_row[self.provisional[0]]), period=period)

    def view_columns(self) -> set[str]:
        """Every view column this publication reads: a test checks each exists in the view."""
        keys = {c.key for c in (*self.columns, *self.deltas)} | {h[0] for h in self.headline}
        keys |= {self.rank_key, *self.printout, *self.chart.keys}
        if self.provisional:
            keys.add(self.provisional[0])
        return keys
