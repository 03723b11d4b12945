"""Data Docs work with no internet: every asset GX's templates load from a CDN is vendored and the pages we
write point at the local copies; in headless Chromium with the network cut, the index table has its rows."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import great_expectations
import pytest
from test_data_docs import failing_rows, index_link, parse_service_rows

from etl.ingest.validate.data_docs import DataDocs
from etl.ingest.validate.offline_docs import external_assets, manifest
from etl.ingest.validate.suite import validate_report

TEMPLATES = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def template_asset_urls() -> set[str]:
    urls = set()
    for name in ("index_page.j2", "page.j2", "js_script_imports.j2"):
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        urls |= set(re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(https?://[^"]+)"', text))
    return urls


def test_every_cdn_asset_of_gx_templates_is_vendored():
    """A GX upgrade that loads another URL fails here, not on an intranet."""
    found = template_asset_urls()
    assert len(found) >= 10
    assert found <= set(manifest()["urls"]), found - set(manifest()["urls"])


def written_site(tmp_path) -> DataDocs:
    docs = DataDocs(tmp_path / "shared")
    validate_report(parse_service_rows(tmp_path, failing_rows()), docs=docs)
    validate_report(parse_service_rows(tmp_path, failing_rows(), name="政务服务事项清单_更正.xlsx"), docs=docs)
    docs.refresh_index()
    return docs


def test_no_page_loads_anything_from_the_internet_and_every_local_asset_exists(tmp_path):
    docs = written_site(tmp_path)
    pages = sorted(docs.site_dir.rglob("*.html"))
    assert len(pages) >= 4  # index, suite, two validations
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert external_assets(text) == [], (page, external_assets(text))
        for reference in re.findall(r'(?:src|href)="([^"]*static/vendor/[^"]+)"', text):
            assert (page.parent / reference).resolve().is_file(), (page, reference)
        assert "integrity=" not in text
    docs.rebuild()  # every page rendered again: still offline
    assert all(external_assets(p.read_text(encoding="utf-8")) == [] for p in docs.site_dir.rglob("*.html"))


def dump_dom_offline(page: Path, profile: Path) -> subprocess.CompletedProcess:
    """The page's DOM after its scripts ran, in headless Chromium with every network request refused."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--proxy-server=127.0.0.1:9",  # a dead proxy: nothing leaves the machine
        "--proxy-bypass-list=<-loopback>",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    return subprocess.run([CHROMIUM, *flags], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed here (apt-get install chromium)")
def test_the_index_and_a_validation_page_render_in_chromium_with_the_network_off(tmp_path):
    docs = written_site(tmp_path)
    dom = dump_dom_offline(docs.index_page, tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rows = re.findall(r'<tr[^>]*data-index="\d+"[^>]*>', dom.stdout)
    assert len(rows) >= 3, dom.stdout[-3000:]  # two validations and the suite, filled in by bootstrap-table
    pages = sorted((docs.site_dir / "validations").rglob("*.html"))
    assert all(index_link(str(p.relative_to(docs.shared_dir))) in dom.stdout for p in pages)
    validation = dump_dom_offline(pages[0], tmp_path / "profile2")
    assert validation.returncode == 0 and "行政审查" in validation.stdout


def test_the_command_line_renders_the_index_again_and_with_rebuild_every_page(tmp_path, monkeypatch):
    """``python -m etl data-docs [--rebuild]``: a steward's way back to a whole site from the stored results."""
    from etl.__main__ import main

    docs = written_site(tmp_path)
    pages = sorted(p.relative_to(docs.site_dir) for p in docs.site_dir.rglob("*.html"))
    validation = next(p for p in pages if p.parts[0] == "validations")
    (docs.site_dir / validation).unlink()
    docs.index_page.unlink()
    monkeypatch.setenv("SHARED_DIR", str(tmp_path / "shared"))

    assert main(["data-docs"]) == 0
    assert docs.index_page.is_file() and not (docs.site_dir / validation).exists()  # the index alone
    assert main(["data-docs", "--rebuild"]) == 0
    assert sorted(p.relative_to(docs.site_dir) for p in docs.site_dir.rglob("*.html")) == pages
    assert all(external_assets(p.read_text(encoding="utf-8")) == [] for p in docs.site_dir.rglob("*.html"))
