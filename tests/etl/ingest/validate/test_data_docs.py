"""Every validation kept in the shared folder's GX store, with a Data Docs page a steward can open."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path
from urllib.parse import quote

from workbooks import SERVICE_HEADER, service_item, write_xlsx

from etl.ingest.parse.tables import parse_file
from etl.ingest.validate.data_docs import DataDocs, safe_run_name
from etl.ingest.validate.suite import validate_report

SITE = "data_docs/local_site/"


def parse_service_rows(tmp_path, rows, name="明山区_政务服务事项清单_2021Q4.xlsx"):
    inbox = tmp_path / "inbox"
    path = write_xlsx(inbox / "明山区" / name, [SERVICE_HEADER, *rows], title="明山区政务服务事项清单")
    return parse_file(path, inbox=inbox)


def failing_rows():
    return [service_item("112105040001"), service_item("112105040002", item_type="行政审查")]  # E4 not in set


def index_link(docs_page: str) -> str:
    return quote(docs_page.removeprefix(SITE))


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_each_validation_gets_its_page_and_both_are_in_the_index(tmp_path):
    docs = DataDocs(tmp_path / "shared", run_id="manual__2022-01-05T08:00:00+00:00")
    report = parse_service_rows(tmp_path, failing_rows())
    outcome = validate_report(report, docs=docs)

    assert not outcome.success
    assert [f.cell for f in report.findings] == ["E4"]  # findings as without docs
    assert outcome.docs_page.startswith(f"{SITE}validations/service_items/明山区_政务服务事项清单_2021Q4.xlsx/")
    page = docs.shared_dir / outcome.docs_page
    html = page.read_text(encoding="utf-8")
    assert "service_items" in html and "item_type" in html and "行政审查" in html
    assert docs.index_page.is_file()
    stored = list((docs.gx_dir / "uncommitted" / "validations" / "service_items").rglob("*.json"))
    assert len(stored) == 1
    kept = json.loads(stored[0].read_text(encoding="utf-8"))
    assert kept["meta"]["run_id"]["run_name"] == "明山区_政务服务事项清单_2021Q4.xlsx"
    assert kept["meta"]["batch_parameters"]["file"] == "明山区_政务服务事项清单_2021Q4.xlsx"
    assert kept["meta"]["batch_parameters"]["airflow_run_id"] == "manual__2022-01-05T08:00:00+00:00"
    assert "行政审查" in json.dumps(kept, ensure_ascii=False)
    assert (docs.site_dir / "expectations" / "service_items.html").is_file()

    other = parse_service_rows(tmp_path, failing_rows(), name="政务服务事项清单_更正.xlsx")
    second = validate_report(other, docs=docs)
    assert second.docs_page != outcome.docs_page
    assert "/明山区_政务服务事项清单_更正.xlsx/" in second.docs_page  # district added to a name without it
    assert (docs.shared_dir / second.docs_page).is_file() and page.is_file()
    assert len(list(docs.site_dir.joinpath("validations").rglob("*.html"))) == 2
    index = docs.index_page.read_text(encoding="utf-8")
    assert index_link(outcome.docs_page) in index and index_link(second.docs_page) in index


def test_without_docs_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = parse_service_rows(tmp_path, failing_rows())
    before = files_under(tmp_path)
    outcome = validate_report(report)
    assert outcome.docs_page is None and not outcome.success
    assert files_under(tmp_path) == before


def test_a_docs_failure_does_not_change_the_outcome(tmp_path, caplog):
    shared = tmp_path / "shared"
    (shared / "gx" / ".data_docs.lock").mkdir(parents=True)  # the lock cannot be taken
    report = parse_service_rows(tmp_path, failing_rows())
    outcome = validate_report(report, docs=DataDocs(shared))
    assert outcome.docs_page is None and not outcome.success
    assert [f.cell for f in report.findings] == ["E4"]
    assert "Data Docs not updated" in caplog.text


def _validate_in_child(tmp_path: Path, name: str, queue) -> None:
    report = parse_service_rows(tmp_path / name, failing_rows(), name=name)
    queue.put(validate_report(report, docs=DataDocs(tmp_path / "shared")).docs_page)


def test_processes_validating_at_once_all_get_their_page_in_one_index(tmp_path):
    """Airflow runs one process per file: they share gx/ and data_docs/ under the lock."""
    validate_report(parse_service_rows(tmp_path, failing_rows()), docs=DataDocs(tmp_path / "shared"))
    fork = multiprocessing.get_context("fork")
    queue = fork.Queue()
    names = [f"明山区_政务服务事项清单_{i}.xlsx" for i in range(3)]
    children = [fork.Process(target=_validate_in_child, args=(tmp_path, n, queue)) for n in names]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    pages = [queue.get(timeout=5) for _ in names]
    assert all(p and (tmp_path / "shared" / p).is_file() for p in pages)
    index = DataDocs(tmp_path / "shared").index_page.read_text(encoding="utf-8")
    assert all(index_link(p) in index for p in pages)
    assert len(list((tmp_path / "shared" / SITE / "validations").rglob("*.html"))) == 4


def static_files(site_dir: Path) -> dict[Path, tuple[int, int, int]]:
    return {p: (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns) for p in files_under(site_dir / "static")}


def test_static_files_are_copied_once_and_again_only_when_missing_or_changed(tmp_path):
    """GX copies its 4 MB of fonts, images and styles with every page, and each page checked the vendored
    files by hashing them: now a page leaves untouched static files alone, and puts back what is gone."""
    import hashlib

    import great_expectations

    from etl.ingest.validate.offline_docs import ASSETS, manifest

    docs = DataDocs(tmp_path / "shared")
    validate_report(parse_service_rows(tmp_path, failing_rows()), docs=docs)
    before = static_files(docs.site_dir)
    gx_static = Path(great_expectations.__file__).parent / "render" / "view" / "static"
    assert len(before) >= 20 + len(manifest()["files"])
    time.sleep(0.05)  # a rewrite now would show in the mtimes

    validate_report(parse_service_rows(tmp_path, failing_rows(), name="明山区_政务服务事项清单_更正.xlsx"), docs=docs)
    assert static_files(docs.site_dir) == before  # nothing written again

    styles = docs.site_dir / "static" / "styles" / "data_docs_default_styles.css"
    styles.write_text("body { display: none }", encoding="utf-8")
    logo = docs.site_dir / "static" / "images" / "logo-long.png"
    logo.unlink()
    vendored = next(iter(manifest()["files"]))
    (docs.site_dir / "static" / "vendor" / vendored).write_bytes(b"alert(1)")
    validate_report(parse_service_rows(tmp_path, failing_rows(), name="明山区_政务服务事项清单_3.xlsx"), docs=docs)
    assert styles.read_bytes() == (gx_static / "styles" / "data_docs_default_styles.css").read_bytes()
    assert logo.read_bytes() == (gx_static / "images" / "logo-long.png").read_bytes()
    restored = (docs.site_dir / "static" / "vendor" / vendored).read_bytes()
    assert restored == (ASSETS / "vendor" / vendored).read_bytes()
    assert hashlib.sha256(restored).hexdigest() == manifest()["files"][vendored]


def test_run_names_are_safe_folder_names():
    assert safe_run_name('明山区/报表:"v2"?.xlsx') == "明山区_报表_v2_.xlsx"
    assert safe_run_name(" ..") == "unnamed"


def test_the_ingest_writes_each_file_its_page_and_the_index_once_per_run(sqlite_settings):
    """Each file's task renders its own page; the run's summary renders index.html once, listing them all."""
    from conftest import drop_samples
    from warehouse_helpers import ingest

    from etl.ingest.pipeline import log_summary

    drop_samples(sqlite_settings.inbox)
    outcomes = ingest(sqlite_settings)
    pages = [o.docs_page for o in outcomes.values()]
    assert len(pages) == 3 and all(p and (sqlite_settings.shared_dir / p).is_file() for p in pages)
    docs = DataDocs.from_settings(sqlite_settings)
    assert not docs.index_page.exists()  # not rendered once per file

    log_summary([o.as_dict() for o in outcomes.values()], settings=sqlite_settings)
    index = docs.index_page.read_text(encoding="utf-8")
    assert all(index_link(p) in index for p in pages)

    docs.index_page.unlink()
    log_summary(
        [{**o.as_dict(), "status": "duplicate", "docs_page": None} for o in outcomes.values()], settings=sqlite_settings
    )
    assert not docs.index_page.exists()  # a run of duplicates validated nothing: nothing to list
