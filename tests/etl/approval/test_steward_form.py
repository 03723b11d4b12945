"""What the steward reads in Required Actions: clerk text can be neither Markdown nor a Jinja template."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given
from hypothesis import strategies as st

from etl.approval.airflow_tasks import StewardDecision, WithdrawApproval
from etl.approval.steward_form import body, escape_markdown, load_id_of, subject, withdraw_option
from etl.approval.units import Version

MARKDOWN = "\\`*_{}[]()<>#+-.!|~=&:;\"'$%@^"


def a_version(file_name: str = "明山区_12345_2021-09.csv", **changes) -> Version:
    values = {
        "load_id": 7,
        "report_type": "hotline_tickets",
        "report_title": "12345便民服务热线工单",
        "district_code": "210504",
        "district_name": "明山区",
        "period": "2021-09",
        "file_name": file_name,
        "received_at": dt.datetime(2021, 10, 3, 9, 30),
        "rows_read": 120,
        "rows_loaded": 100,
        "findings_critical": 0,
        "findings_error": 20,
        "findings_warning": 3,
        "reason_zh": "已入库100行；20行有错误未入库（已隔离），请核对回执后补报",
        "receipt_path": "receipts/明山区/明山区_12345_2021-09.csv.回执.xlsx",
        "docs_page": "data_docs/local_site/validations/x/index.html",
    }
    return Version(**{**values, **changes})


def unescaped(text: str) -> str:
    """``text`` with every backslash escape taken out: what is left must hold no Markdown syntax."""
    return re.sub(r"\\.", "", text)


@given(st.text(min_size=1, max_size=80))
def test_any_clerk_text_is_escaped(text):
    escaped = escape_markdown(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert not set(unescaped(escaped)) & set(MARKDOWN)
    assert re.sub(r"\\(.)", r"\1", escaped) == " ".join(text.split())  # nothing lost but line breaks


@given(st.text(min_size=1, max_size=60))
def test_a_file_name_cannot_add_a_link_or_break_the_layout(name):
    text = body(a_version(name), {"period": "2021-08", "rows_loaded": 90}, None, "/district-submissions")
    ours = body(a_version("x"), {"period": "2021-08", "rows_loaded": 90}, None, "/district-submissions")
    assert text.count("](") == ours.count("](") == 3  # the three links of ours, whatever the name
    assert len(text.split("  \n")) == len(ours.split("  \n"))  # the same lines


def test_the_body_shows_counts_findings_change_and_links():
    text = body(a_version(), {"period": "2021-08", "rows_loaded": 80}, None, "/district-submissions")
    assert "120 / 100" in text and "错误 20" in text and "提示 3" in text
    assert "（2021\\-08）：入库 80 行 → 100 行（+20，+25.0%）" in text
    assert "[报送情况页](/district-submissions/loads/7)" in text
    assert "(/district-submissions/receipts/%E6%98%8E%E5%B1%B1%E5%8C%BA/" in text
    assert "[数据校验报告](/district-submissions/data-docs/local_site/validations/x/index.html)" in text
    replaced = a_version("旧.csv", load_id=3, rows_loaded=110)
    held = body(a_version(replaces=3), None, replaced, "/district-submissions")
    assert "替换的已审核数据" in held and "110 行 → 新文件 100 行" in held and "没有上一期的数据" in held
    assert subject(a_version(replaces=3)).startswith("替换已审核数据：明山区")


def test_withdrawal_options_read_back_to_their_load():
    assert load_id_of(withdraw_option(a_version(load_id=4711))) == 4711


def test_the_operators_render_no_template():
    """Airflow renders template fields with Jinja: a file name like {{ conn.x.password }} must stay text."""
    assert StewardDecision.template_fields == () and WithdrawApproval.template_fields == ()
