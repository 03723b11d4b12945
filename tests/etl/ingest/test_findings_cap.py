"""Beyond the findings cap (Limits.max_findings_per_rule) a finding is counted, not listed — and its row is
still held back. Generated 12345 exports (the report type that quarantines rows) plant row errors of
every kind the parser and the suite find, each kind on more rows than the cap, and go through the
whole-file path and the streamed path (etl/ingest/check.py): every planted row is quarantined and no
other, every error is counted in the outcome, each rule lists at most the cap and says how many more.
A row of another district than the folder's was once listed up to the cap and the rest loaded."""

from __future__ import annotations

import dataclasses

from hypothesis import example, given
from hypothesis import strategies as st
from warehouse_helpers import ingest, query
from workbooks import PLANTED, spoiled_hotline_export

import etl.ingest.read.csv_chunks
from etl.ingest.read.limits import Limits

FOLDER = "明山区"


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
    path.write_bytes(spoiled_hotline_export(kinds).encode("utf-8-sig"))

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


@example(written="约{n}", volunteers=200_000, before=3, cap=1)  # the warning counted beyond the cap
@given(
    written=st.sampled_from(["约{n}", "{n}余", "{n}多", "近{n}"]),
    volunteers=st.sampled_from([99_999, 100_000, 100_001, 200_000]),
    before=st.integers(0, 3),
    cap=st.integers(1, 3),
)
def test_a_cell_said_to_be_approximate_is_still_out_of_range(tmp_path_factory, written, volunteers, before, cap):
    """One message per cell, unless a rule finds the cell graver than what is said of it: 约200000 volunteers
    (an approximate value, a warning) above the suite's 100,000 is an error that rejects the file, whether
    the warning is listed or counted beyond the cap (``before`` approximate values come first)."""
    from hostile import volunteer_csv

    from etl.ingest.parse.tables import parse_file
    from etl.ingest.validate.suite import validate_report

    inbox = tmp_path_factory.mktemp("case") / "inbox"
    rows = [
        ["2022-03-05", "南芬区", "南芬区文明办", f"南芬志愿{i}队", "创城", f"约{10 + i}", "10", "南芬区"]
        for i in range(before)
    ]
    rows.append(
        ["2022-03-05", "南芬区", "南芬区文明办", "南芬志愿9队", "创城", written.format(n=volunteers), "10", "南芬区"]
    )
    path = volunteer_csv(inbox / "南芬区" / "南芬区_志愿服务_2022-03.csv", rows=2, extra=rows)
    report = parse_file(path, inbox=inbox, limits=Limits(max_findings_per_rule=cap))
    validate_report(report)
    out_of_range = [f for f in report.findings if f.rule == "gx:expect_column_values_to_be_between"]
    assert report.rejected == (volunteers > 100_000)
    assert [(f.row, f.value) for f in out_of_range] == ([(5 + before, str(volunteers))] if volunteers > 100_000 else [])
    assert report.findings.counts()["warning"] == before + 1  # each approximate value, listed or counted


@given(
    cap=st.integers(1, 3),
    spoiled=st.lists(st.tuples(st.sampled_from(["上半月", "下半月"]), st.integers(0, 5)), max_size=8, unique=True),
)
def test_rows_beyond_the_cap_are_held_back_on_their_own_sheet(make_settings, cap, spoiled):
    """An export split over two sheets of one month is one load whose rows are named by sheet and row: a
    row counted beyond the cap is held back on its own sheet, not on the first sheet's row of that number."""
    from workbooks import write_workbook

    settings = dataclasses.replace(make_settings(), limits=Limits(max_findings_per_rule=cap))
    sheets = []
    for s, sheet in enumerate(["上半月", "下半月"]):
        kinds = ["no_time" if (sheet, i) in spoiled else None for i in range(6)]
        lines = spoiled_hotline_export(kinds).replace("MS21", f"MS2{s}").splitlines()
        sheets.append((sheet, [line.split(",") for line in lines], True))
    write_workbook(settings.inbox / FOLDER / "明山区_12345热线工单_2021-09.xlsx", sheets)

    (outcome,) = ingest(settings).values()

    held = query(
        settings, "SELECT source_sheet, source_row FROM stg_quarantined_row WHERE load_id = :i", i=outcome.load_id
    )
    loaded = query(
        settings, "SELECT source_sheet, source_row FROM fct_hotline_ticket WHERE load_id = :i", i=outcome.load_id
    )
    assert {(r["source_sheet"], r["source_row"]) for r in held} == {(sheet, i + 2) for sheet, i in spoiled}
    assert len(loaded) == 12 - len(spoiled) and outcome.errors == len(spoiled)


@given(
    streets=st.lists(st.sampled_from([None, "新街道", "老街道", "北地街道"]), min_size=1, max_size=12),
    cap=st.integers(1, 3),
    streamed=st.booleans(),
)
def test_unknown_streets_beyond_the_cap_are_counted_not_listed(make_settings, monkeypatch, streets, cap, streamed):
    """A street not in the district's reference is a warning on its cell, listed up to the cap and counted
    after it, its row loaded (an export dropped in another district's folder has one on every row)."""
    settings = dataclasses.replace(make_settings(), limits=Limits(max_findings_per_rule=cap))
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0 if streamed else 1 << 60)
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "CHUNK_ROWS", 4)
    lines = spoiled_hotline_export([None] * len(streets)).splitlines()
    for i, street in enumerate(streets, start=1):
        if street is not None:
            cells = lines[i].split(",")
            cells[3] = street
            lines[i] = ",".join(cells)
    path = settings.inbox / FOLDER / "明山区_12345热线工单_2021-09.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))

    (outcome,) = ingest(settings).values()

    unknown = [i + 2 for i, street in enumerate(streets) if street in ("新街道", "老街道")]
    assert (outcome.status, outcome.rows, outcome.warnings) == (
        "flagged" if unknown else "accepted",
        len(streets),
        len(unknown),
    )
    listed = query(
        settings,
        "SELECT row_number, message_zh FROM stg_finding WHERE load_id = :i AND rule = 'unknown_street'",
        i=outcome.load_id,
    )
    rows = [f["row_number"] for f in listed if f["row_number"] is not None]
    assert len(rows) == min(len(unknown), cap) and set(rows) <= set(unknown)
    assert all(f"街道「{streets[f['row_number'] - 2]}」" in f["message_zh"] for f in listed if f["row_number"])
    more = [f["message_zh"] for f in listed if f["row_number"] is None]
    assert more == (
        [
            f"另有 {len(unknown) - cap} 处同类问题（unknown_street）未逐条列出（每类最多列出 {cap} 处），请按上面列出的问题检查全表"
        ]
        if len(unknown) > cap
        else []
    )
