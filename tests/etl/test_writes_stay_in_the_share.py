"""Nothing outside SHARED_DIR is written: a whole run — files of every kind ingested (loaded, flagged,
rejected, a duplicate), their receipts and Data Docs pages, the review pack published — creates, writes,
renames or removes no path outside the shared folder but the warehouse's own database file. Every such
call of this process (its threads included) is seen through Python's audit hooks; the reader child only
reads (tests/etl/ingest/read/test_isolated_read.py)."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from conftest import drop_samples
from warehouse_helpers import ingest

from etl.ingest.validate.suite import batch_definition
from etl.publish.review_pack import publish

PINNED = re.compile(r"^/proc/self/fd/(\d+)(?=/|$)")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# audit event → the positions of its path arguments, and of the dir_fd they are relative to (or None)
PATH_EVENTS = {
    "os.mkdir": ((0,), 2),
    "os.rmdir": ((0,), 1),
    "os.remove": ((0,), 1),
    "os.rename": ((0, 1), 2),
    "os.symlink": ((1,), 2),
    "os.link": ((1,), 3),
    "os.truncate": ((0,), None),
    "os.chmod": ((0,), 2),
    "os.utime": ((0,), 3),
    "os.chown": ((0,), 3),
    "shutil.rmtree": ((0,), 1),
    "tempfile.mkdtemp": ((0,), None),
    "tempfile.mkstemp": ((0,), None),
}


class WriteAudit:
    """Every path this process writes to (``open`` for writing, and the calls in ``PATH_EVENTS``)."""

    def __init__(self):
        self.paths: list[tuple[str, str]] = []
        self.active = False
        sys.addaudithook(self._hook)

    def _hook(self, event, args):
        if not self.active:
            return
        if event == "open":
            path, mode, flags = (list(args) + [None, None])[:3]
            writes = (isinstance(flags, int) and flags & WRITE_FLAGS) or (
                isinstance(mode, str) and any(c in mode for c in "wax+")
            )
            if writes and isinstance(path, (str, bytes, os.PathLike)):
                self.paths.append((event, self._absolute(path, None)))
            return
        if event in PATH_EVENTS:
            positions, dir_fd_at = PATH_EVENTS[event]
            dir_fd = args[dir_fd_at] if dir_fd_at is not None and dir_fd_at < len(args) else None
            for position in positions:
                path = args[position]
                if isinstance(path, (str, bytes, os.PathLike)):
                    self.paths.append((event, self._absolute(path, dir_fd)))

    @staticmethod
    def _absolute(path, dir_fd) -> str:
        path = os.fsdecode(path)
        pinned = PINNED.match(path)  # a folder named by its descriptor (etl.shared_paths.pinned_folder)
        if pinned:
            return os.path.normpath(os.readlink(f"/proc/self/fd/{pinned[1]}") + path[pinned.end() :])
        if os.path.isabs(path):
            return os.path.normpath(path)
        base = os.readlink(f"/proc/self/fd/{dir_fd}") if isinstance(dir_fd, int) else os.getcwd()
        return os.path.normpath(os.path.join(base, path))


AUDIT = WriteAudit()


def drop_every_kind(inbox: Path) -> None:
    """The samples (a CSV, a register, a flood report), a web page named .xls, a file that is not a table,
    and a byte-identical copy of a sample (a duplicate)."""
    dropped = drop_samples(inbox)
    (inbox / "明山区").mkdir(parents=True, exist_ok=True)
    (inbox / "明山区" / "明山区_网页导出.xls").write_text(
        "<html><table><tr><td>工单编号</td><td>受理时间</td></tr><tr><td>=HYPERLINK(1)</td><td>x</td></tr></table></html>",
        encoding="utf-8",
    )
    (inbox / "明山区" / "说明.pdf").write_bytes(b"%PDF-1.4 not a table")
    shutil.copyfile(dropped[0], dropped[0].with_name("副本_" + dropped[0].name))


def test_a_whole_run_writes_nothing_outside_the_shared_folder(make_settings):
    warm = make_settings()  # imports, caches and the GX context made once, outside the audit
    drop_every_kind(warm.inbox)
    ingest(warm)
    publish(warm)

    settings = make_settings()
    drop_every_kind(settings.inbox)
    folders = {str(p) for p in Path(settings.shared_dir).resolve().parents}  # mkdir(parents=True) tries them
    batch_definition.cache_clear()  # the validation context is made again, inside the audit
    AUDIT.paths.clear()
    AUDIT.active = True
    try:
        outcomes = ingest(settings)
        publish(settings)
    finally:
        AUDIT.active = False

    assert {o.status for o in outcomes.values()} >= {"accepted", "rejected", "duplicate"}, outcomes
    shared = os.path.realpath(settings.shared_dir)
    warehouse = os.path.realpath(settings.warehouse_url.removeprefix("sqlite:///"))
    allowed = (shared + os.sep, warehouse + os.sep, "/dev/null" + os.sep)
    outside = sorted(
        (event, path)
        for event, path in set(AUDIT.paths)
        if not (os.path.realpath(path) + os.sep).startswith(allowed)
        and not (event == "os.mkdir" and path in folders)  # an existing folder: the mkdir fails, nothing is made
    )
    assert outside == []
    assert any(os.path.realpath(path).startswith(shared + os.sep) for _, path in AUDIT.paths)  # the audit sees
