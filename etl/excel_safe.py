"""Values that look like formulas are written as text in every workbook and CSV we produce, and every
workbook we produce is saved without writing outside the folder it goes to.

A clerk's cell "=HYPERLINK(…)" or "+86 138…" must never become a live formula in a receipt, a review
pack or an export a leader opens (CSV/formula injection, OWASP).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
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


_SCRATCH_LOCK = threading.Lock()


def save_workbook(workbook, target, scratch_in: Path) -> None:
    """``workbook.save(target)`` (a path or a binary file object) with openpyxl's scratch files — it writes
    each sheet to a temporary file before zipping them — in a folder of their own made in ``scratch_in``
    (inside SHARED_DIR) and removed after, not in the system's temporary folder: nothing outside the
    shared folder is written. ``tempfile.tempdir`` is the documented way to move them; any other
    temporary file this process makes meanwhile goes there too."""
    scratch_in.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".writing-", dir=scratch_in)
    try:
        with _SCRATCH_LOCK:
            previous, tempfile.tempdir = tempfile.tempdir, scratch
            try:
                workbook.save(target)
            finally:
                tempfile.tempdir = previous
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
