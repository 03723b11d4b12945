"""区县报送情况 / District submissions: the stewards' web page over the warehouse views.

Plain server-side HTML (no JavaScript, no external CSS or fonts: the machines are offline) over
``mart_file_status`` and ``mart_finding``, in Chinese with English subtitles, from the Jinja2 templates in
``etl/web/templates`` (autoescaped):

``/``                  every file received, newest first: received time, folder/district, report, period,
                       status, rows read/loaded, findings by severity, the reason, links to its receipt and
                       to its Data Docs page (the view's ``docs_page``, when there is one).
                       Filters ``?status=&district=&report_type=``, pages ``?page=``.
``/loads/{load_id}``   one file and every finding (sheet, row, column, cell, value, severity, message).
``/receipts/{path}``   the 回执 workbook from ``SHARED_DIR/receipts``.
``/data-docs/{path}``  the Great Expectations Data Docs under ``SHARED_DIR/data_docs`` (GX ships no server).

The Airflow plugin ``plugins/district_submissions.py`` mounts :func:`create_app` at ``/district-submissions``
behind Airflow's login; tests call it directly. File names, values and messages come from clerks' files:
every value is escaped, every query takes bound parameters, and files are only served from inside their
folder. Values are escaped by the template engine, never by hand: only our own constants and the templates'
own (autoescaped) output are ever marked safe. FastAPI and the warehouse engine (which pulls in pandas) are
imported only when the app is built or a page is asked for. Times are shown as stored: the city's local time
(etl/config.py, CITY_TIMEZONE).
"""

# No ``from __future__ import annotations``: FastAPI reads the route annotations (a local import) at runtime.
import datetime as dt
import logging
import mimetypes
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import sqlalchemy as sa
from jinja2.ext import Extension
from markupsafe import Markup, escape

from etl.config import DATA_DOCS, RECEIPTS, Settings, city_timezone
from etl.shared_paths import open_below
from etl.statuses import LABELS

log = logging.getLogger(__name__)

URL_PREFIX = "/district-submissions"  # where the Airflow plugin mounts the app
# the pages' paths under it, for the routes and the links alike
LOADS_PATH = "/loads/"
RECEIPTS_PATH = "/receipts/"
DATA_DOCS_PATH = "/data-docs/"
PAGE_SIZE = 100
MAX_FINDINGS = 5000
RECEIPTS_DIR = RECEIPTS  # under SHARED_DIR, as receipt_path is stored
DATA_DOCS_DIR = DATA_DOCS
DATA_DOCS_INDEX = "local_site/index.html"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# status → (Chinese, English) is etl.statuses.LABELS; the CSS class is st-<status>, only ever from that table
SEVERITIES: dict[str, tuple[str, str]] = {
    "critical": ("严重", "Critical"),
    "error": ("错误", "Error"),
    "warning": ("提示", "Warning"),
}

# Our own pages run no script at all; an escaping slip could not execute anything.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# Data Docs are GX's HTML (with values from clerks' files): served in a sandbox with an opaque origin, so no
# script on them can act as the logged-in user against the Airflow API on the same host.
DATA_DOCS_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts allow-forms allow-popups",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# --------------------------------------------------------------------------------------------- queries
@dataclass(frozen=True)
class Filters:
    status: str | None = None
    district: str | None = None
    report_type: str | None = None
    page: int = 1

    @classmethod
    def from_query(cls, params: dict[str, str] | Any) -> "Filters":
        """From query parameters; an unknown status or a bad page number is ignored, not an error."""

        def text(name: str) -> str | None:
            value = (params.get(name) or "").strip()
            return value[:200] or None

        status = text("status")
        try:
            page = max(1, min(int(params.get("page") or 1), 100_000))
        except ValueError:
            page = 1
        return cls(status if status in LABELS else None, text("district"), text("report_type"), page)

    def query(self, **changes) -> str:
        """This filter (with ``changes``) as a query string, for links."""
        values = {
            "status": self.status,
            "district": self.district,
            "report_type": self.report_type,
            "page": self.page if self.page > 1 else None,
        } | changes
        return urlencode({k: v for k, v in values.items() if v not in (None, "", 1)})


@dataclass
class Listing:
    rows: list[dict]
    total: int  # files matching every filter
    by_status: dict[str, int]  # files matching the district / report filters, by status
    districts: list[tuple[str, str]]  # (folder, label) for the filter
    report_types: list[tuple[str, str]]  # (report_type, label)
    waiting: list[tuple[str, str]] = ()  # inbox entries not taken yet: (file, reason), etl.ingest.inbox.entries.scan


def _where(filters: Filters, *, with_status: bool = True) -> tuple[str, dict]:
    clauses, params = [], {}
    if with_status and filters.status:
        clauses.append("status = :status")
        params["status"] = filters.status
    if filters.district:
        clauses.append("(folder = :district OR district_code = :district OR district_name = :district)")
        params["district"] = filters.district
    if filters.report_type:
        clauses.append("report_type = :report_type")
        params["report_type"] = filters.report_type
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_files(conn: sa.Connection, filters: Filters, page_size: int = PAGE_SIZE) -> tuple[list[dict], int, dict]:
    """One page of mart_file_status rows (newest first), the number matching, and counts by status."""
    where, params = _where(filters, with_status=False)
    by_status = {
        row.status: row.n
        for row in conn.execute(
            sa.text(f"SELECT status, COUNT(*) AS n FROM mart_file_status{where} GROUP BY status"), params
        )
    }
    total = by_status.get(filters.status, 0) if filters.status else sum(by_status.values())
    where, params = _where(filters)
    rows = conn.execute(
        sa.text(f"SELECT * FROM mart_file_status{where} ORDER BY load_id DESC LIMIT :limit OFFSET :offset"),
        {**params, "limit": page_size, "offset": (filters.page - 1) * page_size},
    ).mappings()
    return [dict(r) for r in rows], total, by_status


def filter_options(conn: sa.Connection) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    districts: dict[str, str] = {}
    for row in conn.execute(
        sa.text("SELECT DISTINCT folder, district_name FROM mart_file_status WHERE folder IS NOT NULL")
    ):
        label = (
            row.folder
            if not row.district_name or row.district_name == row.folder
            else f"{row.folder}（{row.district_name}）"
        )
        districts.setdefault(row.folder, label)
    reports: dict[str, str] = {}
    for row in conn.execute(
        sa.text("SELECT DISTINCT report_type, report_title FROM mart_file_status WHERE report_type IS NOT NULL")
    ):
        reports.setdefault(
            row.report_type, f"{row.report_title}（{row.report_type}）" if row.report_title else row.report_type
        )
    return sorted(districts.items()), sorted(reports.items(), key=lambda kv: kv[1])


def get_file(conn: sa.Connection, load_id: int) -> dict | None:
    row = (
        conn.execute(sa.text("SELECT * FROM mart_file_status WHERE load_id = :id"), {"id": load_id}).mappings().first()
    )
    return dict(row) if row else None


def get_findings(conn: sa.Connection, load_id: int, limit: int = MAX_FINDINGS) -> tuple[list[dict], int]:
    """A file's findings, most severe first, file-level ones before row ones, then by row; and how many."""
    total = conn.execute(sa.text("SELECT COUNT(*) FROM mart_finding WHERE load_id = :id"), {"id": load_id}).scalar()
    rows = conn.execute(
        sa.text(
            "SELECT * FROM mart_finding WHERE load_id = :id ORDER BY "
            "CASE severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END, "
            "CASE WHEN row_number IS NULL THEN 0 ELSE 1 END, row_number, finding_id LIMIT :limit"
        ),
        {"id": load_id, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows], int(total or 0)


# ------------------------------------------------------------------------------------------ file paths
def resolve_inside(base: Path, relative: str) -> Path | None:
    """``base/relative`` if it is a regular file inside ``base`` reached through no link — ``base`` itself,
    a folder of the share, included — and no other name of a file elsewhere (a hard link), else None.
    Absolute paths, ``..``, hidden components, backslashes and NULs are refused outright."""
    if not relative or "\x00" in relative or "\\" in relative:
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):  # also refuses "/abs" and "a//b"
        return None
    candidate = base.joinpath(*parts)
    handle = open_below(candidate, base.parent)  # clerks can write into the share: a link there leads anywhere
    if handle is None:
        return None
    handle.close()
    return candidate


def under(stored: str | None, folder: str) -> str | None:
    """A path stored relative to SHARED_DIR (e.g. ``receipts/溪湖区/x.回执.xlsx``) relative to its folder."""
    if not stored:
        return None
    parts = PurePosixPath(str(stored).replace("\\", "/")).parts
    if len(parts) < 2 or parts[0] != folder:
        return None
    return "/".join(parts[1:])


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback for old clients plus the UTF-8 name (Chinese file names)."""
    suffix = re.sub(r"[^A-Za-z0-9.]", "", PurePosixPath(filename).suffix)[:10]
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", filename)
    fallback = ascii_name if ascii_name == filename else f"download{suffix}"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# ------------------------------------------------------------------------------------------------ HTML
def esc(value: Any) -> str:
    """A value as the templates write it (escaped by markupsafe, as Jinja2's autoescape does); None is empty."""
    return "" if value is None else str(escape(value))


def href(*parts: str) -> str:
    """A path from an already-built base and raw segments (each percent-encoded, slashes kept)."""
    base, *rest = parts
    return base + "".join(quote(p, safe="/") for p in rest)


def local_time_text(value: Any) -> str:
    """A warehouse timestamp as text. The warehouse keeps naive local times of the city (etl/config.py,
    CITY_TIMEZONE), datetime objects on PostgreSQL and ISO text on SQLite; an aware one is converted."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(city_timezone()).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",system-ui,sans-serif;margin:16px;color:#1f2328;
font-size:14px;background:#fff}
h1{font-size:20px;margin:0 0 2px}h1 small,h2 small{display:block;font-size:13px;color:#57606a;font-weight:normal}
h2{font-size:16px;margin:20px 0 6px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;
vertical-align:top}th{background:#f6f8fa;font-weight:600;white-space:nowrap}th small,td small{display:block;
color:#57606a;font-size:11px;font-weight:normal}td.num{text-align:right;white-space:nowrap}td.reason{max-width:28em}
tr:hover td{background:#f6f8fa}a{color:#0969da}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;white-space:nowrap}
.badge small{display:inline;margin-left:4px;font-size:11px;color:inherit;opacity:.8}
.st-accepted{background:#dafbe1;color:#116329}.st-flagged{background:#fff8c5;color:#7d4e00}.st-held_for_approval{background:#ddf4ff;color:#0a3069}
.st-rejected{background:#ffebe9;color:#a40e26}.st-duplicate,.st-unknown{background:#eaeef2;color:#424a53}
.sev-critical{background:#a40e26;color:#fff}.sev-error{background:#ffebe9;color:#a40e26}
.sev-warning{background:#fff8c5;color:#7d4e00}.sev-unknown{background:#eaeef2}
.count{display:inline-block;min-width:1.5em;text-align:center;border-radius:4px}.count.zero{color:#8c959f}
.count.sev-critical,.count.sev-error,.count.sev-warning{font-weight:600}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end;margin:12px 0;padding:8px;background:#f6f8fa;
border-radius:6px}form.filters label{display:flex;flex-direction:column;font-size:12px;color:#57606a}
select,button{font:inherit;padding:3px 6px}.summary{margin:8px 0;color:#424a53}.summary a{margin-right:12px}
.muted{color:#57606a}.tag{font-size:11px;color:#57606a;border:1px solid #d0d7de;border-radius:4px;padding:0 4px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}dl.meta dt{color:#57606a}
dl.meta dd{margin:0;word-break:break-all}.pager{margin:12px 0}.pager a,.pager span{margin-right:12px}
.notice{padding:12px;border-radius:6px;background:#fff8c5}code{font-size:12px}
"""


class JoinLines(Extension):
    """Templates are written one element a line; a line break next to a tag or a template tag (``>``, ``}``
    before it, ``<``, ``{`` after it) is dropped with its indentation when a template is loaded, so the pages
    carry no whitespace between elements. Only the templates' own text changes, never a value."""

    LINE_BREAK = re.compile(r"(?<=[>}])[ \t]*\n[ \t]*|[ \t]*\n[ \t]*(?=[<{])")

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self.LINE_BREAK.sub("", source)


TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    finalize=lambda value: "" if value is None else value,  # a missing value is empty, not "None"
    extensions=[JoinLines],
)
TEMPLATES.globals.update(
    LABELS=LABELS,
    SEVERITIES=SEVERITIES,
    LOADS_PATH=LOADS_PATH,
    RECEIPTS_PATH=RECEIPTS_PATH,
    DATA_DOCS_PATH=DATA_DOCS_PATH,
    RECEIPTS_DIR=RECEIPTS_DIR,
    DATA_DOCS_DIR=DATA_DOCS_DIR,
    DATA_DOCS_INDEX=DATA_DOCS_INDEX,
    href=href,
    under=under,
    local_time_text=local_time_text,
)


def render(template: str, **context: Any) -> Markup:
    """A fragment from a template: HTML whose every value the template engine escaped, so ``page`` takes it as
    is (a plain string given to ``page`` is escaped like any value)."""
    return Markup(TEMPLATES.get_template(template).render(**context))


def page(title_zh: str, title_en: str, body: str, *, base: str, data_docs_index: bool = False) -> str:
    """The whole page around ``body``, the HTML of ``render_list``, ``render_detail`` or ``render_notice``."""
    return TEMPLATES.get_template("base.html").render(
        title_zh=title_zh,
        title_en=title_en,
        body=body,
        base=base,
        data_docs_index=data_docs_index,
        css=Markup(CSS),  # our own constant
    )


def render_list(listing: Listing, filters: Filters, *, base: str, page_size: int = PAGE_SIZE) -> str:
    statuses = [(s, f"{zh} {en}") for s, (zh, en) in LABELS.items()]
    districts = listing.districts
    if filters.district and filters.district not in dict(districts):
        districts = [*districts, (filters.district, filters.district)]
    reports = listing.report_types
    if filters.report_type and filters.report_type not in dict(reports):
        reports = [*reports, (filters.report_type, filters.report_type)]
    return render(
        "list.html",
        listing=listing,
        filters=filters,
        base=base,
        statuses=statuses,
        districts=districts,
        reports=reports,
        pages=max(1, -(-listing.total // page_size)),
    )


def render_detail(row: dict, findings: list[dict], total_findings: int, *, base: str) -> str:
    return render("detail.html", row=row, findings=findings, total_findings=total_findings, base=base)


def render_notice(message_zh: str, message_en: str) -> str:
    return render("notice.html", message_zh=message_zh, message_en=message_en)


# ----------------------------------------------------------------------------------------------- the app
def create_app(*, dependencies: Sequence[Any] = (), settings_factory: Callable[[], Settings] = Settings.from_env):
    """The FastAPI app behind the pages. ``dependencies`` run before every route (the Airflow plugin passes
    its login check); settings are read on every request so the environment decides SHARED_DIR and the
    warehouse, as for the DAG."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse

    app = FastAPI(
        title="District submissions / 区县报送情况",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=list(dependencies),
    )

    def base_of(request: Request) -> str:
        return request.url_for("submissions").path.rstrip("/")

    def html_page(
        body: str,
        request: Request,
        settings: Settings,
        title=("区县报送情况", "District submissions"),
        status_code: int = 200,
    ) -> HTMLResponse:
        docs_index = (settings.shared_dir / DATA_DOCS_DIR / DATA_DOCS_INDEX).is_file()
        return HTMLResponse(
            page(*title, body, base=base_of(request), data_docs_index=docs_index),
            status_code=status_code,
            headers=PAGE_HEADERS,
        )

    def warehouse_down(request: Request, settings: Settings) -> HTMLResponse:
        log.exception("district submissions: the warehouse could not be read")
        return html_page(
            render_notice(
                "仓库暂时无法读取，或尚未初始化：请先运行一次 district_ingest。",
                "The warehouse cannot be read or is not initialised yet: run district_ingest once.",
            ),
            request,
            settings,
            status_code=503,
        )

    @app.get("/", response_class=HTMLResponse, name="submissions")
    def submissions(request: Request):
        from etl.warehouse.engine import get_engine  # pulls pandas in via the contracts: only when a page is asked for

        settings = settings_factory()
        filters = Filters.from_query(request.query_params)
        try:
            with get_engine(settings.warehouse_url).connect() as conn:
                rows, total, by_status = list_files(conn, filters)
                districts, reports = filter_options(conn)
        except sa.exc.DBAPIError:
            return warehouse_down(request, settings)
        from etl.ingest.inbox.entries import waiting_entries

        listing = Listing(rows, total, by_status, districts, reports, waiting_entries(settings))
        return html_page(render_list(listing, filters, base=base_of(request)), request, settings)

    @app.get(f"{LOADS_PATH}{{load_id}}", response_class=HTMLResponse, name="load_detail")
    def load_detail(load_id: int, request: Request):
        from etl.warehouse.engine import get_engine

        settings = settings_factory()
        try:
            with get_engine(settings.warehouse_url).connect() as conn:
                row = get_file(conn, load_id)
                findings, total = get_findings(conn, load_id) if row else ([], 0)
        except sa.exc.DBAPIError:
            return warehouse_down(request, settings)
        if row is None:
            return html_page(
                render_notice(f"没有编号为 {load_id} 的报送。", f"No submission #{load_id}."),
                request,
                settings,
                status_code=404,
            )
        title = (f"报送 #{load_id}：{row.get('file_name')}", f"Submission #{load_id}")
        return html_page(render_detail(row, findings, total, base=base_of(request)), request, settings, title)

    @app.get(f"{RECEIPTS_PATH}{{path:path}}", name="receipt")
    def receipt(path: str):
        settings = settings_factory()
        target = resolve_inside(settings.receipts, path)
        if target is None or target.suffix.lower() != ".xlsx":
            raise HTTPException(status_code=404, detail="receipt not found")
        headers = {
            "Content-Disposition": content_disposition(target.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        }
        return served(target, settings.receipts, XLSX_TYPE, headers)

    @app.get(f"{DATA_DOCS_PATH}{{path:path}}", name="data_docs")
    def data_docs(path: str, request: Request):
        return data_docs_response(settings_factory().shared_dir / DATA_DOCS_DIR, path, base_of(request))

    return app


def data_docs_response(root: Path, path: str, base: str):
    """A file of the Data Docs site under ``root``; a folder redirects to its index.html."""
    from fastapi import HTTPException
    from fastapi.responses import RedirectResponse

    if path in ("", "/") or path.endswith("/"):
        index = f"{path.strip('/')}/index.html".lstrip("/") if path.strip("/") else DATA_DOCS_INDEX
        if resolve_inside(root, index) is not None:
            return RedirectResponse(href(base, DATA_DOCS_PATH, index), status_code=307)
        raise HTTPException(status_code=404, detail="no Data Docs here yet")
    target = resolve_inside(root, path)
    if target is None:
        raise HTTPException(status_code=404, detail="page not found")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type in ("application/javascript", "application/json"):
        media_type += "; charset=utf-8"
    return served(target, root, media_type, DATA_DOCS_HEADERS)


def served(target: Path, base: Path, media_type: str, headers: dict):
    """``target``, opened again through no link (etl.shared_paths.open_below: a folder swapped for a link since
    ``resolve_inside`` looked is not followed) and streamed from that descriptor; 404 when it cannot be."""
    from fastapi import HTTPException
    from fastapi.responses import StreamingResponse

    handle = open_below(target, base.parent)
    if handle is None:
        raise HTTPException(status_code=404, detail="not found")

    def blocks():
        with handle:
            while block := handle.read(1 << 16):
                yield block

    return StreamingResponse(blocks(), media_type=media_type, headers=headers)
