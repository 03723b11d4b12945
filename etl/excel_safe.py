"""Values that look like formulas are written as text in every workbook and CSV we produce, and every
workbook we produce is saved without writing outside the folder it goes to.

A clerk's cell "=HYPERLINK(…)" or "+86 138…" must never become a live formula in a receipt, a review
pack or an export a leader opens (CSV/formula injection, OWASP).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

# and their full-width forms: an IME types ＝ for =, and Excel in Chinese reads a cell so typed as a formula once edited
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# control characters a workbook cannot hold (openpyxl refuses them: ILLEGAL_CHARACTERS_RE), and lone
# surrogates: shown as U+FFFD
_NOT_IN_WORKBOOKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def set_cell(cell, value: object):
    """Assign a value to an openpyxl cell; text stays text even when it starts with = + - @, and characters a
    workbook cannot hold are replaced. Returns the cell."""
    if isinstance(value, str):
        value = _NOT_IN_WORKBOOKS.sub("\ufffd", value)
    cell.value = value
    if looks_like_formula(value):
        cell.data_type = "s"  # openpyxl marks "=…" as a formula on assignment; force a string
        cell.quotePrefix = True  # and Excel shows it with a leading apostrophe, as typed text
    return cell


def csv_safe(value: object) -> object:
    """A CSV field that spreadsheet programs will not evaluate: a leading apostrophe neutralises it."""
    return f"'{value}" if looks_like_formula(value) else value


SCRATCH_PREFIX = ".writing-"
STALE_SCRATCH_SECONDS = 3600  # a save takes seconds: an older scratch folder is a killed process's


def _sweep_stale_scratch(folder: Path) -> None:
    """Scratch folders a killed process left in ``folder`` (real folders only: a link is left alone)."""
    now = time.time()
    for entry in os.scandir(folder):
        if entry.name.startswith(SCRATCH_PREFIX) and entry.is_dir(follow_symlinks=False):
            if now - entry.stat(follow_symlinks=False).st_mtime > STALE_SCRATCH_SECONDS:
                shutil.rmtree(entry.path, ignore_errors=True)


def write_workbook(workbook, target: Path, root: Path | None = None) -> Path:
    """``workbook`` saved as ``target`` (a receipt, a template) below ``root`` (default: ``target``'s folder,
    one the operator named): into a new file in the pinned folder, moved into place, so that nobody opens
    half a workbook and nothing a clerk planted there — a link, a FIFO, a folder of the scratch name — is
    followed or waited on (etl.shared_paths.write_new). Returns ``target``."""
    from etl.shared_paths import pinned_folder, write_new

    if root is None:
        target.parent.mkdir(parents=True, exist_ok=True)
    with pinned_folder(target.parent, root or target.parent) as folder:
        write_new(folder / target.name, folder, lambda handle: save_workbook(workbook, handle, folder))
    return target


def save_workbook(workbook, target, scratch_in: Path) -> None:
    """``workbook.save(target)`` (a path or a binary file object) with openpyxl's scratch files — it writes
    each sheet to a temporary file before zipping them — in a folder of their own made in ``scratch_in``
    (inside SHARED_DIR) and removed after, not in the system's temporary folder: nothing outside the
    shared folder is written (etl.openpyxl_internals: only this save's scratch files go there). A scratch
    folder an hour old is a killed save's, and is removed."""
    from etl.openpyxl_internals import scratch_files_in

    scratch_in.mkdir(parents=True, exist_ok=True)
    _sweep_stale_scratch(scratch_in)
    scratch = tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=scratch_in)
    try:  # the scratch folder pinned (etl.shared_paths): swapped for a link meanwhile, it is refused
        fd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            with scratch_files_in(f"/proc/self/fd/{fd}"):
                workbook.save(target)
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
