"""gx/ and data_docs/ lie in the shared folder, which clerks can write into: whatever link, file or folder
someone leaves there, Great Expectations reads and writes nothing outside the shared folder, loads no
code or template from it, and keeps its pages."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_data_docs import failing_rows, parse_service_rows

from etl.ingest.validate.data_docs import DataDocs
from etl.ingest.validate.suite import validate_report

SECRET = "OUTSIDE-SECRET-7361"


def outside_tree(tmp_path: Path) -> Path:
    """A folder beyond the share that a link may point into: a file and a folder holding one."""
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.json").write_text(f'{{"success": true, "note": "{SECRET}"}}', encoding="utf-8")
    (outside / "folder" / "secret.html").write_text(f"<p>{SECRET}</p>", encoding="utf-8")
    return outside


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


def site_with_two_pages(tmp_path: Path) -> DataDocs:
    docs = DataDocs(tmp_path / "shared")
    validate_report(parse_service_rows(tmp_path, failing_rows()), docs=docs)
    validate_report(parse_service_rows(tmp_path, failing_rows(), name="明山区_政务服务事项清单_更正.xlsx"), docs=docs)
    docs.refresh_index()
    return docs


def entries(docs: DataDocs) -> list[str]:
    shared = Path(docs.shared_dir)
    found = [p for top in ("gx", "data_docs") for p in (shared / top, *(shared / top).rglob("*"))]
    return sorted(str(p.relative_to(shared)) for p in found if ".data_docs.lock" not in p.name)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_links_left_in_gx_or_data_docs_are_never_followed(tmp_path_factory, data):
    tmp_path = tmp_path_factory.mktemp("share")
    docs = site_with_two_pages(tmp_path)
    links_left_and_pages_kept(
        tmp_path, docs, data.draw(st.lists(st.sampled_from(entries(docs)), min_size=1, max_size=3, unique=True))
    )


def test_a_link_where_a_suite_is_stored_is_replaced_while_the_site_is_a_link_too(tmp_path):
    """A draw of the test above that once failed: the stored suite JSON a link, the whole site folder a link
    — GX's add_or_update found the suite "existing" but unreadable and wrote no page."""
    docs = site_with_two_pages(tmp_path)
    chosen = ["gx/expectations/service_items.json", "data_docs", "data_docs/local_site/static/vendor/vega-lite-5.23.0"]
    links_left_and_pages_kept(tmp_path, docs, chosen)


def links_left_and_pages_kept(tmp_path: Path, docs: DataDocs, chosen: list[str]) -> None:
    """Each of ``chosen`` (entries of gx/ and data_docs/) replaced by a link out of the share; then a file of
    the same name validated again and the site rebuilt: nothing outside is read or written, the page is there."""
    outside = outside_tree(tmp_path)
    before = snapshot(outside)
    for relative in sorted(chosen, key=len, reverse=True):  # deepest first: a chosen folder may hold another
        place = Path(docs.shared_dir) / relative
        if not place.exists() and not place.is_symlink():
            continue
        target = outside / ("folder" if place.is_dir() and not place.is_symlink() else "secret.json")
        shutil.rmtree(place) if place.is_dir() and not place.is_symlink() else place.unlink()
        place.symlink_to(target, target_is_directory=target.is_dir())

    same_name = validate_report(parse_service_rows(tmp_path, failing_rows()), docs=docs)
    docs.refresh_index()
    docs.rebuild()

    assert snapshot(outside) == before, chosen  # nothing written outside the share
    assert same_name.docs_page and (Path(docs.shared_dir) / same_name.docs_page).is_file()
    pages = list(docs.site_dir.rglob("*.html"))
    assert all(SECRET not in p.read_text(encoding="utf-8") for p in pages if not p.is_symlink()), chosen
    assert all(".." not in Path(p).parts for p in pages)


def test_the_gx_project_in_the_share_is_never_read_for_configuration_code_or_templates(tmp_path):
    """What a clerk leaves in gx/ before the pipeline first uses it — a great_expectations.yml whose stores
    lie elsewhere, a module in gx/plugins/ (GX puts the plugins folder on sys.path) and custom Data Docs
    styles and views — is all ignored."""
    from etl.ingest.validate.data_docs import project_config

    outside = outside_tree(tmp_path)
    before = snapshot(outside)
    docs = DataDocs(tmp_path / "shared")
    gx_dir = docs.gx_dir
    plugins = gx_dir / "plugins"
    (plugins / "custom_data_docs" / "styles").mkdir(parents=True)
    (plugins / "custom_data_docs" / "views").mkdir(parents=True)
    yml = gx_dir / "great_expectations.yml"
    tampered = project_config(gx_dir).to_yaml_str().replace("uncommitted/validations/", f"{outside}/folder/")
    tampered = re.sub(r"(?m)^plugins_directory:.*$", "plugins_directory: plugins/", tampered)
    assert str(outside) in tampered and "plugins_directory: plugins/" in tampered
    yml.write_text(tampered, encoding="utf-8")
    (plugins / "custom_data_docs" / "styles" / "data_docs_custom_styles.css").write_text(
        f"body::after {{ content: '{SECRET}' }}", encoding="utf-8"
    )
    (plugins / "custom_data_docs" / "views" / "page.j2").write_text(f"<script>{SECRET}</script>", encoding="utf-8")
    (plugins / "district_planted_module.py").write_text("RAN = True\n", encoding="utf-8")

    outcome = validate_report(parse_service_rows(tmp_path, failing_rows()), docs=docs)
    docs.refresh_index()
    docs.rebuild()

    assert snapshot(outside) == before
    assert outcome.docs_page and (Path(docs.shared_dir) / outcome.docs_page).is_file()
    assert list((gx_dir / "uncommitted" / "validations").rglob("*.json"))  # the result is kept in the share
    assert all(SECRET not in p.read_text(encoding="utf-8") for p in docs.site_dir.rglob("*.html"))
    assert all(SECRET not in p.read_text(encoding="utf-8") for p in docs.site_dir.rglob("*.css"))
    assert not any(str(plugins) in entry for entry in sys.path)
    assert "district_planted_module" not in sys.modules
