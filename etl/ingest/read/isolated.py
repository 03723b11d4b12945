"""Read a district file in a child process with a memory limit, so that whatever the file holds the worst
it can do is get itself rejected.

python-calamine is native code: a cell at XFD1048576 makes it allocate 512 GB and abort the process, a
zip bomb makes it inflate gigabytes. Checks before the read (``etl.ingest.read.container_guard.check_declared``)
catch what the container declares; what it really holds is measured while it is read. The read itself
runs in a forked child whose address space may grow by ``Limits.max_read_memory_bytes`` beyond its
parent's and which is killed after ``Limits.max_read_seconds``: an allocation failure (Python's
MemoryError, Rust's abort), a crash of the native reader or a hang is that one file's rejection, and the
task, the CLI and the other files go on.

The rows come back through a pipe in frames of a few thousand cells (``_FrameWriter``), which this
process unpacks while the child packs the next. An xlsx sheet's rows are sent as python-calamine
converts them to Python values: the 24,671-row register's last rows arrive about 0.04 s after the
conversion ends, instead of after its 0.05 s and the sending one after the other.
"""

from __future__ import annotations

import faulthandler
import fcntl
import gc
import itertools
import marshal
import os
import pickle
import resource
import select
import signal
import struct
import threading
import time
from pathlib import Path

from etl.ingest.read.container_guard import LimitExceeded, check_declared, scan_actual
from etl.ingest.read.limits import Limits, mib
from etl.ingest.read.readers import (
    ZIP_MAGIC,
    Sheet,
    UnreadableFile,
    check_zip_facts,
    check_zip_names,
    finish_zip_container,
    read_sheets,
)


def read_isolated(path: Path, limits: Limits, delimiter: str | None = None) -> list[Sheet]:
    """``etl.ingest.read.readers.read_sheets`` in a child process under ``limits``; raises UnreadableFile. For a zip
    container the child only reads; this process checks the directory before, and measures the members
    (limits, damage, formula error cells) while the child reads. ``delimiter``: a text table's, when not
    the one its first records suggest."""
    with path.open("rb") as handle:
        zip_container = handle.read(4) == ZIP_MAGIC
    try:
        if zip_container:
            if path.stat().st_size > limits.max_whole_file_bytes:
                return read_sheets(path, limits)  # raises with that limit's reason, reading nothing
            check_declared(path, limits)
            check_zip_names(path)
        child = _Child(path, limits, delimiter)
        try:
            if zip_container:  # while the child reads; the child checks the rectangle calamine allocated
                facts = scan_actual(path, limits, extent=False)
                check_zip_facts(facts)
            try:
                sheets = child.result()
            except ReadOutOfMemory:
                if zip_container:  # a rectangle too large to allocate: the limit it breaks is the reason
                    scan_actual(path, limits)
                raise
        finally:
            child.stop()
    except LimitExceeded as exc:
        raise UnreadableFile(exc.zh, exc.en) from exc
    if not zip_container:
        return sheets
    with path.open("rb") as handle:  # a file object: openpyxl judges a path by its suffix, not its content
        return finish_zip_container(handle, sheets, facts, limits)


class ReadOutOfMemory(UnreadableFile):
    """The reader ran out of its memory limit, or the native reader died (usually by the same cause)."""


class _Child:
    def __init__(self, path: Path, limits: Limits, delimiter: str | None):
        import openpyxl  # noqa: F401 - imported before fork: the child never takes the import lock
        import python_calamine  # noqa: F401

        self.limits = limits
        self.deadline = time.monotonic() + limits.max_read_seconds
        read_end, write_end = os.pipe()
        try:  # room for the child to send ahead while this process still measures the container
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (AttributeError, OSError):
            pass
        err_read, err_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: read, send the result, exit without running the parent's cleanup
            try:
                gc.disable()  # a collection would walk, and so copy, every page of the parent's heap it inherited
                os.close(read_end)
                os.close(err_read)
                os.dup2(err_write, 2)
                _run_child(path, limits, delimiter, write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        os.close(err_write)
        self.fd, self.err_fd = read_end, err_read
        self.status: int | None = None

    def result(self) -> list[Sheet]:
        payload = self._receive()
        if payload is not None and payload[0] == "ok":  # complete: its exit is reaped by a thread, off the clock
            self._reap_later()
            return payload[1]
        self._reap()
        if self.status is not None and os.WIFSIGNALED(self.status):
            raise ReadOutOfMemory(
                f"读取文件时超出内存上限（max_read_memory_bytes={mib(self.limits.max_read_memory_bytes)}）"
                "或使读取程序异常终止，文件可能已损坏或结构异常；请用 Excel/WPS 打开确认后另存为 xlsx 重新提交",
                f"the reader child died with signal {os.WTERMSIG(self.status)}: {self._stderr()}",
            )
        if payload is None:  # a child that died mid-write
            raise UnreadableFile(
                "读取文件时出错，文件可能已损坏；请用 Excel/WPS 打开确认后另存为 xlsx 重新提交",
                f"the reader child sent no result: {self._stderr()}",
            )
        kind = payload[0]
        if kind == "unreadable":
            raise UnreadableFile(*payload[1:])
        if kind == "memory":
            raise ReadOutOfMemory(
                f"读取文件时超出内存上限（max_read_memory_bytes={mib(self.limits.max_read_memory_bytes)}），"
                "请删除多余内容或拆分后重新提交",
                "the read ran out of its memory limit",
            )
        raise UnreadableFile(
            "文件内容无法解析（结构异常），请用 Excel/WPS 打开确认后另存为 xlsx 重新提交",
            f"the reader failed: {payload[1]}",
        )

    def _receive(self) -> tuple | None:
        """The child's result, unpacked frame by frame while it is still sending; None if it died half way."""
        frames = _Frames()
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise UnreadableFile(
                    f"读取文件超过 {self.limits.max_read_seconds} 秒的时限（max_read_seconds），"
                    "文件可能过大或结构异常；请拆分或另存后重新提交",
                    "the read timed out",
                )
            ready, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    return frames.payload
                try:
                    frames.feed(chunk)
                except Exception:  # noqa: BLE001 - a frame the child could not finish
                    return None

    def _reap(self) -> None:
        if self.status is None and self.pid:
            _, self.status = os.waitpid(self.pid, 0)

    def _reap_later(self) -> None:
        """The child has sent everything and only exits now: tearing down its copy of our address space
        takes a while, and nobody needs to wait for it."""
        pid, self.pid, self.status = self.pid, 0, 0
        threading.Thread(target=os.waitpid, args=(pid, 0), name="reader-reaper", daemon=True).start()

    def _stderr(self) -> str:
        try:
            ready, _, _ = select.select([self.err_fd], [], [], 0)
            return os.read(self.err_fd, 2000).decode("utf-8", "replace").strip().splitlines()[0] if ready else ""
        except (OSError, IndexError):
            return ""

    def stop(self) -> None:
        """Kill the child if it still runs, reap it, close the pipes."""
        if self.status is None and self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()
        for name in ("fd", "err_fd"):
            fd = getattr(self, name, None)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)


PIPE_BYTES = 1 << 20  # the most an unprivileged process may ask for (/proc/sys/fs/pipe-max-size)
FRAME_CELLS = 1 << 15  # cells one frame of rows carries: the parent unpacks a frame while the child packs the next
FRAME_HEAD = struct.Struct(">cQ")  # a frame's kind and the length of its body
# Frame kinds: a sheet's fields but its rows (S), a run of that sheet's rows (R: marshal; Q: pickle), the
# end of a complete result (E); or, instead of a result, what went wrong, pickled (P): a P frame replaces
# whatever frames came before it.


class _FrameWriter:
    """The child's end of the pipe: each sheet as an S frame and runs of its rows, in order, then E."""

    def __init__(self, out: int):
        self.out = out
        self.sent = 0  # sheets sent

    def sheet(self, sheet: Sheet, rows) -> None:
        """``sheet``'s fields, then ``rows`` (an iterable: sent as it yields). A run of plain values (text,
        numbers, None) goes by marshal, three times faster than pickle both ways; a run holding a value
        marshal cannot carry (a date, a formula error value) by pickle."""
        fields = (sheet.name, sheet.visible, sheet.merged, sheet.has_cell_errors, sheet.may_hold_nul)
        _write_frame(self.out, b"S", marshal.dumps((*fields, sheet.unreadable, sheet.delimiter)))
        rows = iter(rows)
        step = None
        while run := list(itertools.islice(rows, step or 1)):
            step = step or max(1, FRAME_CELLS // max(1, len(run[0])))  # from the first row's width
            try:
                body, kind = marshal.dumps(run), b"R"
            except ValueError:
                body, kind = pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL), b"Q"
            _write_frame(self.out, kind, body)
        self.sent += 1

    def end(self) -> None:
        _write_frame(self.out, b"E", b"")


def _send_failure(out: int, payload: tuple) -> None:
    """What went wrong, as a P frame (the frames already sent are void)."""
    try:
        body = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        body = pickle.dumps(("memory",))
    _write_frame(out, b"P", body)


def _write_frame(out: int, kind: bytes, body: bytes) -> None:
    for part in (FRAME_HEAD.pack(kind, len(body)), body):
        view = memoryview(part)
        while view:
            view = view[os.write(out, view) :]


class _Frames:
    """The child's frames, unpacked as they arrive; ``payload`` is the result once the last has come
    (None if the child stopped half way)."""

    def __init__(self):
        self.buffer = bytearray()
        self.sheets: list[Sheet] = []
        self.payload: tuple | None = None

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        used = 0
        with memoryview(self.buffer) as view:
            while len(view) - used >= FRAME_HEAD.size:
                kind, size = FRAME_HEAD.unpack_from(view, used)
                end = used + FRAME_HEAD.size + size
                if len(view) < end:
                    break
                self._take(kind, view[used + FRAME_HEAD.size : end])
                used = end
        del self.buffer[:used]

    def _take(self, kind: bytes, body: memoryview) -> None:
        if kind == b"R":
            self.sheets[-1].rows += marshal.loads(body)
        elif kind == b"Q":
            self.sheets[-1].rows += pickle.loads(body)
        elif kind == b"S":
            self.sheets.append(_sheet(*marshal.loads(body)))
        elif kind == b"E":
            self.payload = ("ok", self.sheets)
        else:
            self.payload = pickle.loads(body)


def _sheet(name, visible, merged, has_cell_errors, may_hold_nul, unreadable, delimiter) -> Sheet:
    """A Sheet as the child read it, its rows still to come (they are already rectangular: no
    __post_init__ again)."""
    sheet = Sheet.__new__(Sheet)
    sheet.name, sheet.rows, sheet.visible, sheet.has_cell_errors = name, [], visible, has_cell_errors
    sheet.may_hold_nul, sheet.unreadable, sheet.delimiter = may_hold_nul, unreadable, delimiter
    sheet.merged = [tuple(tuple(corner) for corner in m) for m in merged]
    return sheet


def _run_child(path: Path, limits: Limits, delimiter: str | None, out: int) -> None:
    faulthandler.disable()  # a crash here is reported by the parent as the file's rejection
    os.environ.update(RUST_BACKTRACE="0")  # set for the native reader, not configuration: no backtrace on abort
    _limit_address_space(limits.max_read_memory_bytes)
    writer = _FrameWriter(out)
    try:  # an xlsx workbook's sheets are sent while they are read; any other file's once read
        sheets = read_sheets(path, limits, scan=False, delimiter=delimiter, rows_to=writer.sheet)
        for sheet in sheets[writer.sent :]:
            writer.sheet(sheet, sheet.rows)
        writer.end()
    except UnreadableFile as exc:
        _send_failure(out, ("unreadable", exc.zh, exc.en, exc.split_on))
    except MemoryError:
        _send_failure(out, ("memory",))
    except BaseException as exc:  # noqa: BLE001 - any failure of reading is this file's, told to the parent
        _send_failure(out, ("error", f"{type(exc).__name__}: {exc}"[:500]))
    os.close(out)


def _limit_address_space(headroom: int) -> None:
    """The child may map ``headroom`` bytes more than it inherited from its parent."""
    with open("/proc/self/status", encoding="ascii") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    limit = size + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
