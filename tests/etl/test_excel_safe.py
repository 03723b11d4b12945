"""etl/excel_safe.py ``save_workbook``: a workbook we produce is saved with openpyxl's scratch files in a folder
of their own inside the given folder, removed after, and the process's temporary folder as it was —
also when the save fails; what other threads write meanwhile is not moved there
(etl/openpyxl_internals.py). (That a whole run writes nothing outside SHARED_DIR:
tests/etl/test_writes_stay_in_the_share.py.)"""

from __future__ import annotations

import io
import os
import re
import tempfile
import threading
import time

import pytest
from openpyxl import Workbook, load_workbook

import etl.openpyxl_internals
from etl.excel_safe import save_workbook, set_cell


def named(path) -> str:
    """A path as the folder it is in names it: a pinned folder (/proc/self/fd/N, etl.shared_paths) as the
    folder the descriptor stands for, while it is open."""
    name = os.fsdecode(path)
    pinned = re.match(r"^/proc/self/fd/\d+", name)
    return os.readlink(pinned[0]) + name[pinned.end() :] if pinned else name


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
            seen.append(named(path))
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


def test_the_installed_openpyxl_is_the_one_its_internals_were_tested_against():
    assert etl.openpyxl_internals.tested_writer() is not None


def test_a_file_another_thread_makes_during_a_save_stays_where_that_thread_puts_it(tmp_path):
    """While openpyxl writes a sheet's scratch file, another thread makes a temporary file of its own: it
    goes to the system's temporary folder as always — not into the save's scratch folder, which is
    removed after the save."""
    theirs, seen = [], []
    original = os.open

    def watched(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and named(path).startswith(str(tmp_path)):
            seen.append(named(path))
            if len(seen) == 1:
                other = threading.Thread(target=lambda: theirs.append(tempfile.mkstemp(prefix="theirs-")))
                other.start()
                other.join()
        return original(path, flags, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", watched)
        save_workbook(workbook(), io.BytesIO(), tmp_path / "out")
    ((handle, name),) = theirs
    os.close(handle)
    try:
        assert os.path.dirname(name) == tempfile.gettempdir() and os.path.exists(name)
        assert len(seen) == 3
    finally:
        os.remove(name)


def test_saves_in_two_threads_each_keep_their_scratch_files_in_their_own_folder(tmp_path):
    made: dict[str, list[str]] = {"a": [], "b": []}
    original = os.open
    both_saving = threading.Barrier(2, timeout=10)

    def watched(path, flags, *args, **kwargs):
        name = named(path)
        for key in made:
            if flags & os.O_CREAT and name.startswith(str(tmp_path / key) + "/"):
                made[key].append(name)
                if len(made[key]) == 1:
                    both_saving.wait()  # the two saves overlap
        return original(path, flags, *args, **kwargs)

    errors = []

    def save(key):
        try:
            save_workbook(workbook(), io.BytesIO(), tmp_path / key)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", watched)
        threads = [threading.Thread(target=save, args=(key,)) for key in made]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert {key: len(names) for key, names in made.items()} == {"a": 3, "b": 3}


def test_on_an_untested_openpyxl_the_temporary_folder_is_moved_for_the_save_and_put_back(tmp_path, monkeypatch):
    monkeypatch.setattr(etl.openpyxl_internals, "tested_writer", lambda: None)
    test_a_workbook_is_saved_with_its_scratch_files_inside_the_folder_and_gone_after(tmp_path)
