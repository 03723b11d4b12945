"""Keep every Great Expectations validation result and publish it as Data Docs a steward can browse.

Where things land under the shared folder (``Settings.shared_dir``):

``gx/``
    the stores of the pipeline's GX context (configured in code, ``project_config``: no
    great_expectations.yml is read or written): ``expectations/`` (a copy of each suite under the repo's
    ``expectations/`` as it was at its last validation) and ``uncommitted/validations/`` (every validation
    result as JSON, never deleted by the pipeline).
``data_docs/local_site/index.html``
    the steward's entry point: the validations (newest first, up to ``index_limit``) and the suites.
``data_docs/local_site/validations/<suite>/<district>_<file name>/<UTC time>/<batch>.html``
    one page per validated file.

Each validation stores its result and re-renders only its own page (plus its suite's page when the suite
JSON changed) and, unless ``index=False``, the index; ``DataDocs.rebuild()`` re-renders everything on
demand (~50 ms a page). The ingest renders the index once per run (``refresh_index`` from the run summary)
instead of once per file. The index lists the newest ``index_limit`` validations (older pages stay where
they are and are still linked from the warehouse) and takes each row from a small cache
(``gx/uncommitted/data_docs_index_cache.json``) instead of deserialising every stored result as GX would
(~10 ms each for a 2,000-row failure). What still grows with the history is GX listing the stored keys
(~0.6 ms per stored result per index).

Several Airflow tasks may validate at the same time in separate processes (or hosts sharing the folder).
Scaffolding gx/, storing the suite and building pages and index happen under an exclusive ``flock`` on
``gx/.data_docs.lock`` (and a thread lock within one process); only the serialisation of the result into
its own new file runs outside it, as nothing reads that file before its page exists.

GX is imported inside functions: its import alone costs seconds and DAG parsing must stay fast.
"""

from __future__ import annotations

import copy
import datetime as dt
import fcntl
import hashlib
import html
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from etl.config import DATA_DOCS, GX_STORE
from etl.ingest.findings import storable
from etl.ingest.validate import gx_internals
from etl.ingest.validate.offline_docs import rewrite_pages
from etl.shared_paths import read_no_follow, real_folder, write_new

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult

log = logging.getLogger(__name__)

GX_DIR = GX_STORE  # inside SHARED_DIR (etl.config)
DOCS_DIR = DATA_DOCS
SITE_NAME = "local_site"
LOCK_FILE = ".data_docs.lock"
INDEX_CACHE = "uncommitted/data_docs_index_cache.json"  # index row per stored result
SUITE_DIGESTS = "uncommitted/suite_digests.json"  # sha256 of each suite JSON last stored in gx/expectations
DATAFRAME_PLACEHOLDER = "<DATAFRAME>"

# The site (``project_config`` puts its base directory, data_docs/local_site/ beside gx/, as an absolute
# path). Profiling pages are off (we never profile) and every run name is a validation: GX's default
# filter would hide a file named "…profiling…".
SITE_CONFIG: dict[str, Any] = {
    "class_name": "SiteBuilder",
    "show_how_to_buttons": False,
    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": f"../{DOCS_DIR}/{SITE_NAME}/"},
    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    "site_section_builders": {"profiling": "None", "validations": {"run_name_filter": {"matches_regex": "."}}},
}

_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')  # not allowed in a Windows/SMB file name
_THREAD_LOCK = threading.Lock()


def safe_run_name(text: str, limit: int = 120) -> str:
    """A run name usable as one folder name on the share (also when browsed from Windows): at most
    ``limit`` UTF-8 bytes, nothing a page could read as markup."""
    name = _UNSAFE_NAME.sub("_", storable(text)).strip(" .")
    name = name.encode("utf-8")[:limit].decode("utf-8", errors="ignore").strip(" .")
    return name or "unnamed"


def escaped_result(result):
    """A copy of a validation result whose clerk values (unexpected values and rows, observed values,
    exception messages) are HTML-escaped: GX's renderer puts them into the page as they are, so a cell
    holding ``<img src=x onerror=…>`` would run when a steward opens the page. GX escapes the
    expectations' own parameters itself; those are left alone."""
    copied = copy.deepcopy(result)
    for item in copied.results:
        if item.result:
            item.result = _escape_tree(item.result)
        if item.exception_info:
            item.exception_info = _escape_tree(item.exception_info)
    return copied


def _escape_tree(value):
    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, dict):
        return {_escape_tree(k) if isinstance(k, str) else k: _escape_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_escape_tree(v) for v in value)
    return value


@dataclass(frozen=True)
class DataDocs:
    """Persist validation results and (re)build the Data Docs site under ``shared_dir``."""

    shared_dir: Path
    run_id: str | None = None  # the Airflow run, shown on each page with the file's details
    index_limit: int | None = 300  # validations listed in index.html, newest first (None: all)
    lock_timeout: float = 300.0  # seconds to wait for another process's build before giving up
    # whether ``record`` rebuilds index.html too; the ingest leaves it to the end of the run
    # (``refresh_index``): listing the stored results grows with the history, and every file's task would
    # wait for the others' under the lock to list them again
    index: bool = True

    @classmethod
    def from_settings(cls, settings, run_id: str | None = None, index: bool = True) -> DataDocs:
        return cls(Path(settings.shared_dir), run_id, index=index)

    @property
    def gx_dir(self) -> Path:
        return Path(self.shared_dir) / GX_DIR

    @property
    def site_dir(self) -> Path:
        return Path(self.shared_dir) / DOCS_DIR / SITE_NAME

    @property
    def index_page(self) -> Path:
        return self.site_dir / "index.html"

    def relative(self, path: Path) -> str:
        """``path`` relative to the shared folder, with forward slashes (as stored in the warehouse)."""
        return Path(os.path.normpath(path)).relative_to(os.path.normpath(self.shared_dir)).as_posix()

    def record(
        self,
        result: ExpectationSuiteValidationResult,
        suite: dict,
        run_name: str,
        *,
        run_time: dt.datetime | None = None,
        details: dict | None = None,
    ) -> str:
        """Store ``result`` (validated with the suite JSON ``suite``) and render its page and the index.

        ``run_name`` says which file this was (made safe as a folder name); ``run_time`` defaults to now
        (UTC); ``details`` (file, district, period…) are shown on the page under "Batch Parameters".
        ``result.meta`` gains ``run_id``, ``validation_time``, ``batch_parameters`` and ``batch_kwargs`` (the
        asset name the page header shows). Returns the page's path relative to the shared folder (the
        index's if GX did not render the page). Raises ``TimeoutError`` when the lock stays taken.
        """
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        result = escaped_result(result)  # before it is stored: pages rebuilt later are safe too
        run_time = (run_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        run_id = RunIdentifier(run_name=safe_run_name(run_name), run_time=run_time)
        result.meta["run_id"] = run_id
        result.meta["validation_time"] = run_time
        result.meta["batch_parameters"] = {
            "dataframe": DATAFRAME_PLACEHOLDER,
            **(details or {}),
            **({"airflow_run_id": self.run_id} if self.run_id else {}),
        }
        asset = (result.meta.get("active_batch_definition") or {}).get("data_asset_name")
        if asset and not result.meta.get("batch_kwargs"):
            result.meta["batch_kwargs"] = {"data_asset_name": asset}  # else the page header says "Data asset: None"
        suite_key = ExpectationSuiteIdentifier(name=suite["name"])
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_key, run_id=run_id, batch_identifier=_batch_identifier(result)
        )
        with self._lock():
            context, builder = _site(str(self.gx_dir), self.index_limit)  # may scaffold gx/ (first call)
        # A new key is a new file that nobody else reads before its page exists: no lock while serialising.
        context.validation_results_store.set(key, result)
        with self._lock():
            suite_written = not self._suite_current(context, suite)
            builder.build(resource_identifiers=[key, suite_key] if suite_written else [key], build_index=self.index)
            url = builder.get_resource_url(resource_identifier=key, only_if_exists=True)
            page = _url_path(url) if url else None
            rewrite_pages(
                self.site_dir,
                [
                    *([page] if page else []),
                    *([self.site_dir / "expectations" / f"{suite['name']}.html"] if suite_written else []),
                    *([self.index_page] if self.index else []),
                ],
            )
        return self.relative(page) if page else self.relative(self.index_page)

    def _suite_current(self, context, suite: dict) -> bool:
        """Whether gx/ already holds this suite JSON and its page; if not, store it (under the lock)."""
        import great_expectations as gx

        digest = hashlib.sha256(json.dumps(suite, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        marker = self.gx_dir / SUITE_DIGESTS
        try:
            digests = json.loads(read_no_follow(marker) or b"{}")
        except ValueError:
            digests = {}
        page = self.site_dir / "expectations" / f"{suite['name']}.html"
        stored = self.gx_dir / "expectations" / f"{suite['name']}.json"
        regular = stored.is_file() and not stored.is_symlink()
        if digests.get(suite["name"]) == digest and page.exists() and regular:
            return True
        if not regular and (stored.is_symlink() or stored.exists()):  # a link or folder left where it goes:
            shutil.rmtree(stored) if stored.is_dir() and not stored.is_symlink() else stored.unlink()  # not followed
        context.suites.add_or_update(gx.ExpectationSuite(**copy.deepcopy(suite)))
        digests[suite["name"]] = digest
        _write_json(marker, digests, Path(self.shared_dir))
        return False

    def refresh_index(self) -> str:
        """Render index.html again (the newest ``index_limit`` validations). Returns its path."""
        with self._lock():
            _, builder = _site(str(self.gx_dir), self.index_limit)
            builder.site_index_builder.build()
            rewrite_pages(self.site_dir, [self.index_page])
        return self.relative(self.index_page)

    def rebuild(self) -> str:
        """Render every stored result and suite again (slow: ~50 ms a page). Returns the index's path."""
        with self._lock():
            _, builder = _site(str(self.gx_dir), None)
            builder.build()
            rewrite_pages(self.site_dir, self.site_dir.rglob("*.html"))
        return self.relative(self.index_page)

    @contextmanager
    def _lock(self):
        """Exclusive across threads and processes (flock on a file in gx/; works on local disks and NFS)."""
        Path(self.shared_dir).mkdir(parents=True, exist_ok=True)  # the share itself is the operator's
        for folder in _folders(self.gx_dir):  # a link left where one of them goes is moved aside, each time
            real_folder(folder, Path(self.shared_dir))
        deadline = time.monotonic() + self.lock_timeout
        if not _THREAD_LOCK.acquire(timeout=self.lock_timeout):
            raise TimeoutError(f"Data Docs busy in this process for {self.lock_timeout:.0f} s")
        try:
            with _lock_file(self.gx_dir / LOCK_FILE) as handle:
                while True:
                    try:
                        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise TimeoutError(
                                f"{self.gx_dir / LOCK_FILE} held by another process for {self.lock_timeout:.0f} s"
                            ) from None
                        time.sleep(0.05)
                try:
                    yield
                finally:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            _THREAD_LOCK.release()


def _lock_file(path: Path):
    """The lock file, opened without following a link left at its name (such a link is removed)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError:
        if not path.is_symlink():
            raise
        path.unlink()
        fd = os.open(path, flags, 0o644)
    return os.fdopen(fd, "r+b")


def _batch_identifier(result) -> str:
    """The batch id GX gave the validated DataFrame (its page's file name), e.g. district_files-parsed_report."""
    for item in result.results:
        batch_id = (item.expectation_config.kwargs or {}).get("batch_id") if item.expectation_config else None
        if batch_id:
            return safe_run_name(str(batch_id))
    definition = result.meta.get("active_batch_definition") or {}
    return safe_run_name(
        "-".join(filter(None, (definition.get("datasource_name"), definition.get("data_asset_name")))) or "batch"
    )


def _write_json(path: Path, data: dict, root: Path) -> None:
    """Replace ``path`` (below ``root``) atomically (readers never see half a file), through no link."""
    write_new(path, root, json.dumps(data, ensure_ascii=False).encode("utf-8"))


def _url_path(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


@lru_cache(maxsize=4)
def _site(gx_dir: str, index_limit: int | None):
    """The pipeline's GX context, whose stores are files under ``gx_dir``, and its site builder, once per
    process (the builder keeps its Jinja templates compiled). Called under the lock.

    gx/ and data_docs/ lie in the shared folder, which clerks can write into, so nothing of the context is
    read from there: it is an ephemeral context configured by ``project_config`` (a file-mode one would read
    gx/great_expectations.yml and uncommitted/config_variables.yml, put gx/plugins/ on ``sys.path`` and take
    Data Docs templates and styles from gx/plugins/custom_data_docs/), the folders its stores are rooted in
    are made real before each use (``DataDocs._lock``), and its file stores never follow a link
    (``gx_internals.SharedFolderStoreBackend``)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.render.renderer.site_builder import SiteBuilder

    root = Path(gx_dir)
    project = project_config(root)
    context = gx.get_context(project_config=project, mode="ephemeral")  # its stores are files; no project file
    config = {k: v for k, v in copy.deepcopy(project.data_docs_sites[SITE_NAME]).items() if k != "class_name"}
    index_builder = gx_internals.index_builder_config(index_limit)
    if index_builder is not None:
        config["site_index_builder"] = index_builder
    builder = SiteBuilder(
        data_context=context,
        site_name=SITE_NAME,
        runtime_environment={"root_directory": context.root_directory},
        **config,
    )
    if index_builder is not None:
        builder.site_index_builder.cache_path = Path(gx_dir) / INDEX_CACHE
    gx_internals.copy_static_assets_when_changed(builder, _site_dir(root) / "static")
    return context, builder


def _site_dir(gx_dir: Path) -> Path:
    return gx_dir.parent / DOCS_DIR / SITE_NAME


def _folders(gx_dir: Path) -> tuple[Path, ...]:
    """The folders GX's stores and the site are rooted in (what lies below them, its stores check)."""
    site = _site_dir(gx_dir)
    return (gx_dir / "expectations", gx_dir / "uncommitted" / "validations", site / "static", site / "validations")


def project_config(gx_dir: Path):
    """The GX project behind Data Docs, in code: GX's file stores under ``gx_dir`` and the site under
    data_docs/ (absolute paths: ``gx_dir/..`` must not go through a link), no plugins, no config variables."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = FilesystemStoreBackendDefaults(root_directory=str(gx_dir))
    backend = gx_internals.store_backend_config()
    for store in defaults.stores.values():
        store["store_backend"].update(backend)
    site = copy.deepcopy(SITE_CONFIG)
    site["store_backend"] = {**site["store_backend"], "base_directory": f"{_site_dir(gx_dir)}/", **backend}
    return DataContextConfig(
        store_backend_defaults=defaults,
        data_docs_sites={SITE_NAME: site},
        plugins_directory=None,
        config_variables_file_path=None,
        analytics_enabled=False,
        data_context_id=uuid.uuid5(uuid.NAMESPACE_URL, gx_dir.as_uri()),  # the same in every process
        progress_bars=ProgressBarsConfig(globally=False),
    )
