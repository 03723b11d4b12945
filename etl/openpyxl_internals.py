"""Every use of openpyxl's internals, in one place, behind one version guard: where a save's scratch files go.

openpyxl 3.1 writes each worksheet of a workbook it saves to a temporary file
(``openpyxl.worksheet._writer.create_temporary_file``, in the system's temporary folder) before zipping
it. We make that function put them in the folder the calling thread named (``scratch_files_in``), so a
receipt or a review pack is saved without writing outside SHARED_DIR, and nothing else this process does
meanwhile — another thread's temporary file, a library's — is moved or swept with them. A thread that
named no folder (a test, the demo generator) gets openpyxl's own behaviour.

On another openpyxl version the function may have moved or changed: there the process's
``tempfile.tempdir`` is pointed at the folder for the save instead, one save at a time (every temporary
file the process makes meanwhile goes there too) and a warning is logged once.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger(__name__)

TESTED_OPENPYXL = "3.1"
_SCRATCH: ContextVar[str | None] = ContextVar("openpyxl_scratch", default=None)
_FALLBACK_LOCK = threading.Lock()
_warned = False


def tested_writer():
    """openpyxl's worksheet writer if it is the version this was tested against, else None."""
    import openpyxl
    from openpyxl.worksheet import _writer

    version = ".".join(openpyxl.__version__.split(".")[:2])
    if version == TESTED_OPENPYXL and callable(getattr(_writer, "create_temporary_file", None)):
        return _writer
    return None


def _install() -> bool:
    """Route openpyxl's worksheet scratch files through ``_SCRATCH`` (once per process)."""
    writer = tested_writer()
    if writer is None:
        return False
    original = writer.create_temporary_file
    if getattr(original, "_routed", False):
        return True

    def create_temporary_file(suffix=""):
        folder = _SCRATCH.get()
        if folder is None:
            return original(suffix)
        handle, filename = tempfile.mkstemp(suffix=suffix, prefix="openpyxl.", dir=folder)
        os.close(handle)
        writer.ALL_TEMP_FILES.append(filename)  # as openpyxl's own: removed by the writer's cleanup
        return filename

    create_temporary_file._routed = True
    writer.create_temporary_file = create_temporary_file
    return True


@contextmanager
def scratch_files_in(folder: str) -> Iterator[None]:
    """openpyxl's scratch files for saves made by this thread within the block go in ``folder``."""
    global _warned
    if _install():
        token = _SCRATCH.set(folder)
        try:
            yield
        finally:
            _SCRATCH.reset(token)
        return
    if not _warned:
        _warned = True
        log.warning("openpyxl is not %s: its scratch files are moved by tempfile.tempdir", TESTED_OPENPYXL)
    with _FALLBACK_LOCK:
        previous, tempfile.tempdir = tempfile.tempdir, folder
        try:
            yield
        finally:
            tempfile.tempdir = previous
