"""What a steward reads in Airflow's Required Actions for one version: a subject, a Markdown body (counts,
findings by severity, the change against the previous period or the approved version it would replace,
links to the stewards' page, the receipt and the Data Docs page) and the options.

Clerk text (file names, reasons) is escaped for Markdown, so a file name cannot become a link, an image
or a heading; the operator renders no Jinja template (etl.approval.airflow_tasks), so it cannot become
one either.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from etl.approval.choices import APPROVE, REJECT
from etl.approval.units import Version, previous_period, to_request, version
from etl.config import DATA_DOCS, RECEIPTS, Settings, approval_response_days
from etl.warehouse.engine import get_engine

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~=&:;\"'$%@^])")


def escape_markdown(text: object) -> str:
    """``text`` shown as itself in Markdown: one line, every character Markdown (or HTML) could read as
    syntax escaped with a backslash."""
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def subject(v: Version) -> str:
    what = "替换已审核数据" if v.replaces is not None else "审核"
    return f"{what}：{v.unit_label}"


def withdraw_option(v: Version) -> str:
    """An approved version as an option of the withdrawal form; ``load_id_of`` reads it back."""
    return f"{v.unit_label}（#{v.load_id}）"


def load_id_of(option: str) -> int:
    match = re.search(r"（#(\d+)）$", option)
    if match is None:
        raise ValueError(f"not an option of the withdrawal form: {option!r}")
    return int(match[1])


def body(v: Version, previous: dict | None, replaced: Version | None, links: str) -> str:
    """The Markdown a steward reads. ``links``: the stewards' page URL prefix (e.g. /district-submissions)."""
    lines = [
        f"**文件**：{escape_markdown(v.file_name)}（第 {v.load_id} 号）",
        f"**收到时间**：{v.received_at:%Y-%m-%d %H:%M}" if v.received_at else "**收到时间**：未知",
        f"**读取 / 入库行数**：{v.rows_read or 0} / {v.rows_loaded}",
        f"**问题**：严重 {v.findings_critical} · 错误 {v.findings_error} · 提示 {v.findings_warning}",
        f"**校验结论**：{escape_markdown(v.reason_zh or '')}",
    ]
    if replaced is not None:
        lines.append(
            f"**替换的已审核数据**：第 {replaced.load_id} 号文件 {escape_markdown(replaced.file_name)}，"
            f"入库 {replaced.rows_loaded} 行 → 新文件 {v.rows_loaded} 行（{_change(replaced.rows_loaded, v.rows_loaded)}）"
        )
    if previous is not None:
        lines.append(
            f"**与上期相比**（{escape_markdown(previous['period'])}）：入库 {previous['rows_loaded']} 行 → "
            f"{v.rows_loaded} 行（{_change(previous['rows_loaded'], v.rows_loaded)}）"
        )
    else:
        lines.append("**与上期相比**：没有上一期的数据")
    page = [f"[报送情况页]({links}/loads/{v.load_id})"]
    if v.receipt_path:
        page.append(f"[回执]({links}/receipts/{_url_path(v.receipt_path, RECEIPTS)})")
    if v.docs_page:
        page.append(f"[数据校验报告]({links}/data-docs/{_url_path(v.docs_page, DATA_DOCS)})")
    lines += [
        " · ".join(page),
        "",
        f"选择「{APPROVE}」：数字对领导可见，本期数据锁定，之后收到的新文件须再经审核才替换。"
        f"选择「{REJECT}」：请在审核意见中写明原因，区县会在回执旁收到说明。",
    ]
    return "  \n".join(lines)  # a Markdown line break after each line


def _change(before: int, after: int) -> str:
    if not before:
        return f"{after - before:+d}"
    return f"{after - before:+d}，{100.0 * (after - before) / before:+.1f}%"


def _url_path(stored: str, folder: str) -> str:
    """A path stored under SHARED_DIR (receipts/…, data_docs/…) as the URL path under the page's route."""
    inside = stored.split("/", 1)[1] if stored.startswith(f"{folder}/") else stored
    return quote(inside)


def approval_requests(settings: Settings, run_id: str, links: str) -> list[dict]:
    """The keyword arguments of one approval task per version no open task asks about yet (recorded as
    asked by ``run_id``): subject, body and load_id."""
    engine = get_engine(settings.warehouse_url)
    requests = []
    for v in to_request(engine, run_id, approval_response_days()):
        replaced = version(engine, v.replaces) if v.replaces is not None else None
        requests.append(
            {"load_id": v.load_id, "subject": subject(v), "body": body(v, previous_period(engine, v), replaced, links)}
        )
    return requests


def withdrawal_request(
    settings: Settings, district_code: str | None = None, report_type: str | None = None, period: str | None = None
) -> dict | None:
    """The options and body of the withdrawal form: every approved version (narrowed), or None."""
    from etl.approval.units import approved

    found = approved(get_engine(settings.warehouse_url), report_type, district_code, period)
    if not found:
        return None
    listed = "  \n".join(
        f"{escape_markdown(withdraw_option(v))}：{escape_markdown(v.file_name)}，入库 {v.rows_loaded} 行" for v in found
    )
    return {
        "options": [withdraw_option(v) for v in found],
        "body": f"勾选要撤销审核的数据，并写明原因。撤销后该期数据回到待审核，领导不再看到，新文件可直接替换。  \n{listed}",
    }
