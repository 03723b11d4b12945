"""Folders we write into inside the shared folder, made real before we write.

Clerks can write into the whole share, ``receipts/`` and ``archive/`` included: a link planted where a
folder of ours should be (``receipts/明山区`` → somewhere else on the server) would make the pipeline
write outside ``SHARED_DIR``. Every folder a receipt, an archive copy or a filed original goes into is
checked component by component below the shared folder; a component that is a link (or a file) is moved
aside under a name that says so, never followed, and a real folder made in its place.
"""

from __future__ import annotations

import logging
import os
import stat
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)


def real_folder(folder: Path, root: Path) -> Path:
    """``folder``, inside ``root``, as a real directory (see the module doc); returns ``folder``."""
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        for _attempt in range(3):
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                try:
                    os.mkdir(current)
                    break
                except FileExistsError:
                    continue  # made by another process meanwhile: look again
            if stat.S_ISDIR(info.st_mode):
                break
            aside = current.with_name(f"{part}.非文件夹已移开-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}")
            os.rename(current, aside)  # the link itself, not its target
            log.warning("%s was not a folder (a link or a file): moved aside to %s", current, aside.name)
    return folder


def clear_entry(path: Path) -> None:
    """Remove whatever a clerk left at a name we are about to write (a link would be followed)."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)


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


def write_no_follow(path: Path, data: bytes) -> None:
    """``data`` into the file ``path`` (created or truncated), never through a link left at its name."""
    if os.path.islink(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def replace_no_follow(path: Path, data: bytes) -> None:
    """``path`` replaced atomically by ``data`` (readers never see half a file), through no link."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    write_no_follow(tmp, data)
    os.replace(tmp, path)  # replaces a link at ``path`` itself, never its target


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
