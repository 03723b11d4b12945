"""城市报表评审材料 — the review pack city leaders read in the review meeting.

``build_review_pack(engine, out_dir, as_of)`` writes two files into ``out_dir`` (normally
``SHARED_DIR/published``): ``城市报表评审材料_<as_of>.xlsx`` (native Excel tables and charts) and an
``.html`` page with the same name (one self-contained page: inline CSS, inline SVG charts, no script, no
network). Nothing is ever overwritten: a second pack for the same day gets (2), (3)… like every file the
pipeline files away (``etl.ingest.pipeline.unused_path``).

Rules the pack keeps:

* Every number comes from a mart view (``SELECT … FROM mart_…``, values only as bound parameters). Python
  adds nothing but the district ranking (by the family's headline rate, ties share a rank: 1, 2, 2, 4) and
  differences between two periods of the same view column (较上期). City totals are the views' own
  全市合计 rows; only for a view that has none (the flood view), the city totals are SQL sums over the view.
* A family is a report type's ``Publication`` (its contract, ``etl/contracts/<type>.py``): the view, the
  columns shown, the ranking, the headline figures and the definitions; nothing here names a report type.
* The period of a family is the latest one the view holds that began on or before ``as_of`` (default
  today); "previous period" is the latest earlier period the view holds. Volunteer activity is reported
  per day: the pack shows the busiest day of the latest month (the city-wide drive day, e.g. 2022-03-04)
  unless ``volunteer_day`` names one, and lists every day of that month.
* Every workbook cell goes through ``etl.excel_safe.set_cell`` (a clerk's "=HYPERLINK(…)" stays text) and
  every HTML value through ``html.escape``.
* A view that is empty or does not exist yet gives its sheet/section a 暂无数据 line instead of an error.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import itertools
import os
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.engine import Connection, Engine

from etl.config import local_time
from etl.contracts import CONTRACTS
from etl.contracts.publication import (
    D_DEC1,
    D_DEC2,
    D_INT,
    D_PP,
    DEC1,
    DEC2,
    INT,
    PCT,
    RANK,
    TEXT,
    Chart,
    Col,
    Definition,
    Publication,
)
from etl.excel_safe import save_workbook, set_cell
from etl.ingest.pipeline import unused_path
from etl.shared_paths import NEW_FILE, pinned_folder, write_new

PACK_NAME = "城市报表评审材料"
CITY_TOTAL = "全市合计"
DASH = "—"
NO_PREVIOUS = "无上期数据"
NO_DATA = "暂无数据"
APPROVAL_TEXT = {True: "已审核", False: "待审核"}  # a row's 审核 column: every version behind it approved, or not

# --------------------------------------------------------------------------------------------------
# What a column is and how it is shown

# kind → (Excel number format, HTML formatter); the kinds are the contracts' (etl.contracts.publication)
NUMBER_FORMATS = {
    INT: "#,##0",
    DEC1: "#,##0.0",
    DEC2: "#,##0.00",
    PCT: '0.00"%"',  # the view's value (99.3 means 99.30 %), shown with two decimals and a % sign
    RANK: "0",
    D_INT: "+#,##0;-#,##0;0",
    D_DEC1: "+#,##0.0;-#,##0.0;0.0",
    D_DEC2: "+#,##0.00;-#,##0.00;0.00",
    D_PP: "+0.00;-0.00;0.00",
}
_DIGITS = {DEC1: 1, D_DEC1: 1, DEC2: 2, D_DEC2: 2, PCT: 2, D_PP: 2}


def format_value(value: object, kind: str) -> str:
    """A value as the HTML page (and the overview text) shows it; None is —."""
    if value is None:
        return DASH
    if kind == TEXT or isinstance(value, str):
        return str(value)
    if kind in (INT, RANK):
        return f"{int(value):,}"
    if kind == D_INT:
        return f"{int(value):+,}"
    digits = _DIGITS.get(kind, 2)
    if kind == PCT:
        return f"{float(value):,.{digits}f}%"
    if kind in (D_DEC1, D_DEC2, D_PP):
        return f"{float(value):+,.{digits}f}"
    return f"{float(value):,.{digits}f}"


@dataclass
class Table:
    title: str
    columns: list[Col]
    rows: list[dict]
    chart: Chart | None = None
    empty_text: str = NO_DATA
    notes: list[str] = field(default_factory=list)


@dataclass
class Section:
    sheet: str
    anchor: str
    title_zh: str
    title_en: str
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# The indicator families: one per report type, as its contract publishes it (etl/contracts/<type>.py)


@dataclass(frozen=True)
class Family:
    key: str  # the report type
    publication: Publication

    def __getattr__(self, name: str):  # the publication's fields read as the family's own
        return getattr(self.publication, name)


FAMILIES: tuple[Family, ...] = tuple(
    sorted((Family(key, c.publication) for key, c in CONTRACTS.items()), key=lambda f: (f.publication.order, f.key))
)
FAMILY_BY_KEY = {f.key: f for f in FAMILIES}

# --------------------------------------------------------------------------------------------------
# Definitions (指标说明): Chinese wording, DOMAIN.md's own words where it defines the indicator, source view

PACK_DEFINITIONS: tuple[Definition, ...] = tuple(
    Definition(*d)
    for d in (
        (
            "报送率",
            "已收到（已入库）的报表 ÷ 应报报表 × 100%；被退回的文件不算已报。",
            "Reporting completeness (per district, report type, period): reports received ÷ reports expected;",
            "mart_completeness_by_district",
            "completeness_pct",
        ),
        (
            "及时率",
            "截止时间前收到的报表 ÷ 应报报表 × 100%。",
            "timeliness: received by the deadline ÷ expected.",
            "mart_completeness_by_district",
            "timeliness_pct",
        ),
        (
            "未报送 / 逾期报送",
            "应报而尚无入库文件的报表（含已报送但被退回）/ 截止时间后才收到的报表；应报清单与截止时间见报送日历。",
            "",
            "mart_missing_reports, mart_reporting_completeness",
            "state_zh, deadline, received_at",
        ),
        (
            "排名",
            "各区县（含市本级）按各表的排名指标从高到低排名，并列同名次（1、2、2、4）："
            + "；".join(f"{f.sheet}按{next(c.header for c in f.columns if c.key == f.rank_key)}" for f in FAMILIES)
            + "。",
            "",
            "（由本材料按视图数值排序）",
            "",
        ),
        (
            "较上期",
            "本期数值 − 上期数值（同一视图中本期之前最近的一期；比率为百分点）；视图中无上期数据时显示“—”。",
            "",
            "（由本材料按视图数值相减）",
            "",
        ),
    )
)
DEFINITIONS: tuple[Definition, ...] = (*(d for f in FAMILIES for d in f.definitions), *PACK_DEFINITIONS)

# --------------------------------------------------------------------------------------------------
# Reading the views


def _has_view(conn: Connection, name: str) -> bool:
    if conn.dialect.name == "postgresql":
        return bool(conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar())
    return (
        conn.execute(
            sa.text("SELECT COUNT(*) FROM sqlite_master WHERE type IN ('view', 'table') AND name = :n"), {"n": name}
        ).scalar()
        > 0
    )


def _plain(value: object) -> object:
    """Driver values made uniform across SQLite and PostgreSQL: NUMERIC → int/float, dates → ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _fetch(conn: Connection, sql: str, params: dict | None = None) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in conn.execute(sa.text(sql), params or {}).mappings()]


def _family_sql(family: Family) -> str:
    """Column names come from the family specs in this module only; no value is ever interpolated."""
    columns = ", ".join(c.key for c in family.columns)
    head = f"{family.period_col} AS period, district_code, district_name, approved"
    if family.city_row_in_view:
        return f"SELECT {head}, {columns} FROM {family.view}"
    # A view without a city row: the city's totals are sums over the view, in SQL.
    sums = ", ".join(f"SUM({c.key}) AS {c.key}" for c in family.columns)
    return (
        f"SELECT {head}, {columns} FROM {family.view} UNION ALL "
        f"SELECT {family.period_col} AS period, NULL AS district_code, :city_total AS district_name, "
        f"MIN(approved) AS approved, {sums} "
        f"FROM {family.view} GROUP BY {family.period_col}"
    )


def _period_start(period: str) -> dt.date | None:
    """First day of a period: 2021Q4, 2021-12 or 2021-07-26 (None when it is none of these)."""
    try:
        if len(period) == 6 and period[4] in "Qq":
            return dt.date(int(period[:4]), 3 * int(period[5]) - 2, 1)
        if len(period) == 7:
            return dt.date(int(period[:4]), int(period[5:7]), 1)
        return dt.date.fromisoformat(period[:10])
    except (ValueError, TypeError, IndexError):
        return None


def _not_after(rows: list[dict], as_of: dt.date) -> list[dict]:
    kept = []
    for row in rows:
        start = _period_start(str(row["period"])) if row["period"] is not None else None
        if start is not None and start <= as_of:
            kept.append(row)
    return kept


def _code_order(row: dict) -> tuple:
    """Districts by code, the city total row last."""
    return (row["district_code"] is None, str(row["district_code"] or ""))


def competition_rank(rows: list[dict], key: str) -> None:
    """rank = 1 + number of rows with a strictly higher value; ties share a rank; None gets no rank."""
    values = [r[key] for r in rows if r.get(key) is not None]
    for row in rows:
        value = row.get(key)
        row["rank"] = None if value is None else 1 + sum(1 for v in values if v > value)


def _delta(current: object, previous: object, kind: str) -> object:
    if current is None or previous is None or isinstance(current, str) or isinstance(previous, str):
        return None
    diff = current - previous
    return round(diff, _DIGITS.get(kind, 0)) if isinstance(diff, float) else diff


@dataclass
class FamilyResult:
    family: Family
    available: bool
    period: str | None = None
    previous: str | None = None
    districts: list[dict] = field(default_factory=list)
    city: dict | None = None
    series: list[dict] = field(default_factory=list)  # the family's DailySeries: city rows of the days around
    chosen_day: bool = False  # busiest-day families: the day was asked for (volunteer_day), not the busiest one


def _family_result(conn: Connection, family: Family, as_of: dt.date, volunteer_day: str | None) -> FamilyResult:
    if not _has_view(conn, family.view):
        return FamilyResult(family, available=False)
    rows = _not_after(_fetch(conn, _family_sql(family), {"city_total": CITY_TOTAL}), as_of)
    for row in rows:
        row["period"] = str(row["period"])
        row["approval_text"] = APPROVAL_TEXT[row.get("approved") == 1]
    result = FamilyResult(family, available=True)
    if not rows:
        return result
    periods = sorted({r["period"] for r in rows})
    city_rows = {r["period"]: r for r in rows if r["district_code"] is None}
    period = periods[-1]
    if family.busiest_day_note is not None:
        days = [p for p in periods if p[:7] == period[:7]]
        if volunteer_day and volunteer_day in periods:
            period, result.chosen_day = volunteer_day, True
        else:  # the busiest day of the latest month: the city-wide drive (ties: the later day)
            period = max(days, key=lambda d: ((city_rows.get(d) or {}).get(family.rank_key) or 0, d))
    if family.series is not None and family.series.window == "month":
        result.series = [
            dict(city_rows[d]) for d in sorted({p for p in periods if p[:7] == period[:7]}) if d in city_rows
        ]
    elif family.series is not None:
        first = dt.date.fromisoformat(period) - dt.timedelta(days=family.series.days - 1)
        result.series = [dict(city_rows[d]) for d in periods if d in city_rows and dt.date.fromisoformat(d) >= first]
    earlier = [p for p in periods if p < period]
    result.period, result.previous = period, (earlier[-1] if earlier else None)
    current = sorted((dict(r) for r in rows if r["period"] == period), key=_code_order)
    previous = {r["district_code"]: r for r in rows if r["period"] == result.previous}
    for row in current:
        before = previous.get(row["district_code"])
        for col in family.deltas:
            row[f"delta_{col.key}"] = (
                None if before is None else _delta(row.get(col.key), before.get(col.key), col.kind)
            )
    result.districts = [r for r in current if r["district_code"] is not None]
    result.city = next((r for r in current if r["district_code"] is None), None)
    competition_rank(result.districts, family.rank_key)
    # the series' change on the day before (the view's previous day, not necessarily the calendar's)
    key = family.deltas[0].key
    for before, row in zip([None, *result.series], result.series, strict=False):
        prior = before if before is not None else _previous_city_row(city_rows, row["period"])
        row[f"delta_{key}"] = None if prior is None else _delta(row.get(key), prior.get(key), family.deltas[0].kind)
    return result


def family_results(conn: Connection, as_of: dt.date, volunteer_day: str | None = None) -> list[FamilyResult]:
    """Every family's latest period (before ``as_of``) per district and city, as the pack shows it."""
    return [_family_result(conn, f, as_of, volunteer_day) for f in FAMILIES]


def _previous_city_row(city_rows: dict[str, dict], period: str) -> dict | None:
    earlier = [p for p in city_rows if p < period]
    return city_rows[max(earlier)] if earlier else None


@dataclass
class Completeness:
    available: bool
    by_district: list[dict] = field(default_factory=list)
    by_type: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    missing_not_due: int = 0
    totals: dict = field(default_factory=dict)
    late: list[dict] = field(default_factory=list)
    rejected_files: list[dict] = field(default_factory=list)


def _completeness(conn: Connection, as_of: dt.date) -> Completeness:
    if not all(
        _has_view(conn, v)
        for v in ("mart_reporting_completeness", "mart_completeness_by_district", "mart_missing_reports")
    ):
        return Completeness(available=False)
    out = Completeness(available=True)
    out.by_district = _fetch(
        conn,
        (
            "SELECT district_code, MAX(district_name) AS district_name, COUNT(*) AS expected, "
            "SUM(received) AS received, SUM(on_time) AS on_time, "
            "SUM(CASE WHEN state_zh = :late THEN 1 ELSE 0 END) AS late, "
            "SUM(CASE WHEN received = 0 THEN 1 ELSE 0 END) AS missing, "
            "SUM(CASE WHEN state_zh = :returned THEN 1 ELSE 0 END) AS returned "
            "FROM mart_reporting_completeness GROUP BY district_code ORDER BY district_code"
        ),
        {"late": "逾期报送", "returned": "已报送但被退回"},
    )
    out.totals = _fetch(
        conn,
        (
            "SELECT COUNT(*) AS expected, SUM(received) AS received, SUM(on_time) AS on_time, "
            "SUM(CASE WHEN state_zh = :late THEN 1 ELSE 0 END) AS late FROM mart_reporting_completeness"
        ),
        {"late": "逾期报送"},
    )[0]
    out.by_type = _fetch(
        conn,
        (
            "SELECT report_type, report_title, district_code, district_name, expected, received, on_time, "
            "completeness_pct, timeliness_pct FROM mart_completeness_by_district ORDER BY report_type, district_code"
        ),
    )
    due_by = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    missing = _fetch(
        conn,
        (
            "SELECT report_type, report_title, district_code, district_name, period, deadline, files_rejected, state_zh "
            "FROM mart_missing_reports ORDER BY deadline, report_type, district_code"
        ),
    )
    out.missing = [r for r in missing if (_as_datetime(r["deadline"]) or due_by) < due_by]
    out.missing_not_due = len(missing) - len(out.missing)
    out.late = _fetch(
        conn,
        (
            "SELECT report_type, report_title, district_code, district_name, period, deadline, received_at, state_zh "
            "FROM mart_reporting_completeness WHERE received = :yes AND on_time = :no "
            "ORDER BY report_type, period, district_code"
        ),
        {"yes": 1, "no": 0},
    )
    if _has_view(conn, "mart_file_status"):
        out.rejected_files = _fetch(
            conn,
            (
                "SELECT received_at, folder, district_name, report_title, period, file_name, reason_zh "
                "FROM mart_file_status WHERE status = :status ORDER BY received_at DESC, load_id DESC"
            ),
            {"status": "rejected"},
        )
    for rows in (out.missing, out.late):
        for r in rows:
            r["deadline_text"] = deadline_text(r.get("deadline"))
            r["received_text"] = timestamp_text(r.get("received_at"))
    for r in out.rejected_files:
        r["received_text"] = timestamp_text(r.get("received_at"))
    return out


def _as_datetime(value: object) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def timestamp_text(value: object) -> str | None:
    stamp = _as_datetime(value)
    return None if stamp is None else stamp.strftime("%Y-%m-%d %H:%M")


def deadline_text(value: object) -> str | None:
    """A deadline at midnight is shown as 24:00 of the day before (截止 2022-01-05 24:00), as it is meant."""
    stamp = _as_datetime(value)
    if stamp is None:
        return None
    if stamp.time() == dt.time():
        return f"{(stamp - dt.timedelta(days=1)):%Y-%m-%d} 24:00"
    return stamp.strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------------------------------
# The pack as sections and tables, shared by the workbook and the page


def _city_name() -> str:
    try:
        from etl.reference.places import default_places

        return next(p.name for p in default_places().places if p.level == "city")
    except Exception:  # noqa: BLE001 - the title is cosmetic; never fail a pack for it
        return ""


def _family_section(res: FamilyResult) -> Section:
    f = res.family
    section = Section(f.sheet, f.key, f.title_zh, f.title_en)
    section.notes.append(f"数据来源 Source：视图 {f.view}")
    if not res.available:
        section.notes.append(f"{NO_DATA}：视图 {f.view} 尚未建立 (view not in the warehouse yet)")
        return section
    if res.period is None:
        section.notes.append(f"{NO_DATA}（No data）")
        return section
    period_text = f"{f.period_label}：{res.period}"
    if f.busiest_day_note and not res.chosen_day:
        period_text += f.busiest_day_note.format(month=res.period[:7])
    section.notes.append(period_text)
    if res.previous is None:
        section.notes.append(f"{NO_PREVIOUS}：视图中没有 {res.period} 之前的数据，较上期各列显示“{DASH}”。")
    else:
        section.notes.append(f"上期：{res.previous}（视图中本期之前最近的一期）；上期无数据的区县显示“{DASH}”。")
    rank_label = next(c.header for c in f.columns if c.key == f.rank_key)
    section.notes.append(f"排名：以{rank_label}为准，从高到低，并列同名次（1、2、2、4）；市本级与各区县一同排名。")
    section.notes.extend(f.notes)
    if note := f.provisional_note(res.city, res.period):
        section.notes.append(note)
    columns = [
        Col("district_name", "区县", TEXT, 16),
        *f.columns,
        Col("rank", f.rank_header, RANK, 12),
        *(Col(f"delta_{c.key}", c.header, c.kind, max(c.width, 14)) for c in f.deltas),
        Col("approval_text", "审核", TEXT, 8),
    ]
    rows = [*res.districts, *([{**res.city, "rank": None, "_total": True}] if res.city else [])]
    section.tables.append(Table(f"{f.title_zh}（{res.period}，按区县）", columns, rows, f.chart))
    if f.series is not None and res.series:
        spec, first = f.series, f.deltas[0].key
        names = {"month": res.period[:7], "start": res.series[0]["period"], "end": res.series[-1]["period"]}
        section.tables.append(
            Table(
                spec.title.format(**names),
                [
                    Col("period", "日期", TEXT, 12),
                    *f.columns,
                    Col(f"delta_{first}", spec.delta_header, f.deltas[0].kind, 16),
                ],
                res.series,
                replace(spec.chart, title=spec.chart.title.format(**names)),
                notes=list(spec.notes),
            )
        )
    return section


def _overview(results: list[FamilyResult], comp: Completeness, as_of: str, city: str) -> Section:
    section = Section("概览", "overview", f"{city}城市报表评审材料", "City review pack — overview")
    section.notes += [
        f"材料日期 As of：{as_of}",
        f"生成时间 Generated：{local_time():%Y-%m-%d %H:%M}",
        "所有数字取自数据仓库指标视图（mart_*）；排名与较上期变化由视图数值排序、相减得出。",
        "各项指标口径见“指标说明”工作表。",
    ]
    rows = []
    for res in results:
        f = res.family
        if res.available and (note := f.provisional_note(res.city, res.period)):
            section.notes.append(f"{f.sheet}：{note}")
        if not res.available or res.city is None:
            rows.append(
                {
                    "family": f.sheet,
                    "period": res.period or DASH,
                    "indicator": DASH,
                    "value_text": NO_DATA if res.available else f"{NO_DATA}（视图尚未建立）",
                    "delta_text": DASH,
                    "sheet": f.sheet,
                }
            )
            continue
        for key, label, kind, unit in f.headline:
            delta_col = next((c for c in f.deltas if c.key == key), None)
            delta = res.city.get(f"delta_{key}") if delta_col else None
            if delta_col is None:
                delta_text = ""
            elif res.previous is None:
                delta_text = f"{DASH}（{NO_PREVIOUS}）"
            else:
                delta_text = f"{format_value(delta, delta_col.kind)}（上期 {res.previous}）"
            rows.append(
                {
                    "family": f.sheet,
                    "period": res.period,
                    "indicator": label,
                    "value": res.city.get(key),
                    "_kind": kind,
                    "unit": unit,
                    "delta_text": delta_text if delta_col else "",
                    "sheet": f.sheet,
                }
            )
    if comp.available:
        for key, label in (
            ("expected", "应报报表"),
            ("received", "已报送"),
            ("on_time", "按时报送"),
            ("late", "逾期报送"),
        ):
            rows.append(
                {
                    "family": "报送情况",
                    "period": "全部应报期",
                    "indicator": label,
                    "value": comp.totals.get(key) or 0,
                    "_kind": INT,
                    "unit": "份",
                    "delta_text": "",
                    "sheet": "报送情况",
                }
            )
        rows.append(
            {
                "family": "报送情况",
                "period": f"截至 {as_of}",
                "indicator": "未报送（已过截止时间，含被退回）",
                "value": len(comp.missing),
                "_kind": INT,
                "unit": "份",
                "delta_text": "",
                "sheet": "报送情况",
            }
        )
    columns = [
        Col("family", "指标族", TEXT, 12),
        Col("period", "期别", TEXT, 12),
        Col("indicator", "指标", TEXT, 24),
        Col("value", "全市数值", "mixed", 14),
        Col("unit", "单位", TEXT, 8),
        Col("delta_text", "较上期", TEXT, 18),
        Col("sheet", "详见工作表", TEXT, 12),
    ]
    for row in rows:
        if "value" not in row:
            row["value"] = row.pop("value_text")
            row["_kind"] = TEXT
    section.tables.append(Table("各指标族最新一期全市情况", columns, rows))
    if comp.available:
        gaps = [
            {
                "who": r["district_name"] or r["district_code"],
                "what": r["report_title"] or r["report_type"],
                "period": r["period"],
                "deadline": r["deadline_text"],
                "state": r["state_zh"],
            }
            for r in comp.missing
        ]
        section.tables.append(
            Table(
                "未报送（数据缺口）",
                [
                    Col("who", "区县", TEXT, 16),
                    Col("what", "报表", TEXT, 24),
                    Col("period", "期别", TEXT, 12),
                    Col("deadline", "截止时间", TEXT, 18),
                    Col("state", "状态", TEXT, 16),
                ],
                gaps,
                empty_text="无：应报报表均已收到",
            )
        )
    return section


def _completeness_section(comp: Completeness, as_of: str) -> Section:
    section = Section("报送情况", "reporting", "报送情况", "Reporting completeness and timeliness")
    section.notes.append(
        "数据来源 Source：视图 mart_reporting_completeness、mart_completeness_by_district、"
        "mart_missing_reports、mart_file_status"
    )
    if not comp.available:
        section.notes.append(f"{NO_DATA}：报送情况视图尚未建立")
        return section
    section.notes += [
        "应报报表及截止时间来自报送日历；已报送 = 有文件入库（被退回的不算）；按时 = 截止时间前收到。",
        "报送时间为数据管道首次在共享文件夹中看到该文件的时间（本市当地时间，与截止时间同一口径；不采用文件修改时间，复制文件会保留旧的修改时间）。",
    ]
    district_cols = [
        Col("district_name", "区县", TEXT, 16),
        Col("expected", "应报（份）"),
        Col("received", "已报（份）"),
        Col("on_time", "按时（份）"),
        Col("late", "逾期（份）"),
        Col("missing", "未报送（份）", width=13),
        Col("returned", "其中被退回（份）", width=15),
    ]
    section.tables.append(
        Table(
            "各区县报送份数（全部应报期）",
            district_cols,
            comp.by_district,
            Chart("bar", "各区县报送情况（份）", ("on_time", "late", "missing"), y_title="份", stacked=True),
        )
    )
    type_cols = [
        Col("report_title", "报表", TEXT, 24),
        Col("district_name", "区县", TEXT, 16),
        Col("expected", "应报（份）"),
        Col("received", "已报（份）"),
        Col("on_time", "按时（份）"),
        Col("completeness_pct", "报送率", PCT),
        Col("timeliness_pct", "及时率", PCT),
    ]
    section.tables.append(Table("报送率与及时率（按区县 × 报表）", type_cols, comp.by_type))
    gap_cols = [
        Col("report_title", "报表", TEXT, 24),
        Col("district_name", "区县", TEXT, 16),
        Col("period", "期别", TEXT, 12),
        Col("deadline_text", "截止时间", TEXT, 18),
        Col("files_rejected", "被退回文件数", width=13),
        Col("state_zh", "状态", TEXT, 16),
    ]
    notes = [f"另有 {comp.missing_not_due} 份尚未到截止时间（截至 {as_of}），未列入。"] if comp.missing_not_due else []
    section.tables.append(
        Table(
            f"未报送清单（数据缺口，截至 {as_of} 已过截止时间）",
            gap_cols,
            comp.missing,
            empty_text="无：应报报表均已收到",
            notes=notes,
        )
    )
    late_cols = [
        Col("report_title", "报表", TEXT, 24),
        Col("district_name", "区县", TEXT, 16),
        Col("period", "期别", TEXT, 12),
        Col("deadline_text", "截止时间", TEXT, 18),
        Col("received_text", "报送时间", TEXT, 18),
        Col("state_zh", "状态", TEXT, 16),
    ]
    section.tables.append(Table("逾期报送清单（数据缺口）", late_cols, comp.late, empty_text="无逾期报送"))
    file_cols = [
        Col("received_text", "报送时间", TEXT, 18),
        Col("district_name", "区县", TEXT, 16),
        Col("report_title", "报表", TEXT, 24),
        Col("period", "期别", TEXT, 12),
        Col("file_name", "文件名", TEXT, 40),
        Col("reason_zh", "退回原因", TEXT, 60),
    ]
    section.tables.append(Table("被退回的文件", file_cols, comp.rejected_files, empty_text="无被退回的文件"))
    return section


@dataclass
class Approval:
    """What the steward has approved: the publishing policy and every version still awaiting a decision."""

    available: bool
    publish_unapproved: bool = False
    waiting: list[dict] = field(default_factory=list)

    def summary_zh(self) -> str:
        if not self.available:
            return "审核 Approval：审核视图尚未建立"
        scope = (
            "本材料含待审核数据（各表“审核”列标明）" if self.publish_unapproved else "本材料只含数据管理员已审核的数据"
        )
        return f"审核 Approval：{scope}；待审核或已退回修改的报表 {len(self.waiting)} 份，见“审核情况”工作表。"


def _approval(conn: Connection) -> Approval:
    if not _has_view(conn, "mart_approval_status"):
        return Approval(available=False)
    policy = _fetch(conn, "SELECT MAX(publish_unapproved) AS on_ FROM dim_publish_policy")[0]["on_"]
    waiting = _fetch(
        conn,
        "SELECT report_title, district_name, period, approval_state, approval_state_zh, file_name, received_at, "
        "held_load_id, comment FROM mart_approval_status WHERE approval_state <> :approved OR held_load_id IS NOT NULL "
        "ORDER BY period, report_type, district_code",
        {"approved": "approved"},
    )
    for r in waiting:
        r["received_text"] = timestamp_text(r.get("received_at"))
        if r["held_load_id"] is not None:
            r["approval_state_zh"] = f"{r['approval_state_zh']}；更正文件待审核"
    return Approval(True, bool(policy), waiting)


def _approval_section(approval: Approval) -> Section:
    section = Section("审核情况", "approval", "审核情况", "Steward approval")
    section.notes.append("数据来源 Source：视图 mart_approval_status")
    section.notes.append(approval.summary_zh())
    if not approval.available:
        return section
    section.notes.append(
        "报表经数据管理员审核通过后才计入各指标表（除非设置 PUBLISH_UNAPPROVED）；审核通过的期别锁定，"
        "区县再报的更正文件须再经审核才替换。"
    )
    columns = [
        Col("report_title", "报表", TEXT, 24),
        Col("district_name", "区县", TEXT, 16),
        Col("period", "期别", TEXT, 12),
        Col("approval_state_zh", "审核状态", TEXT, 24),
        Col("file_name", "现行文件", TEXT, 40),
        Col("received_text", "报送时间", TEXT, 18),
        Col("comment", "审核意见", TEXT, 40),
    ]
    section.tables.append(Table("待审核与退回修改的报表", columns, approval.waiting, empty_text="无：报表均已审核"))
    return section


def _definitions_section() -> Section:
    section = Section("指标说明", "definitions", "指标说明", "Indicator definitions")
    section.notes.append("“DOMAIN.md 原文”为需求文档中该指标的原话；空白表示文档未规定，按视图口径。")
    sheet_of = {f.view: f.sheet for f in FAMILIES}
    rows = []
    for d in DEFINITIONS:
        first_view = d.view.split(",")[0].strip()
        sheet = sheet_of.get(first_view) or (
            "报送情况" if "completeness" in d.view or "missing" in d.view else "各工作表"
        )
        rows.append(
            {
                "name": d.name,
                "zh": d.zh,
                "domain": d.domain or DASH,
                "view": d.view,
                "columns": d.columns or DASH,
                "sheet": sheet,
            }
        )
    section.tables.append(
        Table(
            "指标口径与来源",
            [
                Col("name", "指标", TEXT, 22),
                Col("zh", "口径（中文）", TEXT, 60),
                Col("domain", "DOMAIN.md 原文", TEXT, 60),
                Col("view", "来源视图", TEXT, 30),
                Col("columns", "字段", TEXT, 28),
                Col("sheet", "工作表", TEXT, 12),
            ],
            rows,
        )
    )
    return section


@dataclass
class Pack:
    as_of: str
    city: str
    sections: list[Section]


def collect(engine: Engine, as_of: str | None = None, volunteer_day: str | None = None) -> Pack:
    """Read every view once (one snapshot on PostgreSQL) and lay the pack out as sections."""
    as_of_date = dt.date.fromisoformat(as_of) if as_of else local_time().date()
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            results = family_results(conn, as_of_date, volunteer_day)
            comp = _completeness(conn, as_of_date)
            approval = _approval(conn)
    city = _city_name()
    as_of_text = as_of_date.isoformat()
    overview = _overview(results, comp, as_of_text, city)
    overview.notes.insert(2, approval.summary_zh())
    sections = [
        overview,
        *(_family_section(r) for r in results),
        _completeness_section(comp, as_of_text),
        _approval_section(approval),
        _definitions_section(),
    ]
    return Pack(as_of_text, city, sections)


# --------------------------------------------------------------------------------------------------
# The workbook

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=16)
_SUBTITLE = Font(bold=True, size=12)
_NOTE = Font(italic=True, color="595959")
_HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
_TOTAL_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CHART_ROWS = 18


def _xlsx_value(value: object, kind: str) -> tuple[object, str | None]:
    """The cell value and its number format; None is shown as —."""
    if value is None:
        return DASH, None
    if value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M"), None
    if kind == TEXT or isinstance(value, str):
        return str(value), None
    if kind in (INT, RANK, D_INT):
        return int(value), NUMBER_FORMATS[kind]
    return float(value), NUMBER_FORMATS.get(kind, "#,##0.00")


def _write_table(ws, top: int, table: Table) -> tuple[int, int | None]:
    """Write a table's title, header and rows from row ``top``; returns (next free row, header row)."""
    set_cell(ws.cell(top, 1), table.title).font = _SUBTITLE
    row = top + 1
    for note in table.notes:
        set_cell(ws.cell(row, 1), note).font = _NOTE
        row += 1
    if not table.rows:
        set_cell(ws.cell(row, 1), table.empty_text).font = _NOTE
        return row + 2, None
    header = row
    for j, col in enumerate(table.columns, start=1):
        cell = set_cell(ws.cell(header, j), col.header)
        cell.font, cell.fill, cell.border = _BOLD, _HEADER_FILL, _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, col.width)
    ws.row_dimensions[header].height = 32
    for i, data in enumerate(table.rows, start=1):
        for j, col in enumerate(table.columns, start=1):
            kind = data.get("_kind", col.kind) if col.kind == "mixed" else col.kind
            value, number_format = _xlsx_value(data.get(col.key), kind)
            cell = set_cell(ws.cell(header + i, j), value)
            cell.border = _BORDER
            if number_format:
                cell.number_format = number_format
            if value == DASH or kind == RANK:
                cell.alignment = Alignment(horizontal="center")
            elif kind == TEXT and len(str(value)) > col.width:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if data.get("_total"):
                cell.font, cell.fill = _BOLD, _TOTAL_FILL
    last = header + len(table.rows)
    row = last + 2
    if table.chart:
        chart = _xlsx_chart(ws, table, header)
        if chart is not None:
            ws.add_chart(chart, f"A{row}")
            row += _CHART_ROWS
    return row, header


def _xlsx_chart(ws, table: Table, header: int):
    spec = table.chart
    rows = [i for i, r in enumerate(table.rows, start=1) if not r.get("_total")]
    if not rows:
        return None
    first, last = header + rows[0], header + rows[-1]  # data rows (the total row is last and left out)
    keys = [c.key for c in table.columns]
    chart = LineChart() if spec.kind == "line" else BarChart()
    if spec.kind == "bar":
        chart.type = "col"
        if spec.stacked:
            chart.grouping, chart.overlap = "stacked", 100
        else:
            chart.dataLabels = DataLabelList()
            chart.dataLabels.showVal = True
    chart.title = spec.title
    chart.y_axis.title = spec.y_title or None
    chart.height, chart.width = 8.5, max(16, 2.2 * len(rows) + 6)
    chart.x_axis.delete = False  # openpyxl ≥ 3.1 hides axes unless told otherwise
    chart.y_axis.delete = False
    chart.legend.position = "b"
    for key in spec.keys:
        col = keys.index(key) + 1
        chart.add_data(Reference(ws, min_col=col, min_row=header, max_row=last), titles_from_data=True)
    cat_col = keys.index(spec.category) + 1
    chart.set_categories(Reference(ws, min_col=cat_col, min_row=first, max_row=last))
    return chart


def _write_section(ws, section: Section) -> None:
    set_cell(ws.cell(1, 1), f"{section.title_zh}  {section.title_en}").font = _TITLE
    row = 2
    for note in section.notes:
        set_cell(ws.cell(row, 1), note).font = _NOTE
        row += 1
    row += 1
    freeze = None
    for table in section.tables:
        row, header = _write_table(ws, row, table)
        if freeze is None and header is not None:
            freeze = f"B{header + 1}"
    ws.freeze_panes = freeze or "A2"
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 16)
    ws.sheet_view.zoomScale = 100


def render_xlsx(pack: Pack, scratch_in: Path) -> bytes:
    """The pack as a workbook's bytes (openpyxl's scratch files in ``scratch_in``: etl.excel_safe.save_workbook)."""
    wb = Workbook()
    wb.remove(wb.active)
    for section in pack.sections:
        _write_section(wb.create_sheet(section.sheet), section)
    wb.properties.title = f"{pack.city}{PACK_NAME}_{pack.as_of}"
    wb.properties.creator = "district reports pipeline"
    buffer = io.BytesIO()
    save_workbook(wb, buffer, scratch_in)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# The page

_CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px auto;max-width:1200px;
color:#222;line-height:1.5;padding:0 16px}
h1{font-size:26px;margin-bottom:4px}h2{font-size:21px;border-bottom:2px solid #2f5597;padding-bottom:4px;margin-top:40px}
h3{font-size:16px;margin:22px 0 6px}small.en{color:#666;font-weight:normal;font-size:70%;margin-left:8px}
p.note{color:#555;margin:2px 0;font-size:14px}nav a{margin-right:14px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}
th,td{border:1px solid #bbb;padding:4px 8px}th{background:#d9e1f2;font-weight:bold}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.c{text-align:center}tr.total td{font-weight:bold;background:#fff2cc}
div.scroll{overflow-x:auto}svg{display:block;margin:6px 0 18px}
@media print{nav{display:none}h2{page-break-before:always}}
"""
_SERIES_COLOURS = ("#2f5597", "#c55a11", "#548235", "#7f6000", "#7030a0")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _svg_open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(title)}" font-size="12">'
    )


def _svg_bar(table: Table) -> str:
    spec = table.chart
    rows = [r for r in table.rows if not r.get("_total")]
    values = {k: [r.get(k) if isinstance(r.get(k), int | float) else None for r in rows] for k in spec.keys}
    headers = {c.key: c for c in table.columns}
    top = max([v for vs in values.values() for v in vs if v is not None] + [0])
    if spec.stacked:
        top = max([sum(v or 0 for v in col) for col in zip(*values.values(), strict=True)] + [0])
    top = top or 1
    label_w, bar_area, bar_h, gap = 150, 520, 16, 8
    series = 1 if spec.stacked else len(spec.keys)
    group_h = series * bar_h + gap
    legend_h = 22
    height = 30 + legend_h + len(rows) * group_h + 10
    width = label_w + bar_area + 90
    out = [
        _svg_open(width, height, spec.title),
        f'<text x="0" y="16" font-weight="bold" font-size="14">{_e(spec.title)}</text>',
    ]
    for s, key in enumerate(spec.keys):
        x = label_w + s * 170
        out.append(
            f'<rect x="{x}" y="24" width="12" height="12" fill="{_SERIES_COLOURS[s % 5]}"/>'
            f'<text x="{x + 16}" y="34">{_e(headers[key].header)}</text>'
        )
    y0 = 30 + legend_h
    for i, row in enumerate(rows):
        y = y0 + i * group_h
        out.append(
            f'<text x="{label_w - 6}" y="{y + (series * bar_h) / 2 + 4:.1f}" text-anchor="end">'
            f"{_e(row.get(spec.category))}</text>"
        )
        offset = 0.0
        for s, key in enumerate(spec.keys):
            value = values[key][i]
            w = 0 if value is None else bar_area * float(value) / top
            if spec.stacked:
                out.append(
                    f'<rect x="{label_w + offset:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                    f'fill="{_SERIES_COLOURS[s % 5]}"><title>{_e(headers[key].header)}: '
                    f"{_e(format_value(value, headers[key].kind))}</title></rect>"
                )
                offset += w
                continue
            by = y + s * bar_h
            out.append(
                f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" '
                f'fill="{_SERIES_COLOURS[s % 5]}"/>'
                f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 5}">'
                f"{_e(format_value(value, headers[key].kind))}</text>"
            )
        if spec.stacked:
            total = sum(v or 0 for v in (values[k][i] for k in spec.keys))
            out.append(
                f'<text x="{label_w + offset + 4:.1f}" y="{y + bar_h - 4}">{_e(format_value(total, INT))}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def _svg_line(table: Table) -> str:
    spec = table.chart
    rows = table.rows
    headers = {c.key: c for c in table.columns}
    left, plot_w, plot_h, top_pad = 60, 640, 240, 52
    width, height = left + plot_w + 40, top_pad + plot_h + 50
    numbers = [float(r[k]) for r in rows for k in spec.keys if isinstance(r.get(k), int | float)]
    top = max(numbers + [0]) or 1
    step = plot_w / max(len(rows) - 1, 1)
    out = [
        _svg_open(width, height, spec.title),
        f'<text x="0" y="16" font-weight="bold" font-size="14">{_e(spec.title)}</text>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<text x="{left - 6}" y="{top_pad + plot_h + 4}" text-anchor="end">0</text>',
    ]
    for i in range(1, 5):  # gridlines at quarters of the highest value
        y = top_pad + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(format_value(top * i / 4, INT))}</text>'
        )
    for s, key in enumerate(spec.keys):
        x = left + s * 170
        colour = _SERIES_COLOURS[s % 5]
        out.append(
            f'<rect x="{x}" y="26" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="36">{_e(headers[key].header)}</text>'
        )
        points = []
        for i, row in enumerate(rows):
            value = row.get(key)
            if isinstance(value, int | float):
                x_i, y_i = left + i * step, top_pad + plot_h - plot_h * float(value) / top
                points.append(f"{x_i:.1f},{y_i:.1f}")
                out.append(
                    f'<circle cx="{x_i:.1f}" cy="{y_i:.1f}" r="3" fill="{colour}"><title>'
                    f"{_e(row.get(spec.category))} {_e(headers[key].header)}: "
                    f"{_e(format_value(value, headers[key].kind))}</title></circle>"
                )
        if points:
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>')
    for i, row in enumerate(rows):
        out.append(
            f'<text x="{left + i * step:.1f}" y="{top_pad + plot_h + 18}" text-anchor="middle">'
            f"{_e(str(row.get(spec.category))[5:])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _html_table(table: Table) -> str:
    parts = [f"<h3>{_e(table.title)}</h3>", *(f'<p class="note">{_e(n)}</p>' for n in table.notes)]
    if not table.rows:
        parts.append(f'<p class="note">{_e(table.empty_text)}</p>')
        return "".join(parts)
    parts.append('<div class="scroll"><table><thead><tr>')
    parts += [f"<th>{_e(c.header)}</th>" for c in table.columns]
    parts.append("</tr></thead><tbody>")
    for row in table.rows:
        parts.append('<tr class="total">' if row.get("_total") else "<tr>")
        for col in table.columns:
            kind = row.get("_kind", col.kind) if col.kind == "mixed" else col.kind
            value = row.get(col.key)
            if isinstance(value, dt.datetime):
                value = value.strftime("%Y-%m-%d %H:%M")
            css = "c" if value is None or kind == RANK else "" if kind == TEXT or isinstance(value, str) else "n"
            parts.append(
                f'<td class="{css}">{_e(format_value(value, kind))}</td>'
                if css
                else f"<td>{_e(format_value(value, kind))}</td>"
            )
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    if table.chart and any(not r.get("_total") for r in table.rows):
        parts.append(_svg_line(table) if table.chart.kind == "line" else _svg_bar(table))
    return "".join(parts)


def render_html(pack: Pack) -> str:
    title = f"{pack.city}{PACK_NAME}（{pack.as_of}）"
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f'<h1>{_e(title)}<small class="en">City review pack, as of {_e(pack.as_of)}</small></h1>',
        "<nav>",
    ]
    parts += [f'<a href="#{_e(s.anchor)}">{_e(s.sheet)}</a>' for s in pack.sections]
    parts.append("</nav>")
    for section in pack.sections:
        parts.append(
            f'<section id="{_e(section.anchor)}"><h2>{_e(section.sheet)}：{_e(section.title_zh)}'
            f'<small class="en">{_e(section.title_en)}</small></h2>'
        )
        parts += [f'<p class="note">{_e(n)}</p>' for n in section.notes]
        parts += [_html_table(t) for t in section.tables]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# Writing without overwriting


def _pair_stems(stem: str):
    """<stem>, <stem>(2), <stem>(3)… — the names etl.ingest.pipeline.unused_path gives."""
    yield stem
    n = 2
    while True:
        yield f"{stem}({n})"
        n += 1


def _reserve(out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Claim <stem>.xlsx and <stem>.html — or the first (n) free for both — by exclusive creation in
    ``out_dir`` (a pinned folder: etl.shared_paths): an existing file, even one half of a pair, is never
    overwritten, and two concurrent builds never share a name."""
    first_free = unused_path(out_dir, f"{stem}.xlsx").stem  # where the pipeline's own naming would start
    stems = _pair_stems(stem)
    for candidate in stems:
        if candidate == first_free:
            break
    for candidate in itertools.chain([first_free], stems):
        xlsx, html_path = out_dir / f"{candidate}.xlsx", out_dir / f"{candidate}.html"
        if xlsx.exists() or html_path.exists():
            continue
        try:
            os.close(os.open(xlsx, NEW_FILE, 0o644))
        except FileExistsError:
            continue
        try:
            os.close(os.open(html_path, NEW_FILE, 0o644))
        except FileExistsError:
            xlsx.unlink()
            continue
        return xlsx, html_path
    raise AssertionError("unreachable")  # pragma: no cover


def build_review_pack(
    engine: Engine,
    out_dir: Path,
    as_of: str | None = None,
    *,
    volunteer_day: str | None = None,
    root: Path | None = None,
) -> dict[str, Path]:
    """Write 城市报表评审材料_<as_of>.xlsx and .html into out_dir; returns {"xlsx": path, "html": path}.

    ``as_of`` (YYYY-MM-DD, default today in the city) dates the pack; periods that begin after it are left out.
    ``volunteer_day`` picks the volunteer day shown (default: the busiest day of the latest month)."""
    pack = collect(engine, as_of, volunteer_day)
    out_dir = Path(out_dir)
    if root is None:
        out_dir.mkdir(parents=True, exist_ok=True)
    with pinned_folder(out_dir, Path(root or out_dir)) as folder:  # written where we checked, never through a link
        xlsx_bytes = render_xlsx(pack, folder)
        html_bytes = render_html(pack).encode("utf-8")
        xlsx, html_path = _reserve(folder, f"{PACK_NAME}_{pack.as_of}")
        try:
            write_new(xlsx, folder, xlsx_bytes)  # over the reservation, atomically
            write_new(html_path, folder, html_bytes)
        except BaseException:
            for path in (xlsx, html_path):
                if path.exists() and path.stat().st_size == 0:
                    path.unlink()
            raise
    return {"xlsx": out_dir / xlsx.name, "html": out_dir / html_path.name}


def publish(settings, as_of: str | None = None) -> dict[str, Path]:
    """The warehouse brought to the current schema, then the pack into SHARED_DIR/published."""
    from etl.warehouse.engine import get_engine
    from etl.warehouse.schema import ensure_schema

    engine = get_engine(settings.warehouse_url)
    ensure_schema(engine)
    return build_review_pack(engine, settings.published, as_of, root=settings.shared_dir)
