"""Folders we write into inside the shared folder, made real before we write.

Clerks can write into the whole share, ``receipts/`` and ``archive/`` included: a link planted where a
folder of ours should be (``receipts/明山区`` → somewhere else on the server) would make the pipeline
write outside ``SHARED_DIR``. Every folder a receipt, an archive copy or a filed original goes into is
checked component by component below the shared folder; a component that is a link (or a file) is moved
aside under a name that says so, never followed, and a real folder made in its place.

Checking a folder and then writing by its path leaves a moment in which a clerk may swap it for a link.
So every write goes through a *pinned* folder (``pinned_folder``): the folder is opened component by
component with ``O_NOFOLLOW`` and named by its descriptor (``/proc/self/fd/N``, which the kernel resolves
to the directory we opened, not to whatever bears its name now). A file is written under a new random
name (``O_CREAT | O_EXCL``: nothing planted at a name we could be predicted to use — a link, a FIFO, a
folder — is opened or followed) and renamed into place (``write_new``), where a link left at the target
name is replaced itself and a folder or anything else is moved aside. Linux only (/proc).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC  # a new file, through no link


def real_folder(folder: Path, root: Path) -> Path:
    """``folder``, inside ``root``, as a real directory (see the module doc); returns ``folder``."""
    os.close(open_folder(folder, root))
    return folder


def _parts_below(folder: Path, root: Path) -> tuple[str, ...]:
    """``folder``'s components below ``root``; ValueError for a ".." (or ".") among them, which would lead
    out of ``root`` however the path reads."""
    parts = folder.relative_to(root).parts
    if any(part in ("..", ".") for part in parts):
        raise ValueError(f"{folder} climbs out of {root}")
    return parts


def _aside_name(name: str, what: str) -> str:
    return f"{name[:120]}.{what}已移开-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def move_aside(path: Path, what: str) -> Path:
    """Rename what is at ``path`` (the link itself, never its target) to a name beside it that says so."""
    aside = path.with_name(_aside_name(path.name, what))
    os.rename(path, aside)
    log.warning(
        "%s was in the way (a link, a file or a folder we did not make): moved aside to %s", shown(path), aside.name
    )
    return aside


def shown(path: Path) -> str:
    """``path`` for a person: a pinned folder (/proc/self/fd/N) as the folder it stands for."""
    text = str(path)
    if text.startswith("/proc/self/fd/"):
        number, _, rest = text.removeprefix("/proc/self/fd/").partition("/")
        with contextlib.suppress(OSError):
            return os.path.join(os.readlink(f"/proc/self/fd/{number}"), rest)
    return text


def open_folder(folder: Path, root: Path) -> int:
    """A descriptor of ``folder`` below ``root``, reached from ``root`` one component at a time, each opened
    relative to the one before without following a link: a missing folder is made there, and a link or a
    file where a folder goes is moved aside there (never followed, whatever is swapped in by name
    meanwhile). ``root`` (SHARED_DIR) is the operator's and is opened as configured."""
    parts = _parts_below(folder, root)
    root.mkdir(parents=True, exist_ok=True)  # the share itself (the operator's), on a first run
    return _descend(root, parts, _enter)


def _descend(root: Path, parts: tuple[str, ...], step: Callable[[int, str], int]) -> int:
    """A descriptor of ``root``/``parts``: ``root`` opened as configured, then each part by ``step(parent
    descriptor, name)``, the descriptor before it closed; nothing is left open when a step raises."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            inner = step(fd, part)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_existing(parent: int, name: str) -> int:
    """The folder ``name`` in the folder ``parent``, not through a link; nothing is made (OSError)."""
    return os.open(name, _OPEN_DIR, dir_fd=parent)


def _enter(parent: int, name: str) -> int:
    """The folder ``name`` in the folder ``parent`` (a descriptor), made real there (see ``open_folder``)."""
    for _attempt in range(5):
        try:
            return os.open(name, _OPEN_DIR, dir_fd=parent)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):  # made by another process meanwhile: look again
                os.mkdir(name, dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            aside = _aside_name(name, "非文件夹")
            os.rename(name, aside, src_dir_fd=parent, dst_dir_fd=parent)  # the link itself, not its target
            log.warning("%s was not a folder (a link or a file): moved aside to %s", name, aside)
    raise OSError(errno.ELOOP, f"{name} keeps being replaced")


@contextlib.contextmanager
def pinned_folder(folder: Path, root: Path) -> Iterator[Path]:
    """``folder`` (made real below ``root``) as a path that names the directory we opened, whatever bears its
    name meanwhile: ``/proc/self/fd/N``. Paths below it are safe to create files in with ``NEW_FILE``."""
    fd = open_folder(folder, root)
    try:
        yield Path(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def write_new(target: Path, root: Path, write: Callable[[BinaryIO], None] | bytes) -> Path:
    """``target`` (below ``root``) written whole, atomically and through no link: ``write`` (bytes, or a
    function given the open file) fills a new file of a random name in the pinned folder, which is then
    renamed to ``target``'s name (see the module doc). Returns ``target``."""
    with pinned_folder(target.parent, root) as folder:
        scratch = folder / f".{uuid.uuid4().hex}.writing"
        fd = os.open(scratch, NEW_FILE, 0o644)
        try:
            with os.fdopen(fd, "wb") as handle:
                if callable(write):
                    write(handle)
                else:
                    handle.write(write)
            rename_into(scratch, folder / target.name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
            raise
    return target


def name_variants(name: str) -> Iterator[str]:
    """name, then name with (2), (3)… before its suffix: the names a file may take beside others."""
    yield name
    stem, dot, suffix = name.rpartition(".")
    n = 2
    while True:
        yield f"{stem}({n}).{suffix}" if dot else f"{name}({n})"
        n += 1


def write_unused(folder: Path, name: str, root: Path, data: bytes) -> Path:
    """``data`` as a new file ``folder/name`` — or the first free of ``name_variants`` — created
    exclusively in the pinned folder: nothing is overwritten or followed. Returns its path."""
    with pinned_folder(folder, root) as pinned:
        for candidate in name_variants(name):
            try:
                fd = os.open(pinned / candidate, NEW_FILE, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            return folder / candidate
    raise AssertionError("unreachable")


def rename_into(source: Path, target: Path) -> None:
    """``os.rename(source, target)``; a folder (or anything a file cannot replace) at ``target`` is moved
    aside first."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise
        move_aside(target, "非本系统文件")
        os.rename(source, target)


def move_file(source: Path, target: Path, root: Path) -> bool:
    """Rename the regular file ``source`` (not a link) to ``target``, both below ``root``, between their
    pinned folders; False when there is no such file."""
    with pinned_folder(source.parent, root) as here, pinned_folder(target.parent, root) as there:
        if not _regular(here / source.name):
            return False
        os.replace(here / source.name, there / target.name)
    return True


def remove_file(path: Path, root: Path) -> bool:
    """Remove the regular file ``path`` (not a link) below ``root``, in its pinned folder; False when there
    is no such file."""
    with pinned_folder(path.parent, root) as folder:
        if not _regular(folder / path.name):
            return False
        os.unlink(folder / path.name)
    return True


def _regular(path: Path) -> bool:
    """Whether ``path`` is a regular file itself (not a link to one)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def append_no_follow(target: Path, root: Path, data: bytes) -> None:
    """``data`` appended to the regular file ``target`` (created if missing) in its pinned folder: never
    through a link (O_NOFOLLOW), never into a FIFO (O_NONBLOCK: no reader, no wait) or a file with another
    name elsewhere (a hard link); what else is there is moved aside and a new file begun."""
    with pinned_folder(target.parent, root) as folder:
        path = folder / target.name
        for _attempt in range(3):
            try:
                fd = os.open(
                    path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644
                )
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EWOULDBLOCK):
                    raise
                move_aside(path, "非本系统文件")
                continue
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                with os.fdopen(fd, "ab") as handle:
                    handle.write(data)
                return
            os.close(fd)
            move_aside(path, "非本系统文件")
        raise OSError(errno.EEXIST, f"{target} keeps being replaced")


def no_link_below(path: Path, root: Path) -> bool:
    """Whether no component of ``path`` below ``root`` (``path`` itself included) is a link; components
    that do not exist are none."""
    current = root
    for part in path.relative_to(root).parts:
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return False
        except FileNotFoundError:
            return True
    return True


class PinnedPath(type(Path())):
    """A file's path as it is shown and reasoned about (its folders, its name and suffix, ``relative_to``)
    whose opens reach the file this process holds a descriptor of: ``os.fspath`` gives /proc/self/fd/N, so
    ``open``, ``stat``, ``ZipFile`` and pandas — and a forked reader child, which inherits the descriptor —
    read the bytes that were hashed and archived, whatever bears the name meanwhile. Paths derived from it
    (``parent``, ``/``, ``with_name``) are plain paths. ``unpin`` closes the descriptor; the path is then a
    plain one too."""

    def __new__(cls, path: Path, fd: int):
        self = super().__new__(cls, path)
        self._pinned_fd = fd
        return self

    def __fspath__(self) -> str:
        fd = getattr(self, "_pinned_fd", None)
        return f"/proc/self/fd/{fd}" if fd is not None else str(self)

    def unpin(self) -> None:
        fd, self._pinned_fd = getattr(self, "_pinned_fd", None), None
        if fd is not None:
            os.close(fd)


def open_below(path: Path, root: Path) -> BinaryIO | None:
    """The regular file ``path`` below ``root``, opened for reading with every component opened relative to
    the one before without following a link (nothing is made); None when it is missing, reached through a
    link, no regular file (a folder, a FIFO), or another name of a file elsewhere (a hard link)."""
    try:
        *folders, name = _parts_below(path, root)
        fd = _descend(root, tuple(folders), _open_existing)
    except (OSError, ValueError):  # ValueError: no name below root, or a ".." on the way
        return None
    try:
        file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    info = os.fstat(file_fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        os.close(file_fd)
        return None
    return os.fdopen(file_fd, "rb")


def read_no_follow(path: Path) -> bytes | None:
    """The bytes of the regular file ``path``; None if it is missing, a link or no regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read()
