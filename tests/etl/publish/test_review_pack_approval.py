"""The review pack and approval: by default its tables hold approved figures only, each row says so, and
the 审核情况 sheet lists what still awaits a steward (a corrected file held for an approved period too)."""

from __future__ import annotations

from warehouse_helpers import drop_hotline as drop

from etl.approval.decisions import Decision, decide
from etl.publish.review_pack import collect
from etl.warehouse.engine import get_engine

AS_OF = "2021-10-15"


def sections(settings) -> dict:
    return {s.sheet: s for s in collect(get_engine(settings.warehouse_url), AS_OF).sections}


def test_pack_shows_approved_figures_and_lists_what_awaits_approval(sqlite_settings, monkeypatch):
    settings = sqlite_settings
    monkeypatch.setenv("PUBLISH_UNAPPROVED", "0")
    first = drop(settings, "明山区_12345_2021-09.csv", 120)
    pack = sections(settings)
    assert "只含数据管理员已审核的数据" in " ".join(pack["概览"].notes)
    assert pack["12345热线"].tables == []  # nothing approved: no figures
    (waiting,) = pack["审核情况"].tables[0].rows
    assert (waiting["district_name"], waiting["period"], waiting["approval_state_zh"]) == (
        "明山区",
        "2021-09",
        "待审核",
    )

    decide(Decision(first.load_id, "approved", "steward1"), settings)
    drop(settings, "明山区_12345_2021-09_更正.csv", 80)  # held: the period is locked
    pack = sections(settings)
    rows = pack["12345热线"].tables[0].rows
    assert {r["district_name"]: r["approval_text"] for r in rows} == {"明山区": "已审核", "全市合计": "已审核"}
    (waiting,) = pack["审核情况"].tables[0].rows
    assert waiting["approval_state_zh"] == "已审核；更正文件待审核"


def test_under_publish_unapproved_the_pack_marks_figures_awaiting_approval(sqlite_settings, monkeypatch):
    settings = sqlite_settings
    monkeypatch.setenv("PUBLISH_UNAPPROVED", "1")
    drop(settings, "明山区_12345_2021-09.csv", 120)
    pack = sections(settings)
    assert "本材料含待审核数据" in " ".join(pack["概览"].notes)
    rows = pack["12345热线"].tables[0].rows
    assert {r["district_name"]: r["approval_text"] for r in rows} == {"明山区": "待审核", "全市合计": "待审核"}
