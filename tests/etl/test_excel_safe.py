"""etl/excel_safe.py ``save_workbook``: a workbook we produce is saved with openpyxl's scratch files in a folder
of their own inside the given folder, removed after, and the process's temporary folder as it was —
also when the save fails. (That a whole run writes nothing outside SHARED_DIR:
tests/etl/test_writes_stay_in_the_share.py.)"""

from __future__ import annotations

import io
import os
import tempfile
import time

import pytest
from openpyxl import Workbook, load_workbook

from etl.excel_safe import save_workbook, set_cell


def workbook(sheets: int = 3) -> Workbook:
    book = Workbook()
    for number in range(1, sheets):
        set_cell(book.create_sheet(f"表{number}")["A1"], "=HYPERLINK(1)")
    return book


def test_a_workbook_is_saved_with_its_scratch_files_inside_the_folder_and_gone_after(tmp_path):
    seen = []
    original = os.open

    def watched(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            seen.append(os.fsdecode(path))
        return original(path, flags, *args, **kwargs)

    before = tempfile.tempdir
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", watched)
        buffer = io.BytesIO()
        save_workbook(workbook(), buffer, tmp_path / "out")

    assert len(seen) == 3 and all(name.startswith(str(tmp_path / "out") + "/.writing-") for name in seen)
    assert list((tmp_path / "out").iterdir()) == []
    assert tempfile.tempdir == before
    assert load_workbook(io.BytesIO(buffer.getvalue()))["表1"]["A1"].data_type == "s"


def test_a_failed_save_leaves_no_scratch_folder_and_the_temporary_folder_as_it_was(tmp_path):
    before = tempfile.tempdir
    with pytest.raises(OSError):
        save_workbook(workbook(), tmp_path / "no such folder" / "a.xlsx", tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    assert tempfile.tempdir == before


def test_a_killed_saves_scratch_folder_is_swept_but_not_a_fresh_one_or_a_link(tmp_path):
    out = tmp_path / "out"
    stale, fresh = out / ".writing-old", out / ".writing-new"
    for folder in (stale, fresh):
        (folder / "openpyxl.x").parent.mkdir(parents=True)
        (folder / "openpyxl.x").write_bytes(b"half a sheet")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("x")
    os.symlink(elsewhere, out / ".writing-link")
    os.utime(out / ".writing-link", (time.time() - 7200, time.time() - 7200), follow_symlinks=False)

    save_workbook(workbook(), io.BytesIO(), out)
    assert sorted(p.name for p in out.iterdir()) == [".writing-link", ".writing-new"]
    assert (elsewhere / "keep").exists()
