"""The inbox as an attacker with write access to the shared folder could fill it, and how a run takes a
file out of it.

* **Scanning** lists every entry under ``inbox/`` without following links (``os.scandir`` with
  ``follow_symlinks=False``, names as raw bytes). Regular files are ready; symlinks, FIFOs, devices and
  sockets are ready too, to be rejected without ever being opened; lock files, temp files and files
  still growing wait, each with a reason the run summary shows.
* **Claiming** is an atomic rename of the entry into a folder of the claiming process's own,
  ``work/<claim>/entry`` (the rename moves the link or the FIFO itself, never its target; every directory
  on the way is opened with ``O_NOFOLLOW``). Two overlapping runs cannot both process a file: the loser's
  rename finds nothing and it skips the file without a trace. The claim folder holds a lock (``flock``)
  for as long as its process lives, so a claim whose process died (an Airflow retry, a killed CLI) is
  *stranded*: the next scan lists it and whoever locks it first adopts the file.
* **Snapshot**: the claimed file is opened once (``O_NOFOLLOW``, a regular file or nothing), its bytes
  hashed while they are copied into ``archive/``, and everything after reads that copy: the bytes
  hashed, archived and parsed are the same bytes, even if a writer still appends to the original.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import logging
import os
import shutil
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from etl.config import Settings
from etl.ingest.inbox.names import (
    bounded_name,
    display_name,
    display_path,
    entry_key,
    is_inbox_path,
    key_bytes,
    safe_suffix,
)
from etl.ingest.read.limits import mib
from etl.shared_paths import PinnedPath, name_variants, pinned_folder, read_no_follow

log = logging.getLogger(__name__)

LOCK_FILE_REASON = "表格正在被编辑（Office/WPS/LibreOffice 的锁文件），关闭表格后会自动消失；若长期存在，可直接删除"
TEMP_FILE_REASON = "临时文件（正在下载或复制），完成后会自动处理"
GROWING_REASON = "文件仍在写入，下次运行再处理"
QUEUED_REASON = "排队等待下次运行处理（每次运行最多处理 {n} 个文件，先到先处理）"
NEXT_RUN_REASON = "等待下次运行处理"
TOO_DEEP_REASON = "文件夹层级过深（超过{depth}层），请把文件直接放入本区县的文件夹"
TEMP_SUFFIXES = (b".tmp", b".part", b".crdownload", b".partial", b".swp")
MAX_DEPTH = 6
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NEW_FILE = os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC  # with O_RDWR or O_WRONLY
KIND_ZH = {
    "symlink": "快捷方式（符号链接）",
    "fifo": "管道文件",
    "device": "设备文件",
    "socket": "套接字文件",
    "hardlink": "硬链接（与其他位置的文件共用同一内容）",
    "other": "特殊文件",
}


class RawNamed:
    """Something named by ``raw``, a path relative to the inbox as the file system has it (bytes)."""

    raw: bytes

    @property
    def key(self) -> str:
        """The name between tasks (etl.ingest.inbox.names.entry_key)."""
        return entry_key(self.raw)

    @property
    def display(self) -> str:
        """The name as shown and stored (etl.ingest.inbox.names.display_path)."""
        return display_path(self.raw)

    @property
    def file_name(self) -> str:
        """The last component as shown (etl.ingest.inbox.names.display_name)."""
        return display_name(self.raw.rsplit(b"/", 1)[-1])

    @property
    def safe_folders(self) -> list[str]:
        """The folders above it as bounded components of paths we derive (etl.ingest.inbox.names.bounded_name)."""
        return [bounded_name(display_name(folder)) for folder in self.raw.split(b"/")[:-1]]


@dataclass(frozen=True)
class Entry(RawNamed):
    """One entry of the inbox and what it is."""

    raw: bytes
    kind: str  # file | symlink | fifo | device | socket | other
    size: int = 0
    mtime: float = 0.0


@dataclass
class Scan:
    ready: list[Entry] = field(default_factory=list)  # oldest first
    waiting: list[tuple[Entry, str]] = field(default_factory=list)  # with the reason it waits
    stranded: list[str] = field(default_factory=list)  # keys of claims whose process died


def kind_of(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


def waiting_reason(name: bytes) -> str | None:
    """Why an entry is not taken yet: lock and temp files belong to the program still writing them."""
    if name.startswith(b"~$") or (name.startswith(b".~lock.") and name.endswith(b"#")):
        return LOCK_FILE_REASON
    if name.lower().endswith(TEMP_SUFFIXES):
        return TEMP_FILE_REASON
    return None


def scan(
    settings: Settings, settle: bool = True, first_seen: Callable[[list[Entry]], dict[str, dt.datetime]] | None = None
) -> Scan:
    """Every entry of the inbox, ready or waiting, and the stranded claims (see the module doc).
    ``settle``: watch recently changed files for ``settle_seconds`` and let those still growing wait.
    ``first_seen``: records the entries as seen and answers when each was first seen (etl.ingest.inbox.sightings);
    the batch is then the entries seen first (by mtime among those first seen together)."""
    result = Scan()
    if settings.inbox.is_symlink():  # a link left where the inbox is: nothing is listed through it
        log.warning("%s is a link, not the inbox folder: nothing listed", settings.inbox)
        return result
    if not settings.inbox.is_dir():
        return result
    found: list[Entry] = []
    _walk(os.fsencode(settings.inbox), b"", 0, found, result)
    recent = [e for e in found if e.kind == "file" and time.time() - e.mtime < settings.settle_seconds]
    if recent and settle:
        time.sleep(settings.settle_seconds)
        for entry in recent:
            again = _lstat(os.path.join(os.fsencode(settings.inbox), entry.raw))
            if again is None or (again.st_size, again.st_mtime) != (entry.size, entry.mtime):
                found.remove(entry)
                if again is not None:
                    result.waiting.append((entry, GROWING_REASON))
    seen = first_seen([*found, *(entry for entry, _reason in result.waiting)]) if first_seen else {}
    ready = sorted(found, key=lambda e: (seen.get(e.key, dt.datetime.min), e.mtime, e.raw))
    result.ready = ready[: settings.max_files_per_run]
    result.waiting += [
        (e, QUEUED_REASON.format(n=settings.max_files_per_run)) for e in ready[settings.max_files_per_run :]
    ]
    result.stranded = stranded_claims(settings)
    return result


def waiting_entries(settings: Settings) -> list[tuple[str, str]]:
    """Every entry still in the inbox, as shown, and why it waits: lock, temp and growing files, entries
    beyond a run's batch, and the rest for the next run (what is left after a run, or arrived since)."""
    found = scan(settings, settle=False)
    return [(e.display, reason) for e, reason in found.waiting] + [(e.display, NEXT_RUN_REASON) for e in found.ready]


def _walk(root: bytes, relative: bytes, depth: int, found: list[Entry], result: Scan) -> None:
    try:
        with os.scandir(os.path.join(root, relative) if relative else root) as entries:
            items = sorted(entries, key=lambda e: e.name)
    except OSError as exc:  # a folder we may not list: say so, do not stop the others
        log.warning("cannot list inbox folder %r: %s", display_path(relative), exc)
        return
    for item in items:
        raw = os.path.join(relative, item.name) if relative else item.name
        try:
            info = item.stat(follow_symlinks=False)
        except OSError:
            continue  # gone meanwhile
        if stat.S_ISDIR(info.st_mode):
            if depth + 1 >= MAX_DEPTH:
                result.waiting.append((Entry(raw, "other"), TOO_DEEP_REASON.format(depth=MAX_DEPTH)))
            else:
                _walk(root, raw, depth + 1, found, result)
            continue
        entry = Entry(raw, kind_of(info.st_mode), info.st_size, info.st_mtime)
        reason = waiting_reason(item.name) if entry.kind == "file" else None
        if reason:
            result.waiting.append((entry, reason))
        else:
            found.append(entry)


def _lstat(path: bytes) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


# --- claims -------------------------------------------------------------------------------------------


class Claim(RawNamed):
    """An inbox entry this process has taken: ``work/<claim>/`` holds ``lock`` (locked while the process
    lives), ``key`` (the entry's raw relative path) and ``entry`` (the entry itself, renamed there). The
    folder is its process's alone (mode 0700) and is reached through its descriptor (``pinned``,
    etl.shared_paths.pinned_folder): a claim folder renamed away and replaced by a link leads nowhere."""

    ENTRY, KEY, LOCK, READ = "entry", "key", "lock", "read"

    def __init__(self, folder: Path, raw: bytes, lock_fd: int, folder_fd: int):
        self.folder, self.raw, self._lock_fd, self._folder_fd = folder, raw, lock_fd, folder_fd

    @property
    def pinned(self) -> Path:
        """The claim folder as the folder this process made, whatever bears its name now."""
        return Path(f"/proc/self/fd/{self._folder_fd}")

    @property
    def entry(self) -> Path:
        return self.pinned / self.ENTRY

    def entry_kind(self) -> str:
        return kind_of(os.lstat(self.entry).st_mode)

    def release(self) -> None:
        """Remove the claim folder (the entry has been filed away, or was never taken) and unlock."""
        for name in os.listdir(self.pinned):  # its contents, through the descriptor; then the folder by name
            path = self.pinned / name
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() and not path.is_symlink() else path.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)  # empty if it is ours; a link or another folder put in its place stays
        self.unlock()

    def unlock(self) -> None:
        """Let go of the claim: with its entry still in it, the next scan lists it as stranded."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._folder_fd is not None:
            os.close(self._folder_fd)
            self._folder_fd = None


def claim(settings: Settings, key: str) -> Claim | None:
    """Take the entry named by ``key`` out of the inbox, or adopt it from a stranded claim; None when
    another process has it (or it is gone)."""
    raw = key_bytes(key)
    if not is_inbox_path(raw):
        log.warning("refused to claim %r: not a path below the inbox", display_path(raw))
        return None
    own = _new_claim(settings, raw)
    try:
        if _take_from_inbox(os.fsencode(settings.inbox), raw, os.fsencode(own.entry)) or _adopt_stranded(
            settings, raw, own
        ):
            return own
    except BaseException:
        own.release()
        raise
    own.release()
    return None


def _new_claim(settings: Settings, raw: bytes) -> Claim:
    name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with pinned_folder(settings.work, settings.shared_dir) as work:  # made in work/ as checked, not through a link
        os.mkdir(work / name, 0o700)  # this process's alone: where the share's writers are other users, closed to them
        folder_fd = os.open(work / name, _OPEN_DIR)
    lock_fd = None
    try:
        pinned = Path(f"/proc/self/fd/{folder_fd}")  # etl.shared_paths.pinned_folder
        lock_fd = os.open(pinned / Claim.LOCK, _NEW_FILE | os.O_RDWR, 0o600)
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        with os.fdopen(os.open(pinned / Claim.KEY, _NEW_FILE | os.O_WRONLY, 0o600), "wb") as key:
            key.write(raw)
    except BaseException:
        os.close(folder_fd)
        if lock_fd is not None:
            os.close(lock_fd)
        raise
    return Claim(settings.work / name, raw, lock_fd, folder_fd)


def _take_from_inbox(inbox: bytes, raw: bytes, target: bytes) -> bool:
    """Rename inbox/<raw> to ``target``; every directory on the way opened without following links."""
    if not is_inbox_path(raw):
        return False
    *folders, name = raw.split(b"/")
    fds = []
    try:
        fd = os.open(inbox, _OPEN_DIR)
        fds.append(fd)
        for folder in folders:
            fd = os.open(folder, _OPEN_DIR, dir_fd=fd)
            fds.append(fd)
        os.rename(name, target, src_dir_fd=fd)
        return True
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
            return False  # taken by another run, deleted, or a folder on the way became a link
        raise
    finally:
        for fd in fds:
            os.close(fd)


def _try_lock(folder: Path) -> int | None:
    """The claim folder's lock when its process is gone (the lock is free), else None."""
    try:
        fd = os.open(folder / Claim.LOCK, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def stranded_claims(settings: Settings) -> list[str]:
    """Keys of claims whose process died with the entry still in its claim folder; empty stranded folders
    (the process died after filing its entry away) are removed."""
    if not settings.work.is_dir():
        return []
    with pinned_folder(settings.work, settings.shared_dir) as work:  # listed as checked, not through a link
        return _stranded_in(work)


def _claim_folders(work: Path) -> list[Path]:
    """The claim folders in the pinned ``work`` folder (real folders, not links), by name."""
    with os.scandir(work) as entries:
        return sorted(work / e.name for e in entries if e.is_dir(follow_symlinks=False))


def _stranded_in(work: Path) -> list[str]:
    keys = []
    for folder in _claim_folders(work):
        fd = _try_lock(folder)
        if fd is None:
            if not (folder / Claim.LOCK).exists() and time.time() - folder.stat().st_mtime > 60:
                shutil.rmtree(folder, ignore_errors=True)  # died before its lock was made
            continue
        try:
            raw = read_no_follow(folder / Claim.KEY)
            if os.path.lexists(folder / Claim.ENTRY) and raw is not None:
                if is_inbox_path(raw):
                    keys.append(entry_key(raw))
                else:  # planted: its entry is left where it is, for a person to look at
                    log.warning("claim folder %s names no inbox path; left alone", folder.name)
            elif time.time() - folder.stat().st_mtime > 60:  # not a claim still being made
                shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)
    return keys


def _adopt_stranded(settings: Settings, raw: bytes, own: Claim) -> bool:
    with pinned_folder(settings.work, settings.shared_dir) as work:  # listed as checked, not through a link
        return _adopt_from(work, raw, own)


def _adopt_from(work: Path, raw: bytes, own: Claim) -> bool:
    for folder in _claim_folders(work):
        if folder.name == own.folder.name or read_no_follow(folder / Claim.KEY) != raw:
            continue
        fd = _try_lock(folder)
        if fd is None:
            continue
        try:
            folder_fd = os.open(folder, _OPEN_DIR)  # the folder whose lock we hold, not a link put in its place
        except OSError:
            os.close(fd)
            continue
        try:
            os.rename(f"/proc/self/fd/{folder_fd}/{Claim.ENTRY}", own.entry)
        except FileNotFoundError:
            continue
        finally:
            os.close(folder_fd)
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        log.info("%s: adopted from the stranded claim %s", display_path(raw), folder.name)
        return True
    return False


# --- the snapshot ------------------------------------------------------------------------------------


class NotRegularFile(Exception):
    """The claimed entry is a link, FIFO, device or socket: it is never opened."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class FileTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__(f"{size} bytes over the limit of {limit}")
        self.size, self.limit = size, limit

    @property
    def zh(self) -> str:
        return f"文件大小超过 {mib(self.limit)} 的上限（max_file_bytes），未读取；请拆分后分别提交"


@dataclass
class Snapshot:
    sha256: str
    size: int
    mtime: float
    archive: Path  # archive/<xx>/<sha256><suffix>, where these bytes are kept
    # our own copy of the bytes under the clerk's folder and name: what is parsed, opened through a descriptor
    # of the file that was hashed (etl.shared_paths.PinnedPath) — close() when done
    read_path: PinnedPath
    read_root: Path  # the folder read_path's district folder is in (the parser's "inbox")
    scratch: Path  # the claim folder, pinned: where scratch files of this file's processing go

    def close(self) -> None:
        self.read_path.unpin()


def snapshot(claim: Claim, settings: Settings) -> Snapshot:
    """Copy the claimed file once into the archive while hashing it; raises NotRegularFile, FileTooLarge."""
    kind = claim.entry_kind()
    if kind != "file":  # never opened: opening a FIFO or a device has effects of its own
        raise NotRegularFile(kind)
    try:
        fd = os.open(claim.entry, _OPEN_FILE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegularFile("symlink") from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(kind_of(info.st_mode))
        if info.st_nlink > 1:  # another name of a file elsewhere (perhaps outside the shared folder): not read
            raise NotRegularFile("hardlink")
        limit = settings.limits.max_file_bytes
        if info.st_size > limit:
            raise FileTooLarge(info.st_size, limit)
        name = claim.file_name
        with pinned_folder(settings.archive, settings.shared_dir) as archive:
            incoming = archive / f".incoming-{uuid.uuid4().hex}"
            digest, size = hashlib.sha256(), 0
            copy_fd = os.open(incoming, _NEW_FILE | os.O_RDWR, 0o644)  # read back through it: the bytes hashed
            try:
                with open(copy_fd, "wb", closefd=False) as out:
                    while block := os.read(fd, 1 << 20):
                        size += len(block)
                        if size > limit:
                            raise FileTooLarge(size, limit)
                        digest.update(block)
                        out.write(block)
                os.utime(copy_fd, ns=(info.st_atime_ns, info.st_mtime_ns))  # the archive keeps the original's mtime
                sha256 = digest.hexdigest()
                target = settings.archive / sha256[:2] / f"{sha256}{safe_suffix(name)}"
                with pinned_folder(target.parent, settings.shared_dir) as folder:
                    _place(incoming, folder / target.name, keep_source=True)
                read_root = claim.folder / Claim.READ
                read_path = read_root.joinpath(*claim.safe_folders, bounded_name(name))
                pinned_read = claim.pinned.joinpath(Claim.READ, *claim.safe_folders)
                pinned_read.mkdir(parents=True, exist_ok=True)  # in the claim folder: ours alone
                _place(incoming, pinned_read / read_path.name)  # the clerk's folder and name, for people
            except BaseException:
                os.close(copy_fd)
                raise
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(incoming)
    finally:
        os.close(fd)
    return Snapshot(sha256, size, info.st_mtime, target, PinnedPath(read_path, copy_fd), read_root, claim.pinned)


def _place(source: Path, target: Path, keep_source: bool = False) -> None:
    """A hard link of ``source`` at ``target`` unless one is there already (the archive is never
    overwritten: the same name there holds the same bytes); a copy where hard links are not possible."""
    try:
        os.link(source, target)
    except FileExistsError:
        pass
    except OSError:  # no hard links here: a copy, into a new file (nothing at the name is followed)
        with contextlib.suppress(FileExistsError), open(source, "rb") as original:
            with os.fdopen(os.open(target, _NEW_FILE | os.O_WRONLY, 0o644), "wb") as copy:
                shutil.copyfileobj(original, copy)
    if not keep_source:
        source.unlink(missing_ok=True)


def file_away(claim: Claim, folder: Path, name: str, root: Path) -> Path:
    """Move the claimed entry itself (a file, or a link as a link) to ``folder/name`` or a free variant;
    ``folder`` is made real below ``root`` (etl.shared_paths)."""
    with pinned_folder(folder, root) as pinned:  # renamed into the folder checked, whatever bears its name now
        free = unused_path(pinned, bounded_name(name))
        os.rename(claim.entry, free)
    return folder / free.name


def give_back(claim: Claim, settings: Settings) -> None:
    """After a system fault: the entry back to where the clerk dropped it, for the retry; if that name is
    taken meanwhile (or the folder is gone), the claim is left stranded for the next run to adopt."""
    try:
        if os.path.lexists(claim.entry):
            *folders, name = claim.raw.split(b"/")
            parent = settings.inbox.joinpath(*map(os.fsdecode, folders))
            with pinned_folder(parent, settings.shared_dir) as pinned:  # back where it was, through no link
                target = os.path.join(os.fsencode(pinned), name)
                if not os.path.lexists(target):
                    os.rename(claim.entry, target)
    except (OSError, ValueError):
        log.warning("%s stays in its claim folder %s for the next run", claim.display, claim.folder.name)
    if os.path.lexists(claim.entry):
        claim.unlock()
    else:
        claim.release()


def unused_path(folder: Path, name: str) -> Path:
    """folder/name, or folder/name with (2), (3)… before the suffix: nothing is ever overwritten."""
    return next(folder / n for n in name_variants(name) if not os.path.lexists(folder / n))


def district_folder(raw: bytes) -> str | None:
    """The clerk's folder (the first component) as shown, or None for a file dropped at the inbox root."""
    parts = raw.split(b"/")
    return display_name(parts[0]) if len(parts) > 1 else None
