"""Beyond the findings cap (Limits.max_findings_per_rule) a finding is counted, not listed — and its row is
still held back. Generated 12345 exports (the report type that quarantines rows) plant row errors of
every kind the parser and the suite find, each kind on more rows than the cap, and go through the
whole-file path and the streamed path (etl/ingest/check.py): every planted row is quarantined and no
other, every error is counted in the outcome, each rule lists at most the cap and says how many more.
A row of another district than the folder's was once listed up to the cap and the rest loaded."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from warehouse_helpers import ingest, query
from workbooks import HOTLINE_CSV_HEADER, HOTLINE_STREETS

import etl.ingest.read.csv_chunks
from etl.ingest.read.limits import Limits

FOLDER = "明山区"
# kind → (rule the finding is counted under, how the kind spoils row ``cells``)
PLANTED = {
    "other_district": ("district_mismatch", lambda cells: cells.__setitem__(2, "平山区")),
    "no_time": ("value_format", lambda cells: cells.__setitem__(1, "2021-09-31 25:61")),
    "odd_satisfaction": ("gx:expect_column_values_to_be_in_set", lambda cells: cells.__setitem__(7, "很满意")),
    "no_category": ("gx:expect_column_values_to_not_be_null", lambda cells: cells.__setitem__(4, "")),
    "reply_first": (
        "gx:expect_column_pair_values_a_to_be_greater_than_b",
        lambda cells: cells.__setitem__(5, "2021-09-01 00:00:00"),
    ),
}


def export(kinds: list[str | None]) -> str:
    """A clean export, one row per entry of ``kinds``, that row spoiled by its kind (None: clean)."""
    lines = [HOTLINE_CSV_HEADER]
    start = dt.datetime(2021, 9, 1, 8, 0)
    for i, kind in enumerate(kinds):
        received = start + dt.timedelta(minutes=97 * i)
        cells = [
            f"MS21{i:06d}",
            f"{received:%Y-%m-%d %H:%M:%S}",
            FOLDER,
            HOTLINE_STREETS[i % len(HOTLINE_STREETS)],
            "城市管理",
            f"{received + dt.timedelta(minutes=30):%Y-%m-%d %H:%M:%S}",
            f"{received + dt.timedelta(hours=5):%Y-%m-%d %H:%M:%S}",
            "满意",
        ]
        if kind is not None:
            PLANTED[kind][1](cells)
        lines.append(",".join(cells))
    return "\r\n".join(lines) + "\r\n"


@given(
    cap=st.integers(1, 3),
    counts=st.fixed_dictionaries({kind: st.integers(0, 6) for kind in PLANTED}),
    clean=st.integers(1, 6),
    streamed=st.booleans(),
    order=st.randoms(use_true_random=False),
)
def test_rows_beyond_the_findings_cap_are_still_held_back_and_counted(
    make_settings, monkeypatch, cap, counts, clean, streamed, order
):
    kinds = [None] * clean + [kind for kind, n in counts.items() for _ in range(n)]
    order.shuffle(kinds)
    settings = dataclasses.replace(make_settings(), limits=Limits(max_findings_per_rule=cap))
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0 if streamed else 1 << 60)
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "CHUNK_ROWS", 4)  # the planted rows spread over chunks
    path = settings.inbox / FOLDER / "明山区_12345热线工单_2021-09.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(export(kinds).encode("utf-8-sig"))

    (outcome,) = ingest(settings).values()

    planted = {i + 2 for i, kind in enumerate(kinds) if kind is not None}  # Excel row: the header is row 1
    assert outcome.status == ("flagged" if planted else "accepted")
    assert (outcome.errors, outcome.rows) == (len(planted), len(kinds) - len(planted))
    loaded = query(settings, "SELECT source_row FROM fct_hotline_ticket WHERE load_id = :i", i=outcome.load_id)
    held = query(settings, "SELECT source_row FROM stg_quarantined_row WHERE load_id = :i", i=outcome.load_id)
    assert {r["source_row"] for r in held} == planted
    assert {r["source_row"] for r in loaded} == set(range(2, len(kinds) + 2)) - planted
    listed = query(
        settings,
        "SELECT rule, row_number, message_zh FROM stg_finding WHERE load_id = :i AND severity = 'error'",
        i=outcome.load_id,
    )
    for kind, n in counts.items():
        rule = PLANTED[kind][0]
        rows = [f for f in listed if f["rule"] == rule and f["row_number"] is not None]
        more = [f["message_zh"] for f in listed if f["rule"] == rule and f["row_number"] is None]
        assert len(rows) == min(n, cap), (kind, rows)
        assert {f["row_number"] for f in rows} <= {i + 2 for i, k in enumerate(kinds) if k == kind}
        assert more == (
            [f"另有 {n - cap} 处同类问题（{rule}）未逐条列出（每类最多列出 {cap} 处），请按上面列出的问题检查全表"]
            if n > cap
            else []
        )
