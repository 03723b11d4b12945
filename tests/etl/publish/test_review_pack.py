"""The review pack (城市报表评审材料) leaders read: the demo district files go through the pipeline into the
warehouse on SQLite and on the real PostgreSQL, then the pack's workbook and page must show the seed
figures of DOMAIN.md out of the mart views, in the right cells, with native charts, rankings, the data
gaps, the definitions as DOMAIN.md words them — and never a live formula or unescaped markup.

The demo files are written once; the full ingest (``prepare``/``discover``/``process_file``, what the DAG
runs per file; about 25 s of CPU per backend) runs once per module for each backend, both at the same time
in two processes. Three flood days are left out: a data gap for the 报送情况 sheet, and a shorter run. The
tests that need only a handful of rows use the per-test ``settings`` warehouses.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO
from openpyxl import load_workbook
from openpyxl.chart import LineChart

from etl.config import Settings
from etl.publish.review_pack import (
    DASH,
    NO_DATA,
    NO_PREVIOUS,
    build_review_pack,
    competition_rank,
    publish,
)
from etl.warehouse.engine import get_engine

AS_OF = "2022-04-15"
SHEETS = [
    "概览",
    "政务服务",
    "为民办实事",
    "创城整改",
    "志愿服务",
    "防汛清理",
    "12345热线",
    "老旧小区改造",
    "报送情况",
    "审核情况",
    "指标说明",
]
CHART_SHEETS = [*SHEETS[1:7], "报送情况"]  # with data by AS_OF (the renovation ledger is December 2022's)
DOMAIN_MD = REPO.parent / "shared" / "DOMAIN.md"
EVIL = '=HYPERLINK("x")'
SKIPPED_FLOOD_DAYS = ["防汛日报_2021-07-26", "防汛日报_2021-07-27", "防汛日报_2021-07-28"]

# Runs in a fresh interpreter per backend, both at once: the pipeline over the inbox, file by file.
_INGEST = r"""
import json, sys
from pathlib import Path
from etl.config import Settings
from etl.ingest.pipeline import discover, prepare, process_file

settings = Settings.from_env()
prepare(settings)
outcomes = [process_file(f, settings).as_dict() for f in discover(settings)]
Path(sys.argv[1]).write_text(json.dumps(outcomes, ensure_ascii=False), encoding="utf-8")
"""


def write_all_demo_files(shared_dir: Path) -> list[Path]:
    """demo.write_demo_files: every demo generator's files (with their drop times), less three flood days."""
    from demo import write_demo_files

    files = write_demo_files(shared_dir)
    for path in files:  # three flood days stay unreported: a real data gap, and a shorter run
        if any(day in path.name for day in SKIPPED_FLOOD_DAYS):
            path.unlink()
    return [p for p in files if p.exists()]


@dataclass
class Demo:
    backend: str
    settings: Settings
    outcomes: list[dict]

    @property
    def engine(self):
        return get_engine(self.settings.warehouse_url)

    def query(self, sql: str, **params) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


@pytest.fixture(scope="module")
def ingested(request, tmp_path_factory) -> dict[str, Demo]:
    """Both warehouses filled with the full demo data by two pipeline processes running side by side."""
    import psycopg

    urls = {"sqlite": None, "postgresql": None}
    admin = None
    try:
        admin = request.getfixturevalue("pg_admin")
    except pytest.skip.Exception:
        del urls["postgresql"]
    if admin:
        name = f"district_reports_pack_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        urls["postgresql"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    runs = {}
    try:
        demo_files = tmp_path_factory.mktemp("pack_demo_files")
        write_all_demo_files(demo_files)  # once; each backend gets a copy (same bytes, same drop times)
        for backend, url in list(urls.items()):
            root = tmp_path_factory.mktemp(f"pack_{backend}")
            shutil.copytree(demo_files / "inbox", root / "shared" / "inbox")  # copy2 keeps the mtimes
            urls[backend] = url = url or f"sqlite:///{root / 'warehouse.sqlite'}"
            env = {
                **os.environ,
                "SHARED_DIR": str(root / "shared"),
                "WAREHOUSE_URL": url,
                "FILE_SETTLE_SECONDS": "0",
                "GX_ANALYTICS_ENABLED": "false",
                "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            }
            out = root / "outcomes.json"
            proc = subprocess.Popen(
                [sys.executable, "-c", _INGEST, str(out)],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            runs[backend] = (proc, out, Settings(root / "shared", url, 0.0))
        demos = {}
        for backend, (proc, out, settings) in runs.items():
            log, _ = proc.communicate(timeout=900)
            assert proc.returncode == 0, f"{backend} ingest failed:\n{log[-4000:]}"
            demos[backend] = Demo(backend, settings, json.loads(out.read_text(encoding="utf-8")))
        yield demos
    finally:
        for proc, _out, _settings in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if admin:
            get_engine(urls["postgresql"]).dispose()
            get_engine.cache_clear()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{urls["postgresql"].rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(request, ingested) -> Demo:
    if request.param not in ingested:
        pytest.skip("PostgreSQL not reachable")
    return ingested[request.param]


@pytest.fixture(scope="module")
def pack(demo) -> dict[str, Path]:
    return build_review_pack(demo.engine, demo.settings.shared_dir / "published", AS_OF)


# --------------------------------------------------------------------------------------------------
# Reading the workbook back


def scan(ws, first_header: str = "区县", after_title: str | None = None) -> tuple[dict[str, int], list[int]]:
    """(header → column, data rows) of the first table whose header row starts with ``first_header``
    (below the row titled ``after_title`` when given); the table ends at the first empty column-A cell."""
    start = 1
    if after_title:
        start = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value or "").startswith(after_title))
    header = next(r for r in range(start, ws.max_row + 1) if ws.cell(r, 1).value == first_header)
    columns = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value}
    rows, r = [], header + 1
    while r <= ws.max_row and ws.cell(r, 1).value not in (None, ""):
        rows.append(r)
        r += 1
    return columns, rows


def first_table(ws, first_header: str = "区县") -> tuple[dict[str, int], dict[str, int]]:
    """A family table: (header → column, district name → row)."""
    columns, rows = scan(ws, first_header)
    return columns, {ws.cell(r, 1).value: r for r in rows}


def value(ws, table, row_label: str, header: str):
    columns, rows = table
    return ws.cell(rows[row_label], columns[header]).value


def cell(ws, table, row_label: str, header: str):
    columns, rows = table
    return ws.cell(rows[row_label], columns[header])


def table_rows(ws, title: str, first_header: str) -> list[dict]:
    columns, rows = scan(ws, first_header, after_title=title)
    return [{h: ws.cell(r, c).value for h, c in columns.items()} for r in rows]


def notes(ws) -> str:
    return "\n".join(str(ws.cell(r, 1).value) for r in range(1, 8) if ws.cell(r, 1).value)


def has_view(demo: Demo, name: str) -> bool:
    with demo.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}).scalar()
        return conn.execute(sa.text("SELECT COUNT(*) FROM sqlite_master WHERE name = :n"), {"n": name}).scalar() > 0


# --------------------------------------------------------------------------------------------------
# Full demo data, both backends


def test_demo_ingest_loaded_every_file(demo):
    assert demo.outcomes and all(o["status"] in ("accepted", "flagged") for o in demo.outcomes), [
        (o["file"], o["status"], o["reason_zh"]) for o in demo.outcomes if o["status"] not in ("accepted", "flagged")
    ]


def test_workbook_sheets_charts_and_formats(pack):
    assert pack["xlsx"].name == f"城市报表评审材料_{AS_OF}.xlsx"
    assert pack["html"].name == f"城市报表评审材料_{AS_OF}.html"
    assert pack["xlsx"].parent == pack["html"].parent and pack["xlsx"].parent.name == "published"
    wb = load_workbook(pack["xlsx"])
    assert wb.sheetnames == SHEETS
    for name in CHART_SHEETS:
        assert len(wb[name]._charts) >= 1, f"{name} has no chart"
        assert wb[name].freeze_panes, f"{name} has no frozen header"
    assert any(isinstance(c, LineChart) for c in wb["防汛清理"]._charts)
    assert NO_DATA in notes(wb["老旧小区改造"]) and not wb["老旧小区改造"]._charts  # its period begins later
    ws = wb["政务服务"]
    t = first_table(ws)
    rate = cell(ws, t, "全市合计", "依申请事项进厅率")
    assert rate.number_format == '0.00"%"'  # the view's 99.3 shown as 99.30%
    assert cell(ws, t, "全市合计", "事项总数").number_format == "#,##0"
    assert cell(ws, t, "全市合计", "事项总数").font.b  # the city total row is bold
    header_row = min(t[1].values()) - 1
    assert all(ws.cell(header_row, c).font.b for c in t[0].values())
    assert ws.column_dimensions["A"].width >= 16
    assert not [c.coordinate for w in wb for row in w.iter_rows() for c in row if c.data_type == "f"]


def test_seed_figures_in_the_family_sheets(pack, demo):
    wb = load_workbook(pack["xlsx"])

    ws = wb["政务服务"]
    t = first_table(ws)
    assert value(ws, t, "全市合计", "事项总数") == 24671
    assert value(ws, t, "全市合计", "依申请事项") == 6861
    assert value(ws, t, "全市合计", "依申请进厅事项") == 6813
    assert value(ws, t, "全市合计", "依申请事项进厅率") == pytest.approx(99.3)
    assert value(ws, t, "全市合计", "进厅率排名") == DASH
    assert list(t[1])[-1] == "全市合计" and len(t[1]) == 8  # 市本级 + six districts, then the city
    assert NO_PREVIOUS in notes(ws)
    assert {value(ws, t, d, "进厅率较上期（百分点）") for d in t[1]} == {DASH}

    ws = wb["为民办实事"]
    t = first_table(ws)
    assert (value(ws, t, "全市合计", "实事总数"), value(ws, t, "全市合计", "已完成")) == (1735, 1697)
    assert value(ws, t, "全市合计", "实事完成率") == pytest.approx(97.81)

    ws = wb["创城整改"]
    t = first_table(ws)
    assert [value(ws, t, "全市合计", h) for h in ("交办问题", "设定整改期限", "已整改")] == [357, 293, 203]
    assert value(ws, t, "全市合计", "整改率") == pytest.approx(69.28)

    ws = wb["志愿服务"]
    t = first_table(ws)
    assert "2022-03-04" in notes(ws)
    assert value(ws, t, "全市合计", "参与志愿者（人次）") == 11302
    assert value(ws, t, "全市合计", "志愿服务队（支）") == 365
    assert value(ws, t, "全市合计", "组织单位（个）") == 314
    daily = table_rows(ws, "全市每日志愿服务", "日期")
    assert daily[0]["日期"] == "2022-03-04" and daily[0]["参与志愿者（人次）"] == 11302
    assert daily[1]["人次较上一活动日"] == daily[1]["参与志愿者（人次）"] - 11302

    ws = wb["概览"]
    overview = {(r["指标族"], r["指标"]): r for r in table_rows(ws, "各指标族最新一期全市情况", "指标族")}
    assert overview[("政务服务", "事项总数")]["全市数值"] == 24671
    assert overview[("政务服务", "依申请事项进厅率")]["全市数值"] == pytest.approx(99.3)
    assert overview[("为民办实事", "实事完成率")]["全市数值"] == pytest.approx(97.81)
    assert overview[("创城整改", "整改率")]["全市数值"] == pytest.approx(69.28)
    assert overview[("志愿服务", "参与志愿者")]["全市数值"] == 11302
    assert overview[("志愿服务", "参与志愿者")]["期别"] == "2022-03-04"


def test_ranking_and_changes_come_from_the_views(pack, demo):
    wb = load_workbook(pack["xlsx"])
    for sheet, rate_header, rank_header in (
        ("政务服务", "依申请事项进厅率", "进厅率排名"),
        ("为民办实事", "实事完成率", "完成率排名"),
        ("创城整改", "整改率", "整改率排名"),
    ):
        ws = wb[sheet]
        t = first_table(ws)
        ranked = [(value(ws, t, d, rate_header), value(ws, t, d, rank_header)) for d in t[1] if d != "全市合计"]
        for rate, rank in ranked:  # competition ranking: 1 + the number of strictly better units
            assert rank == 1 + sum(1 for other, _ in ranked if other > rate)

    # flood: the latest day against the day before, straight from the view
    ws = wb["防汛清理"]
    t = first_table(ws)
    assert "上期：2021-07-31" in notes(ws)
    view = {
        (r["district_name"], str(r["date"])): r
        for r in demo.query("SELECT date, district_name, personnel, garbage_tons FROM mart_flood_cleanup_daily")
    }
    for district in ("平山区", "溪湖区", "明山区"):
        now, before = view[(district, "2021-08-01")], view[(district, "2021-07-31")]
        assert value(ws, t, district, "出动人员（人次）") == now["personnel"]
        assert value(ws, t, district, "出动人员较前日") == now["personnel"] - before["personnel"]
        assert value(ws, t, district, "清运垃圾较前日（吨）") == pytest.approx(
            float(now["garbage_tons"]) - float(before["garbage_tons"]), abs=0.005
        )
    assert value(ws, t, "全市合计", "出动人员（人次）") == sum(
        view[(d, "2021-08-01")]["personnel"] for d in ("平山区", "溪湖区", "明山区")
    )

    ws = wb["12345热线"]
    if not has_view(demo, "mart_hotline_by_district"):
        assert NO_DATA in notes(ws)
        return
    city = demo.query(
        "SELECT tickets, reply_rate_pct, closure_rate_pct, satisfaction_rate_pct "
        "FROM mart_hotline_by_district WHERE district_code IS NULL"
    )
    if not city:
        assert NO_DATA in notes(ws)
        return
    t = first_table(ws)
    assert value(ws, t, "全市合计", "工单数") == city[0]["tickets"]
    assert value(ws, t, "全市合计", "按时办结率") == pytest.approx(float(city[0]["closure_rate_pct"]))
    assert value(ws, t, "全市合计", "2小时首次答复率") == pytest.approx(float(city[0]["reply_rate_pct"]))


def test_reporting_sheet_lists_the_missing_and_late_reports(pack, demo):
    ws = load_workbook(pack["xlsx"])["报送情况"]
    missing = table_rows(ws, "未报送清单", "报表")
    expected = demo.query("SELECT report_title, district_name, period FROM mart_missing_reports")
    assert expected, "the demo leaves two 12345 exports unreported"
    assert sorted((r["报表"], r["区县"], r["期别"]) for r in missing) == sorted(
        (r["report_title"], r["district_name"], r["period"]) for r in expected
    )
    assert {r["状态"] for r in missing} <= {"未报送", "已报送但被退回"}
    late = table_rows(ws, "逾期报送清单", "报表")
    late_view = demo.query("SELECT COUNT(*) AS n FROM mart_reporting_completeness WHERE received = 1 AND on_time = 0")
    assert len(late) == late_view[0]["n"]
    per_type = table_rows(ws, "报送率与及时率", "报表")
    view = demo.query(
        "SELECT report_title, district_name, completeness_pct, timeliness_pct FROM mart_completeness_by_district"
    )
    assert len(per_type) == len(view)
    shown = {(r["报表"], r["区县"]): (r["报送率"], r["及时率"]) for r in per_type}
    for r in view:
        assert shown[(r["report_title"], r["district_name"])] == (
            pytest.approx(float(r["completeness_pct"])),
            pytest.approx(float(r["timeliness_pct"])),
        )
    gaps = table_rows(load_workbook(pack["xlsx"])["概览"], "未报送（数据缺口）", "区县")
    assert len(gaps) == len(expected)


def test_definitions_quote_domain_md(pack):
    ws = load_workbook(pack["xlsx"])["指标说明"]
    rows = table_rows(ws, "指标口径与来源", "指标")
    names = {r["指标"] for r in rows}
    assert {
        "依申请事项进厅率",
        "实事完成率",
        "整改率",
        "2小时首次答复率",
        "按时办结率（3个工作日）",
        "报送率",
        "及时率",
    } <= names
    assert all(r["来源视图"] for r in rows)
    if not DOMAIN_MD.exists():
        pytest.skip("shared/DOMAIN.md not beside the repository")
    domain = re.sub(r"\s+", " ", DOMAIN_MD.read_text(encoding="utf-8").replace("**", "").replace("`", ""))
    quoted = [r["DOMAIN.md 原文"] for r in rows if r["DOMAIN.md 原文"] != DASH]
    assert len(quoted) >= 8
    for text in quoted:
        assert re.sub(r"\s+", " ", text) in domain


def test_html_page_has_the_figures_and_svg_charts(pack):
    page = pack["html"].read_text(encoding="utf-8")
    for figure in (
        "24,671",
        "6,861",
        "99.30%",
        "1,735",
        "1,697",
        "97.81%",
        "357",
        "293",
        "203",
        "69.28%",
        "11,302",
        "365",
        "314",
    ):
        assert figure in page, figure
    assert page.count("<svg") >= 8 and "<rect" in page and "<polyline" in page
    for heading in ("政务服务", "为民办实事", "创城整改", "志愿服务", "防汛清理", "12345热线", "报送情况", "指标说明"):
        assert f"{heading}：" in page
    assert "Government service items" in page and "Indicator definitions" in page
    # self-contained: no script, no external stylesheet, image or font
    assert "<script" not in page.lower() and "<link" not in page.lower() and "src=" not in page
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")


def test_a_second_build_never_overwrites_the_first(pack, demo):
    before = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in pack.items()}
    again = build_review_pack(demo.engine, pack["xlsx"].parent, AS_OF)
    assert again["xlsx"].name == f"城市报表评审材料_{AS_OF}(2).xlsx"
    assert again["html"].name == f"城市报表评审材料_{AS_OF}(2).html"
    assert {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in pack.items()} == before
    assert load_workbook(again["xlsx"]).sheetnames == SHEETS


# --------------------------------------------------------------------------------------------------
# Small warehouses, per test, both backends


def _insert_load(conn, **values) -> int:
    row = {
        "run_id": None,
        "folder": None,
        "sha256": uuid.uuid4().hex * 2,
        "rows_loaded": 0,
        "is_current": 0,
        "received_at": None,
        **values,
    }
    columns = ", ".join(row)
    return conn.execute(
        sa.text(f"INSERT INTO stg_file_load ({columns}) VALUES ({', '.join(':' + c for c in row)}) RETURNING load_id"),
        row,
    ).scalar()


def test_formula_like_and_markup_values_stay_text(settings):
    """A district name or a file name that looks like a formula or markup is shown as typed, never run."""
    from etl.ingest.pipeline import prepare

    prepare(settings)
    engine = get_engine(settings.warehouse_url)
    evil_file = f"<script>alert(1)</script>{EVIL}.xlsx"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO dim_place (place_code, place_name, level, parent_code) "
                "VALUES (:c, :n, 'district', '210500')"
            ),
            {"c": "210599", "n": EVIL},
        )
        load_id = _insert_load(
            conn,
            file_name=EVIL,
            report_type="service_items",
            district_code="210599",
            period="2021Q4",
            status="accepted",
            is_current=1,
            rows_loaded=2,
        )
        conn.execute(
            sa.text(
                "INSERT INTO fct_service_item (load_id, source_sha256, source_row, item_code, district, is_application, "
                "in_service_hall, online) VALUES (:id, :sha, :row, :code, '210599', :app, :hall, :online)"
            ),
            [
                {"id": load_id, "sha": "0" * 64, "row": 3, "code": "A1", "app": True, "hall": True, "online": True},
                {"id": load_id, "sha": "0" * 64, "row": 4, "code": "A2", "app": True, "hall": False, "online": False},
            ],
        )
        _insert_load(
            conn,
            file_name=evil_file,
            folder=EVIL,
            report_type="task_ledger",
            district_code="210502",
            period="2021-12",
            status="rejected",
            reason_zh="=1+1 <b>退回</b>",
        )

    paths = build_review_pack(engine, settings.shared_dir / "published", AS_OF)

    wb = load_workbook(paths["xlsx"])
    ws = wb["政务服务"]
    t = first_table(ws)
    assert EVIL in t[1]
    name = ws.cell(t[1][EVIL], 1)
    assert name.value == EVIL and name.data_type == "s"
    assert value(ws, t, EVIL, "依申请事项进厅率") == pytest.approx(50.0)
    rejected = table_rows(wb["报送情况"], "被退回的文件", "报送时间")
    assert [r["文件名"] for r in rejected] == [evil_file]
    assert rejected[0]["退回原因"] == "=1+1 <b>退回</b>"
    formulas = [c.coordinate for w in wb for row in w.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    page = paths["html"].read_text(encoding="utf-8")
    assert "=HYPERLINK(&quot;x&quot;)" in page and EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "&lt;b&gt;退回&lt;/b&gt;" in page and "<b>" not in page


def test_publish_on_an_empty_warehouse_and_a_missing_view(settings):
    first = publish(settings, AS_OF)
    assert first["xlsx"] == settings.shared_dir / "published" / f"城市报表评审材料_{AS_OF}.xlsx"
    wb = load_workbook(first["xlsx"])
    assert wb.sheetnames == SHEETS
    for name in ("政务服务", "为民办实事", "创城整改", "志愿服务", "防汛清理", "12345热线"):
        assert NO_DATA in notes(wb[name]) and not wb[name]._charts
    missing = table_rows(wb["报送情况"], "未报送清单", "报表")
    with get_engine(settings.warehouse_url).connect() as conn:  # nothing received: every report due is missing
        due = conn.execute(
            sa.text("SELECT COUNT(*) FROM mart_missing_reports WHERE deadline <= :end"), {"end": "2022-04-16 00:00:00"}
        ).scalar()
    assert len(missing) == due > 0
    assert NO_DATA in first["html"].read_text(encoding="utf-8")

    with get_engine(settings.warehouse_url).begin() as conn:  # a view not (yet) in the warehouse
        conn.execute(sa.text("DROP VIEW mart_hotline_by_district"))
    second = build_review_pack(get_engine(settings.warehouse_url), settings.shared_dir / "published", AS_OF)
    assert second["xlsx"].name == f"城市报表评审材料_{AS_OF}(2).xlsx"
    assert "尚未建立" in notes(load_workbook(second["xlsx"])["12345热线"])
    assert "尚未建立" in second["html"].read_text(encoding="utf-8")


def test_a_lone_workbook_or_page_is_not_overwritten_either(sqlite_settings):
    out = sqlite_settings.shared_dir / "published"
    out.mkdir(parents=True)
    (out / f"城市报表评审材料_{AS_OF}.html").write_text("a leader's annotated copy", encoding="utf-8")
    paths = publish(sqlite_settings, AS_OF)
    assert (
        paths["xlsx"].name == f"城市报表评审材料_{AS_OF}(2).xlsx"
        and paths["html"].name == f"城市报表评审材料_{AS_OF}(2).html"
    )
    assert (out / f"城市报表评审材料_{AS_OF}.html").read_text(encoding="utf-8") == "a leader's annotated copy"
    assert not (out / f"城市报表评审材料_{AS_OF}.xlsx").exists()


def test_competition_ranking_shares_ties():
    rows = [{"v": 99.28}, {"v": 99.43}, {"v": 99.28}, {"v": None}, {"v": 98.0}]
    competition_rank(rows, "v")
    assert [r["rank"] for r in rows] == [2, 1, 2, None, 4]


def test_the_renovation_sheet_once_its_month_has_begun(demo, tmp_path):
    """The seventh family, from its contract alone: 明山区's December 2022 ledger in its own sheet with a
    chart, the seed figures of DOMAIN.md in the city row, and its headline on the overview."""
    paths = build_review_pack(demo.engine, tmp_path / "published", "2023-01-15")
    wb = load_workbook(paths["xlsx"])
    ws = wb["老旧小区改造"]
    assert ws._charts
    t = first_table(ws)
    assert set(t[1]) == {"明山区", "全市合计"}
    for header, expected in (
        ("改造小区（个）", 13),
        ("改造楼栋（栋）", 85),
        ("受益户数（户）", 5113),
        ("视频监控点位（个）", 166),
        ("门禁（个）", 334),
    ):
        assert value(ws, t, "全市合计", header) == expected, header
    assert value(ws, t, "全市合计", "总投资（万元）") == pytest.approx(7874.97)
    overview = table_rows(wb["概览"], "各指标族最新一期全市情况", "指标族")
    assert {r["指标"]: r["全市数值"] for r in overview if r["指标族"] == "老旧小区改造"}["受益户数"] == 5113
    definitions = table_rows(wb["指标说明"], "指标口径与来源", "指标")
    assert any(r["来源视图"] == "mart_old_compound_renovation_by_district" for r in definitions)
    assert "老旧小区改造" in paths["html"].read_text(encoding="utf-8")
