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

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
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


def write_workbook(workbook, target: Path) -> Path:
    """``workbook`` saved as ``target`` (a receipt, a template): written beside it under a ``.writing`` name —
    whatever a clerk left at that name removed first, a link would be followed — and moved into place, so
    nobody opens half a workbook. Returns ``target``."""
    from etl.shared_paths import clear_entry

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".writing")
    clear_entry(tmp)
    save_workbook(workbook, tmp, target.parent)
    tmp.replace(target)
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
    try:
        with scratch_files_in(scratch):
            workbook.save(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
