"""Rows a 12345 export's row errors hold back are recorded with their values and reasons, the same on the
embedded default and on PostgreSQL (where they go by COPY), however odd the text in them.

A million-row export with 300,000 rows failing a rule once took 352 s, nearly all in the record: every
listed finding rebuilt the set of every held-back row (``ParsedReport.quarantined_rows``) to ask whether
its row was one, the outcome, the record and the receipt rebuilt it ten more times, and each held-back row
became a dict and an encoder call. That set is now built a bounded number of times, whatever the number of
findings and rows."""

from __future__ import annotations

import csv
import io
import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from warehouse_helpers import ingest, query
from workbooks import PLANTED, spoiled_hotline_export

from etl.config import Settings
from etl.ingest.findings import FindingList

ODD_TEXT = st.sampled_from(
    [
        "a\tb",
        "back\\slash",
        "line\nbreak",
        'quote"d',
        "comma,here",
        "\\N",
        "tab\\t",
        '{"json": 1}',
        "很满意\r",
        "城市管理",
    ]
)
CASE = itertools.count()


def csv_field(text: str) -> str:
    """``text`` as one CSV field, quoted as Excel quotes it (a line break in it too)."""
    out = io.StringIO()
    csv.writer(out).writerow([text])
    return out.getvalue().removesuffix("\r\n")


@pytest.fixture
def both_warehouses(tmp_path_factory, pg_url):
    """An example's shared folder on each warehouse (the databases are the test's: examples add loads)."""

    def make() -> list[Settings]:
        root = tmp_path_factory.mktemp("case")
        sqlite = f"sqlite:///{root / 'warehouse.sqlite'}"
        return [Settings(root / "shared", sqlite, 0), Settings(root / "shared_pg", pg_url, 0)]

    return make


@given(
    kinds=st.lists(st.sampled_from([None, *PLANTED]), min_size=1, max_size=30),
    category=ODD_TEXT,
)
def test_held_back_rows_are_recorded_with_their_values_the_same_on_both_warehouses(
    both_warehouses, monkeypatch, kinds, category
):
    case = next(CASE)  # the PostgreSQL database outlives an example: each example's export is new content
    text = spoiled_hotline_export(kinds, prefix=f"Q{case:04d}", category=csv_field(category))
    passes = []
    every_error_place = FindingList.error_places

    def counted(self, *args, **kwargs):
        passes.append(1)
        return every_error_place(self, *args, **kwargs)

    monkeypatch.setattr(FindingList, "error_places", counted)
    recorded = []
    for settings in both_warehouses():
        path = settings.inbox / "明山区" / "明山区_12345热线工单_2021-09.csv"
        path.parent.mkdir(parents=True)
        path.write_bytes(text.encode("utf-8-sig"))
        passes.clear()
        (outcome,) = ingest(settings).values()
        held = query(
            settings,
            "SELECT source_sheet, source_row, reason_zh, row_json FROM stg_quarantined_row WHERE load_id = :i "
            "ORDER BY source_row",
            i=outcome.load_id,
        )
        recorded.append((outcome.status, outcome.rows, outcome.errors, held))
        # passes over every row error of the file: one for the load check, one per rule of the suite that
        # failed (at most four here), one for the outcome — not one or two per finding listed
        assert len(passes) <= 6, len(passes)

    sqlite, postgresql = recorded
    assert postgresql == sqlite
    status, rows, errors, held = sqlite
    planted = {i + 2 for i, kind in enumerate(kinds) if kind is not None}
    if status == "rejected":  # every row held back: nothing is loaded, nothing quarantined
        assert planted == set(range(2, len(kinds) + 2)) and held == []
        return
    assert {h["source_row"] for h in held} == planted
    for h in held:
        values = json.loads(h["row_json"])
        assert values["ticket_id"] == f"Q{case:04d}{h['source_row'] - 2:06d}"
        assert h["reason_zh"]
