"""The District submissions page (区县报送情况): the Airflow plugin is found and shaped as Airflow 3 validates
it; the pages list every file and its findings from the warehouse views, escape what clerks wrote, and serve
receipts and Data Docs only from inside their folders; mounted in Airflow's API server it is behind login."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html import escape, unescape
from io import BytesIO
from urllib.parse import quote

import pytest
from conftest import REPO, drop_samples
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from starlette.testclient import TestClient

from etl.ingest.pipeline import discover, log_summary, prepare, process_file
from etl.web import stewards_page as submissions

PLUGIN_FILE = REPO / "plugins" / "district_submissions.py"
EVIL_NAME = "<img src=x onerror=alert(1)>.csv"  # a file name cannot hold "/", so not "</script>"


def _plugin():
    from airflow import plugins_manager

    plugins, errors = plugins_manager._get_plugins()
    assert not [e for source, e in errors.items() if "district_submissions" in source], errors
    found = [p for p in plugins if p.name == "district_submissions"]
    assert len(found) == 1, [p.name for p in plugins]
    return found[0]


@pytest.fixture
def ingested(sqlite_settings):
    """The three shared samples, a file with a script for a name and a service register with a bad cell."""
    from workbooks import SERVICE_HEADER, service_item, write_xlsx

    settings = sqlite_settings
    drop_samples(settings.inbox)
    (settings.inbox / "明山区").mkdir(parents=True, exist_ok=True)
    (settings.inbox / "明山区" / EVIL_NAME).write_text("a,b\n1,2\n", encoding="utf-8")
    write_xlsx(
        settings.inbox / "平山区" / "平山区_政务服务事项清单_2021Q4.xlsx",
        [
            SERVICE_HEADER,
            service_item("112105020001", "平山区"),
            service_item("112105020002", "平山区", promised="<b>十天</b>"),
        ],
        title="平山区政务服务事项清单",
    )
    prepare(settings)
    outcomes = {o.file: o for o in (process_file(f, settings) for f in discover(settings))}
    log_summary([o.as_dict() for o in outcomes.values()], settings=settings)  # the run's end: the Data Docs index
    return settings, outcomes


@pytest.fixture
def client():
    return TestClient(submissions.create_app())


# ------------------------------------------------------------------------------------------- the plugin
def test_plugin_is_discovered_with_the_shape_airflow_validates():
    from airflow import plugins_manager
    from airflow.api_fastapi.core_api.datamodels.plugins import PluginResponse

    plugin = _plugin()
    (app,) = plugin.fastapi_apps
    assert app["url_prefix"] == "/district-submissions" and app["name"]
    assert hasattr(app["app"], "router")  # a FastAPI app
    (view,) = plugin.external_views
    assert view == {
        "name": "District submissions",
        "href": "/district-submissions/",
        "destination": "nav",
        "category": "browse",
        "url_route": "district-submissions",
    }
    # what GET /api/v2/plugins returns, through the same pydantic model the API server uses
    info = next(i for i in plugins_manager.get_plugin_info() if i["name"] == "district_submissions")
    response = PluginResponse.model_validate(info)
    assert [v.url_route for v in response.external_views] == ["district-submissions"]
    assert response.fastapi_apps[0].url_prefix == "/district-submissions"
    ui_views, _ = plugins_manager._get_ui_plugins()
    assert any(v.get("url_route") == "district-submissions" for v in ui_views)


def test_plugin_import_stays_light():
    """Airflow imports plugins in every component and task process: no pandas, GX or even FastAPI."""
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('district_submissions', {str(PLUGIN_FILE)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(sorted(m for m in ('pandas', 'great_expectations', 'fastapi', 'etl.warehouse.engine') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


# -------------------------------------------------------------------------------------------- the pages
def test_list_shows_every_file_with_its_status_and_escapes_names(ingested, client):
    _settings, outcomes = ingested
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]  # no script may run at all
    page = response.text
    assert "区县报送情况" in page and "District submissions" in page
    for relative, outcome in outcomes.items():
        name = relative.split("/", 1)[1]
        assert f">{submissions.esc(name)}</a>" in page
        assert f'href="/loads/{outcome.load_id}"' in page
    assert {o.status for o in outcomes.values()} == {"accepted", "flagged", "rejected"}
    for status in ("accepted", "flagged", "rejected"):
        assert f'class="badge st-{status}"' in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.csv" in page
    assert "防汛救灾清理情况日报" in page and "2021-07-29" in page  # report title and period
    assert "本溪满族自治县" in page  # folder 本溪县 with the district's full name


def test_script_in_a_file_name_is_rendered_as_text():
    row = {
        "load_id": 7,
        "file_name": "<script>alert(1)</script>.csv",
        "folder": '"><b>x</b>',
        "status": "rejected",
        "status_zh": "已退回",
        "reason_zh": "<script>alert(2)</script>",
        "receipt_path": "receipts/明山区/<script>.回执.xlsx",
        "docs_page": "data_docs/local_site/a b.html",
    }
    listing = submissions.Listing([row], 1, {"rejected": 1}, [('"><b>x</b>', '"><b>x</b>')], [])
    html = submissions.render_list(listing, submissions.Filters(district='"><b>x</b>'), base="/p")
    assert "<script>" not in html and "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in html
    assert 'href="/p/receipts/%E6%98%8E%E5%B1%B1%E5%8C%BA/%3Cscript%3E.%E5%9B%9E%E6%89%A7.xlsx"' in html
    assert 'href="/p/data-docs/local_site/a%20b.html"' in html  # the docs_page column, once the view has it


def test_filters_by_status_district_and_report_type(ingested, client):
    _settings, outcomes = ingested
    rejected = client.get("/", params={"status": "rejected"}).text
    assert submissions.esc(EVIL_NAME) in rejected and "溪湖区_防汛日报_2021-07-29.xlsx" not in rejected
    xihu = client.get("/", params={"district": "溪湖区"}).text
    assert "溪湖区_防汛日报_2021-07-29.xlsx" in xihu and "南芬区_志愿服务_2022-03.csv" not in xihu
    volunteers = client.get("/", params={"report_type": "volunteer_activity"}).text
    assert (
        "南芬区_志愿服务_2022-03.csv</a>" in volunteers and "本溪县_政务服务事项清单_2021Q4.xlsx</a>" not in volunteers
    )
    none = client.get("/", params={"district": "<nowhere>", "page": "x"})
    assert none.status_code == 200 and "没有符合条件的报送" in none.text and "<nowhere>" not in none.text


def test_detail_page_lists_every_finding(ingested, client):
    _settings, outcomes = ingested
    flood = outcomes["溪湖区/溪湖区_防汛日报_2021-07-29.xlsx"]
    page = client.get(f"/loads/{flood.load_id}").text
    assert "问题清单（1）" in page and "D7" in page and "60余" in page and 'class="badge sev-warning"' in page
    service = outcomes["平山区/平山区_政务服务事项清单_2021Q4.xlsx"]
    assert service.status == "rejected"
    page = client.get(f"/loads/{service.load_id}").text
    assert "K4" in page and "承诺时限" in page and 'class="badge sev-error"' in page
    assert "&lt;b&gt;十天&lt;/b&gt;" in page and "<b>十天</b>" not in page  # the cell value, escaped
    evil = outcomes[f"明山区/{EVIL_NAME}"]
    page = client.get(f"/loads/{evil.load_id}").text
    assert 'class="badge sev-critical"' in page and "未识别出报表类型" in page and "<img src=x" not in page
    assert client.get("/loads/999999").status_code == 404


def test_receipt_is_served_as_xlsx_with_its_utf8_name(ingested, client):
    settings, outcomes = ingested
    outcome = outcomes["溪湖区/溪湖区_防汛日报_2021-07-29.xlsx"]
    relative = outcome.receipt.removeprefix("receipts/")
    assert f'href="/receipts/{quote(relative)}"' in client.get("/").text
    response = client.get(f"/receipts/{quote(relative)}")
    assert response.status_code == 200
    assert response.headers["content-type"] == submissions.XLSX_TYPE
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="download.xlsx"; ')
    assert f"filename*=UTF-8''{quote('溪湖区_防汛日报_2021-07-29.xlsx.回执.xlsx', safe='')}" in disposition
    assert load_workbook(BytesIO(response.content)).sheetnames[0] == "处理结果"
    evil = outcomes[f"明山区/{EVIL_NAME}"].receipt.removeprefix("receipts/")
    assert client.get(f"/receipts/{quote(evil)}").status_code == 200


def test_receipt_route_rejects_traversal(sqlite_settings, client):
    settings = sqlite_settings
    (settings.receipts / "溪湖区").mkdir(parents=True)
    (settings.receipts / "溪湖区" / "r.xlsx").write_bytes(b"PK")
    (settings.receipts / "not-a-receipt.txt").write_text("not served")
    (settings.shared_dir / "warehouse.xlsx").write_bytes(b"secret")
    assert client.get(f"/receipts/{quote('溪湖区/r.xlsx')}").content == b"PK"
    for path in (
        "../warehouse.xlsx",
        "..%2Fwarehouse.xlsx",
        "%2E%2E/%2E%2E/etc/passwd",
        "%2Fetc%2Fpasswd",
        "溪湖区/..%2F..%2Fwarehouse.xlsx",
        "..%5Cwarehouse.xlsx",
        "溪湖区",
        "missing.xlsx",
        "x%00.xlsx",
        "not-a-receipt.txt",
    ):
        response = client.get(f"/receipts/{path}")
        assert response.status_code in (400, 404), path
        assert response.content != b"secret"


def test_resolve_inside_refuses_everything_outside(tmp_path):
    base = tmp_path / "receipts"
    (base / "a").mkdir(parents=True)
    (base / "a" / "r.xlsx").write_bytes(b"PK")
    (tmp_path / "secret.xlsx").write_bytes(b"PK")
    (base / "link.xlsx").symlink_to(tmp_path / "secret.xlsx")
    assert submissions.resolve_inside(base, "a/r.xlsx") == (base / "a" / "r.xlsx").resolve()
    for bad in (
        "../secret.xlsx",
        "a/../../secret.xlsx",
        str(tmp_path / "secret.xlsx"),
        "link.xlsx",
        "a",
        "a\\r.xlsx",
        ".hidden",
        "",
        "a/./r.xlsx",
        "a//r.xlsx",
    ):
        assert submissions.resolve_inside(base, bad) is None, bad


def test_resolve_inside_serves_nothing_through_a_linked_folder_or_a_hard_link(tmp_path):
    """receipts/ and data_docs/ are folders of the share: a clerk who links one of them (or a folder in it)
    to a server folder, or hard-links a server file into it, gets nothing of it served."""
    shared = tmp_path / "shared"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "airflow.cfg").write_bytes(b"secret")
    (shared / "receipts" / "a").mkdir(parents=True)
    (shared / "data_docs").symlink_to(outside, target_is_directory=True)
    (shared / "receipts" / "b").symlink_to(outside, target_is_directory=True)
    os.link(outside / "airflow.cfg", shared / "receipts" / "a" / "r.xlsx")
    assert submissions.resolve_inside(shared / "data_docs", "airflow.cfg") is None
    assert submissions.resolve_inside(shared / "receipts", "b/airflow.cfg") is None
    assert submissions.resolve_inside(shared / "receipts", "a/r.xlsx") is None


def test_validated_files_link_to_their_data_docs_page(ingested, client):
    page = client.get("/").text
    links = re.findall(r'href="(/data-docs/local_site/validations/[^"]+\.html)"', page)
    assert len(links) >= 3  # every file that reached validation; the unreadable one has none
    response = client.get(unescape(links[0]))
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert (
        'href="/data-docs/local_site/index.html"' in page and client.get("/data-docs/local_site/index.html").is_success
    )


def test_data_docs_are_served_from_their_folder_in_a_sandbox(sqlite_settings, client):
    site = sqlite_settings.shared_dir / "data_docs" / "local_site"
    (site / "validations").mkdir(parents=True)
    (site / "index.html").write_text("<html><body>GX index 索引</body></html>", encoding="utf-8")
    (site / "validations" / "页 1.html").write_text("<html>page</html>", encoding="utf-8")
    (sqlite_settings.shared_dir / "secret.txt").write_text("secret")
    entry = client.get("/data-docs/", follow_redirects=False)
    assert entry.status_code == 307 and entry.headers["location"] == "/data-docs/local_site/index.html"
    index = client.get("/data-docs/local_site/index.html")
    assert index.status_code == 200 and "GX index 索引" in index.text
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert index.headers["content-security-policy"].startswith("sandbox")
    assert client.get(f"/data-docs/local_site/validations/{quote('页 1.html')}").text == "<html>page</html>"
    for bad in ("../secret.txt", "..%2Fsecret.txt", "local_site/..%2F..%2Fsecret.txt", "local_site/missing.html"):
        assert client.get(f"/data-docs/{bad}").status_code in (400, 404), bad
    assert "数据质量报告" in client.get("/").text  # the index link in the header


def test_warehouse_not_yet_prepared_says_so(sqlite_settings, client):
    response = client.get("/")
    assert response.status_code == 503 and "district_ingest" in response.text


# ------------------------------------------------------------------------ inside Airflow's API server
@pytest.fixture
def airflow_api(airflow_db):
    from airflow.api_fastapi.app import create_app, purge_cached_app

    purge_cached_app()
    app = create_app("core")
    yield TestClient(app)
    purge_cached_app()


def test_mounted_in_the_api_server_behind_login(ingested, airflow_api):
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    anonymous = airflow_api.get("/district-submissions/", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401
    browser = airflow_api.get(
        "/district-submissions/?status=rejected", headers={"Accept": "text/html"}, follow_redirects=False
    )
    assert browser.status_code == 303 and "/auth/login" in browser.headers["location"]
    assert airflow_api.get("/district-submissions/receipts/x.xlsx").status_code == 401  # files too

    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="steward", role="viewer"))
    airflow_api.cookies.set("_token", token)
    page = airflow_api.get("/district-submissions/")
    assert page.status_code == 200 and "区县报送情况" in page.text
    assert 'href="/district-submissions/loads/' in page.text  # links carry the mount prefix
    assert 'href="/district-submissions/receipts/' in page.text
    plugins = airflow_api.get("/api/v2/plugins").json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "district_submissions")
    assert ours["external_views"][0]["href"] == "/district-submissions/"
    assert json.dumps(ours["fastapi_apps"][0]["url_prefix"]) == '"/district-submissions"'


def test_entries_waiting_in_the_inbox_are_listed_with_their_reason_and_escaped(ingested, client):
    settings, _outcomes = ingested
    (settings.inbox / "明山区" / "~$<b>锁<i>.xlsx").write_bytes(b"lock")
    (settings.inbox / "明山区" / "上传中.xlsx.part").write_bytes(b"x")
    page = client.get("/").text
    assert "收件箱中有 2 个文件在等待" in page
    assert "明山区/~$&lt;b&gt;锁&lt;i&gt;.xlsx" in page and "<b>锁" not in page
    assert "表格正在被编辑" in page and "临时文件" in page


# ---------------------------------------------------------------------- any text a clerk writes is text
HOSTILE = ["<script>alert(1)</script>", '"><script>alert(2)</script>', "'><img src=x onerror=alert(3)>", "&amp;", "&"]
CLERK_TEXT = st.builds(lambda a, b, c: a + b + c, st.text(max_size=8), st.sampled_from(HOSTILE), st.text(max_size=8))
ROW_TEXT = ("file_name", "folder", "district_name", "report_type", "report_title", "period", "status_zh", "reason_zh")
DETAIL_TEXT = ("archive_path", "moved_to", "sha256", "run_id")
FINDING_TEXT = ("sheet_name", "column_header", "cell_ref", "value_text", "message_zh", "message_en", "rule")


def escaped(value: str) -> str:
    """html.escape, with the quote entities Jinja2's autoescape (markupsafe) writes: &#34; and &#39;."""
    return escape(value).replace("&quot;", "&#34;").replace("&#x27;", "&#39;")


@settings(max_examples=25)
@given(
    texts=st.fixed_dictionaries({k: CLERK_TEXT for k in ROW_TEXT + DETAIL_TEXT}),
    receipt=CLERK_TEXT,
    docs=CLERK_TEXT,
    finding=st.fixed_dictionaries({k: CLERK_TEXT for k in FINDING_TEXT}),
    waiting=st.lists(st.tuples(CLERK_TEXT, CLERK_TEXT), max_size=2),
    status=st.sampled_from(["accepted", "flagged", "rejected", "duplicate", "<b>unknown</b>"]),
)
def test_every_clerk_value_is_escaped_by_the_templates(texts, receipt, docs, finding, waiting, status):
    row = {
        "load_id": 3,
        "status": status,
        "rows_read": 2,
        "rows_loaded": 1,
        "findings_error": 1,
        "superseded_by": 4,
        "receipt_path": f"receipts/{receipt}",
        "docs_page": f"data_docs/{docs}",
        **texts,
    }
    districts = [(texts["folder"], texts["district_name"])]
    reports = [(texts["report_type"], texts["report_title"])]
    listing = submissions.Listing([row], 1, {status: 1}, districts, reports, waiting)
    filters = submissions.Filters(district=texts["district_name"], report_type=texts["period"])
    pages = {
        "list": submissions.render_list(listing, filters, base="/p"),
        "detail": submissions.render_detail(row, [{"severity": "error", "row_number": 5, **finding}], 1, base="/p"),
    }
    values = {
        "list": [*(texts[k] for k in ROW_TEXT), *(v for entry in waiting for v in entry)],
        "detail": [*(texts[k] for k in ROW_TEXT + DETAIL_TEXT if k != "file_name"), *finding.values()],
    }
    for name, html in pages.items():
        assert "<script" not in html.lower() and "<img" not in html.lower(), name
        for value in values[name]:
            assert escaped(value) in html, (name, value)
        for folder, path, stored in (("receipts", "/receipts/", receipt), ("data_docs", "/data-docs/", docs)):
            relative = submissions.under(f"{folder}/{stored}", folder)
            if relative:  # a path that names a file inside the folder: linked, percent-encoded
                assert f'href="{escaped(submissions.href("/p", path, relative))}"' in html, (name, stored)
