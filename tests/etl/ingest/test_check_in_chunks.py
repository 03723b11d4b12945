"""Large CSV exports read in chunks (etl/ingest/check.py `check_in_chunks`) give exactly what reading them whole gives: the same
findings in the same order, statuses, reasons, facts, quarantined rows and audit rows, on SQLite (spooled
facts) and PostgreSQL (COPY into the open load transaction). Small files are forced through the streaming
path with a tiny chunk size. Also: the vectorised date/time reading equals the per-value functions it
stands in for (the COPY text formatting: tests/etl/warehouse/test_copy_format.py), and the receipt of a very large file lists every finding without a
copy of the table. No timing assertions here: bench/run_bench.py measures."""

from __future__ import annotations

import random

import pandas as pd
from openpyxl import load_workbook
from warehouse_helpers import ingest, query
from workbooks import hotline_csv

import etl.ingest.pipeline
import etl.ingest.read.csv_chunks
from etl.contracts.base import Column
from etl.ingest.check import check_in_chunks
from etl.ingest.load.sinks import LiveCopy
from etl.ingest.parse.frames import datetime_objects
from etl.ingest.parse.values import ColumnConverter, ValueProblem, parse_date, parse_datetime
from etl.reference.places import default_places


def drop(settings, name: str, text: str):
    path = settings.inbox / "明山区" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def streaming(monkeypatch, on: bool, chunk_rows: int = 7):
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "STREAM_MIN_BYTES", 0 if on else 1 << 60)
    monkeypatch.setattr(etl.ingest.read.csv_chunks, "CHUNK_ROWS", chunk_rows)
    monkeypatch.setitem(LiveCopy.STREAM, "statement_rows", 3)  # PostgreSQL: several COPY statements a chunk


def load_snapshot(settings, load_id: int) -> dict:
    audit = query(
        settings,
        "SELECT report_type, district_code, period, sheet_name, rows_read, rows_loaded, status, "
        "reason_zh, reason_en, findings_critical, findings_error, findings_warning "
        "FROM stg_file_load WHERE load_id = :i",
        i=load_id,
    )
    findings = query(
        settings,
        "SELECT rule, severity, sheet_name, row_number, column_header, cell_ref, value_text, "
        "message_zh, message_en FROM stg_finding WHERE load_id = :i ORDER BY finding_id",
        i=load_id,
    )
    facts = query(settings, "SELECT * FROM fct_hotline_ticket WHERE load_id = :i ORDER BY source_row", i=load_id)
    quarantined = query(
        settings,
        "SELECT source_row, reason_zh, row_json FROM stg_quarantined_row WHERE load_id = :i ORDER BY source_row",
        i=load_id,
    )
    for fact in facts:
        del fact["load_id"], fact["source_sha256"]
    return {"audit": audit, "findings": findings, "facts": facts, "quarantined": quarantined}


def run_both(settings, monkeypatch, text: str, chunk_rows: int = 7):
    """The same content through the whole-file path, then (one trailing blank line more, so it is not a
    duplicate) through the streaming path; returns both outcomes and warehouse snapshots."""
    name = "明山区_12345热线工单_2021-09.csv"
    streaming(monkeypatch, False)
    drop(settings, name, text)
    whole = ingest(settings)
    streaming(monkeypatch, True, chunk_rows)
    drop(settings, name, text + "\r\n")  # the first file was filed away: the same name, other bytes
    streamed = ingest(settings)
    (a,), (b,) = whole.values(), streamed.values()
    return a, b, load_snapshot(settings, a.load_id), load_snapshot(settings, b.load_id)


def same_outcome(a, b):
    keep = ("status", "report_type", "district", "period", "rows", "critical", "errors", "warnings", "reason_zh")
    return {k: getattr(a, k) for k in keep} == {k: getattr(b, k) for k in keep}


def test_streamed_file_loads_exactly_what_the_whole_file_path_loads(settings, monkeypatch):
    a, b, whole, streamed = run_both(settings, monkeypatch, hotline_csv())
    assert a.status == "flagged" and a.errors > 0 and a.warnings > 0
    assert same_outcome(a, b)
    assert streamed == whole
    assert len(whole["quarantined"]) > 0 and len(whole["facts"]) == a.rows
    rules = {f["rule"] for f in whole["findings"]}
    assert {
        "value_format",
        "unknown_street",
        "gx:expect_column_values_to_be_in_set",
        "gx:expect_column_values_to_not_be_null",
        "gx:expect_column_pair_values_a_to_be_greater_than_b",
    } <= rules
    assert max(f["row_number"] for f in whole["findings"]) < 130  # nothing read after the footer


def test_duplicate_ticket_in_another_chunk_is_the_same_critical_finding(settings, monkeypatch):
    a, b, whole, streamed = run_both(settings, monkeypatch, hotline_csv(duplicate=True), chunk_rows=10)
    assert a.status == b.status == "rejected"
    assert same_outcome(a, b) and streamed == whole
    unique = [f for f in streamed["findings"] if f["rule"] == "gx:expect_column_values_to_be_unique"]
    assert [f["severity"] for f in unique] == ["critical", "critical"]
    assert unique[1]["row_number"] - unique[0]["row_number"] > 10  # rows of different chunks
    assert streamed["facts"] == [] and streamed["quarantined"] == []


def test_a_row_wider_than_the_head_sends_the_file_to_the_whole_file_path(settings, monkeypatch):
    a, b, whole, streamed = run_both(settings, monkeypatch, hotline_csv(wide_row_at=90))
    assert same_outcome(a, b) and streamed == whole


def as_datetime_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """The streamed 12345 chunks keep datetime64 columns (NaT for blanks); the whole-file path has
    datetime objects and None: the same values."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype.kind == "M":
            out[name] = datetime_objects(out[name])
    return out


def test_check_in_chunks_matches_parse_and_validate(tmp_path):
    from etl.ingest.parse.tables import parse_file
    from etl.ingest.validate.suite import validate_report

    inbox = tmp_path / "inbox"
    path = inbox / "明山区" / "明山区_12345_2021-09.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(hotline_csv(200).encode("gb18030"))
    whole = parse_file(path, inbox=inbox)
    validate_report(whole)
    encoding = etl.ingest.read.csv_chunks.text_encoding(path, min_bytes=0)
    assert encoding == "gb18030"
    report, sink, _outcome = check_in_chunks(path, inbox, encoding, chunk_rows=13)
    try:
        assert report.findings == whole.findings
        assert (report.period, report.district, report.rows_read) == (whole.period, whole.district, len(whole.frame))
        assert report.quarantined_rows == whole.quarantined_rows
        assert sink.count == len(whole.frame) - len(whole.quarantined_rows)
        held = whole.frame[whole.frame["_source_row"].isin({row for _, row in whole.quarantined_rows})].reset_index(
            drop=True
        )
        pd.testing.assert_frame_equal(as_datetime_objects(report.quarantine_frame().reset_index(drop=True)), held)
    finally:
        sink.close()


def test_only_large_text_tables_are_streamed(tmp_path):
    csv_path = tmp_path / "a.csv"
    csv_path.write_bytes(hotline_csv(20).encode("utf-8"))
    assert etl.ingest.read.csv_chunks.text_encoding(csv_path) is None  # below STREAM_MIN_BYTES
    assert etl.ingest.read.csv_chunks.text_encoding(csv_path, min_bytes=0) == "utf-8-sig"
    html = tmp_path / "b.xls"
    html.write_text("<html><table><tr><td>工单编号</td></tr></table></html>", encoding="utf-8")
    assert etl.ingest.read.csv_chunks.text_encoding(html, min_bytes=0) is None
    xlsx = tmp_path / "c.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert etl.ingest.read.csv_chunks.text_encoding(xlsx, min_bytes=0) is None


def test_receipt_of_a_very_large_file_lists_every_finding_without_a_copy(sqlite_settings, monkeypatch):
    monkeypatch.setattr(etl.ingest.pipeline, "RECEIPT_COPY_MAX_ROWS", 50)
    drop(sqlite_settings, "明山区_12345_2021-09.csv", hotline_csv())
    (outcome,) = ingest(sqlite_settings).values()
    workbook = load_workbook(sqlite_settings.shared_dir / outcome.receipt)
    assert workbook.sheetnames == ["处理结果"]
    sheet = workbook["处理结果"]
    assert "回执不附原表副本" in sheet["A10"].value
    listed = [row for row in sheet.iter_rows(min_row=12, values_only=True) if row[0] is not None]
    assert len(listed) == outcome.critical + outcome.errors + outcome.warnings


def test_vectorised_date_and_time_reading_equals_the_per_value_parsers():
    rng = random.Random(11)
    samples = [
        "2021-09-01 13:40:60",
        "2021-09-01 13:60:00",
        "0000-01-01 00:00:00",
        "2021-02-29",
        "2020-02-29",
        " 2021-09-01 10:00:00",
        "2021-09-01T10:00:00",
        "２０２１-09-01 10:00:00",
        "",
        "—",
        "2021年9月1日 10时05分",
    ]
    for _ in range(2000):
        sep = rng.choice("-/")
        text = f"{rng.choice(['2021', '1999', '0001', '9999', '1677'])}{sep}{rng.randint(0, 13):02d}{sep}{rng.randint(0, 32):02d}"
        if rng.random() < 0.4:
            text += f" {rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}:{rng.randint(0, 61):02d}"
        elif rng.random() < 0.5:
            text += f" {rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}"
        samples.append(text)
    raw = pd.Series(samples, dtype=object)
    converter = ColumnConverter(default_places(), default_year=2021)
    for kind, parse in (("datetime", parse_datetime), ("date", parse_date)):
        converted = converter.convert(Column("x", "x", kind), raw)
        for i, text in enumerate(samples):
            try:
                expected, problem = parse(text, 2021), None
            except ValueProblem as exc:
                expected, problem = None, exc.zh
            value = converted.values.iat[i]
            assert value == expected and type(value) is type(expected), (kind, text)
            assert (converted.problems[i].zh if i in converted.problems else None) == problem, (kind, text)
        assert list(converted.problems) == sorted(converted.problems)
