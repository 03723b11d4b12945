"""Which inbox files a run picks up: not lock or temp files, and not a file still being copied in."""

from __future__ import annotations

import os
import threading
import time

from etl.config import Settings
from etl.ingest.pipeline import discover, prepare


def warehouse_beside(tmp_path, settle_seconds: float) -> Settings:
    """Settings on tmp_path with its warehouse ready: discovery records when it first saw each entry."""
    settings = Settings(
        tmp_path / "shared", f"sqlite:///{tmp_path / 'warehouse.sqlite'}", settle_seconds=settle_seconds
    )
    prepare(settings)
    return settings


def test_lock_and_temp_files_are_not_picked_up_but_hidden_files_are(tmp_path):
    """Lock and temp files belong to the program still writing them (they wait, with a reason the run
    summary shows: tests/etl/ingest/inbox/test_inbox.py); a hidden file is an entry like any other and gets a status."""
    settings = warehouse_beside(tmp_path, 0)
    folder = settings.inbox / "溪湖区"
    folder.mkdir(parents=True)
    for name in [
        "~$报表.xlsx",
        ".~lock.报表.xlsx#",
        "报表.xlsx.tmp",
        "下载中.xlsx.crdownload",
        ".DS_Store",
        "报表.xlsx",
    ]:
        (folder / name).write_bytes(b"x")
    assert sorted(discover(settings)) == ["溪湖区/.DS_Store", "溪湖区/报表.xlsx"]


def test_a_file_still_growing_is_left_for_the_next_run(tmp_path):
    settings = warehouse_beside(tmp_path, 0.6)
    folder = settings.inbox / "溪湖区"
    folder.mkdir(parents=True)
    settled = folder / "早到的.csv"
    settled.write_bytes(b"a,b\n")
    old = time.time() - 60

    os.utime(settled, (old, old))
    growing = folder / "上传中.csv"
    growing.write_bytes(b"a,b\n")
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            with growing.open("ab") as handle:
                handle.write(b"1,2\n")
            time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert discover(settings) == ["溪湖区/早到的.csv"]
    finally:
        stop.set()
        writer.join()
    assert discover(warehouse_beside(tmp_path, 0.2)) == ["溪湖区/早到的.csv", "溪湖区/上传中.csv"]
