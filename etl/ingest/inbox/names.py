"""File names as they arrive: raw bytes from whatever machine copied them, shown safely, kept exactly.

A Windows copy tool writes GBK bytes that are not UTF-8; a web system may put control characters or 300
bytes into a name. Every name is kept as its raw bytes, shown in a decoded form that is always valid
text (UTF-8, else GB18030, else UTF-8 with replacement characters; control characters replaced), and
every path we derive from it (receipt, processed/, rejected/) is bounded in length and stays inside its
folder.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import unicodedata
from pathlib import Path

KEY_PREFIX = "/b64/"  # a relative path never starts with "/": keys of names that are not UTF-8 text
MAX_DERIVED_NAME_BYTES = 160  # a derived name plus our prefixes and suffixes stays under NAME_MAX (255 bytes)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def entry_key(raw: bytes) -> str:
    """What names an inbox entry between tasks (JSON, Airflow XCom): its relative path when that is UTF-8
    text, else the raw bytes in base64 behind ``KEY_PREFIX``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return KEY_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")
    return KEY_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii") if text.startswith("/") else text


def path_key(inbox: Path, path: Path) -> str:
    """The entry key of ``path``, a file under ``inbox`` that we put there ourselves (reprocess, the demo)."""
    return entry_key(os.fsencode(path.relative_to(inbox)))


def key_bytes(key: str) -> bytes:
    """The raw relative path an ``entry_key`` stands for."""
    if key.startswith(KEY_PREFIX):
        return base64.urlsafe_b64decode(key[len(KEY_PREFIX) :].encode("ascii"))
    return os.fsencode(key)


def is_inbox_path(raw: bytes) -> bool:
    """Whether ``raw`` can name an entry below the inbox: a relative path of plain components — none empty,
    "." or "..", no NUL. A name that comes from outside this process (a stranded claim's key file, a
    task's argument) is checked before it is followed: in the shared folder, a planted one could name
    any file on the server."""
    if not raw or raw.startswith(b"/") or b"\x00" in raw:
        return False
    return all(part not in (b"", b".", b"..") for part in raw.split(b"/"))


def display_name(raw: bytes) -> str:
    """One name component as text a person can read and every system can store."""
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("utf-8", errors="replace")
    return _UNSAFE.sub("\ufffd", unicodedata.normalize("NFC", text))


def display_path(raw: bytes) -> str:
    """A relative path, component by component, as ``display_name`` shows them."""
    return "/".join(display_name(part) for part in raw.split(b"/") if part)


def is_plain(raw: bytes) -> bool:
    """The display form is exactly the raw name (no bytes to keep beside it)."""
    try:
        return display_path(raw) == raw.decode("utf-8")
    except UnicodeDecodeError:
        return False


def bounded_name(name: str, max_bytes: int = MAX_DERIVED_NAME_BYTES) -> str:
    """``name`` as one safe path component of at most ``max_bytes`` UTF-8 bytes: no separators or control
    characters, never "." or "..", the suffix kept, and a short hash of the whole name where it was cut
    so that two long names that share a beginning stay apart."""
    text = _UNSAFE.sub("\ufffd", name).replace("/", "／").replace("\\", "＼").strip() or "_"
    if text in (".", ".."):
        text = "_" + text
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    digest = hashlib.sha256(name.encode("utf-8", errors="surrogatepass")).hexdigest()[:8]
    stem, dot, suffix = text.rpartition(".")
    suffix = f".{suffix}" if dot and stem and len(suffix.encode()) <= 12 else ""
    budget = max_bytes - len(suffix.encode()) - len(digest) - 1
    head = text[: len(text) - len(suffix)] if suffix else text
    cut = head.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return f"{cut}~{digest}{suffix}"


def safe_suffix(name: str) -> str:
    """The lower-case suffix of a name for files we name ourselves (archive): letters and digits only,
    at most 10, else none."""
    stem, dot, suffix = name.rpartition(".")
    suffix = suffix.lower()
    return f".{suffix}" if dot and stem and suffix.isascii() and suffix.isalnum() and len(suffix) <= 10 else ""
