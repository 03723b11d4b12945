"""Large CSV exports read in chunks: a month of 12345 tickets runs to hundreds of thousands of rows, a
province's to millions, and one frame of Python objects for all of them would take gigabytes.

The encoding is decided as ``etl.ingest.read.readers`` decides it (UTF-16 BOM, UTF-8 with or without BOM,
else GB18030), checking the whole file block by block; the delimiter (comma, tab, semicolon or bar) as it
decides it, the header having the last word (etl.ingest.check). The first ``HEAD_RECORDS`` records are read with
the csv module (the header is looked for there, as in the first 20 rows of any sheet); the body with
``pandas.read_csv(chunksize=…)`` as text cells, records numbered as the csv module numbers them (the first
records of both are compared). Any difference, a record wider than the head, an HTML file or a report
type that cannot be validated chunk by chunk raises ``ReadWhole``: the file is then read whole, in the
child process of ``etl.ingest.read.isolated``, like every other file.

Files below ``STREAM_MIN_BYTES`` are read whole.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from pathlib import Path

import pandas as pd

from etl.ingest.read.readers import (
    CSV_ENCODINGS,
    DELIMITER_HEAD_CHARS,
    OLE_MAGIC,
    TEXT_TABLE_SUFFIXES,
    ZIP_MAGIC,
    looks_binary,
    text_delimiter,
)

STREAM_MIN_BYTES = 16 << 20  # smaller files are read whole (a 16 MiB CSV is ~130,000 tickets)
CHUNK_ROWS = 150_000  # GX pays about 35 ms a chunk whatever its size: fewer, larger chunks (measured: 100k, 150k, 200k)
FIRST_CHUNK_ROWS = 20_000  # a small first chunk: the database starts sooner
HEAD_RECORDS = 64


class ReadWhole(Exception):
    """The file is read whole instead of in chunks (the reason is logged)."""


def text_encoding(path: Path, min_bytes: int | None = None) -> str | None:
    """The encoding to stream ``path`` with, or None when it takes the whole-file path: smaller than
    ``min_bytes``, not named like a text table, a workbook/PDF, binary, undecodable, or HTML."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if (
        size < (STREAM_MIN_BYTES if min_bytes is None else min_bytes)
        or size == 0
        or path.suffix.lower() not in TEXT_TABLE_SUFFIXES
    ):
        return None
    with path.open("rb") as handle:
        head = handle.read(65536)
    if head.startswith((ZIP_MAGIC, OLE_MAGIC, b"%PDF")):
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif looks_binary(head[:4096]):
        return None
    else:
        encoding = next((e for e in CSV_ENCODINGS if decodes(path, e)), None)
        if encoding is None:
            return None
    text = head.decode(encoding, errors="ignore").lstrip()
    if not text or text.startswith("<"):
        return None  # whitespace, or an HTML export: the whole-file path decides
    return encoding


NUL = b"\x00"  # a file holding one has every text cell checked for it (etl.ingest.parse.values)


def bytes_held(path: Path, needles: tuple[bytes, ...], block_bytes: int = 8 << 20) -> set[bytes]:
    """Which of ``needles`` the file's bytes hold — a NUL, the text literal's mark (etl.ingest.read.text_literals)
    — in one pass, block by block, a needle across two blocks too."""
    found: set[bytes] = set()
    overlap = max(map(len, needles), default=1) - 1
    tail = b""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(block_bytes), b""):
            data = tail + block
            found.update(needle for needle in needles if needle in data)
            if len(found) == len(needles):
                break
            tail = data[-overlap:] if overlap else b""
    return found


def decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes (what ``bytes.decode`` would say), one block at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(8 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def file_delimiter(path: Path, encoding: str) -> str:
    """The file's field delimiter, judged as the whole-file path judges it (``readers.text_delimiter``)."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as handle:
        return text_delimiter(handle.read(DELIMITER_HEAD_CHARS))


def head_records(path: Path, encoding: str, delimiter: str = ",") -> list[list[str]]:
    """The first records, with the csv module's field size limit (``Limits.max_field_bytes``'s default):
    a longer field sends the file to be read whole, whose limits reject it with the reason."""
    try:
        with path.open("r", encoding=encoding, newline="") as handle:
            return [list(r) for r in itertools.islice(csv.reader(handle, delimiter=delimiter), HEAD_RECORDS)]
    except csv.Error as exc:
        raise ReadWhole(f"the head records are not plain CSV: {exc}") from exc


def record_chunks(path: Path, encoding: str, head: list[list[str]], chunk_rows: int, delimiter: str = ","):
    """The file's records as DataFrames of text cells ("" where a record is short), positional columns,
    index = record number from 0. The first records must be the csv module's (``head``, read with the
    same ``delimiter``)."""
    width = max((len(r) for r in head), default=1)
    reader = pd.read_csv(
        path,
        sep=delimiter,
        header=None,
        names=list(range(width)),
        index_col=False,
        dtype=object,
        na_filter=False,
        keep_default_na=False,
        skip_blank_lines=False,
        # pandas' C parser decodes UTF-8 itself and drops a leading BOM; any other name (utf-8-sig too)
        # makes it decode through Python first: 0.2 s a million rows. The head check below would catch a
        # difference.
        encoding="utf-8" if encoding == "utf-8-sig" else encoding,
        encoding_errors="strict",
        quotechar='"',
        doublequote=True,
        escapechar=None,
        skipinitialspace=False,
        quoting=csv.QUOTE_MINIMAL,
        engine="c",
        chunksize=chunk_rows,
    )
    checked = False
    first = max(1, min(chunk_rows, FIRST_CHUNK_ROWS))  # a small first chunk: the database starts sooner
    try:
        while True:
            try:
                chunk = reader.get_chunk(first if not checked else chunk_rows)
            except StopIteration:
                break
            # With na_filter off pandas 3 gives a short record's missing fields as "". Should a version give
            # NaN, the last column holds one: checked there, not over the whole chunk (0.3 s a million rows).
            if chunk[width - 1].isna().any():
                chunk = chunk.fillna("")
            if not checked:
                compare = chunk.iloc[: len(head)].to_numpy(dtype=object).tolist()
                padded = [r + [""] * (width - len(r)) for r in head]
                if compare != padded[: len(compare)]:
                    raise ReadWhole("pandas and the csv module read the first records differently")
                checked = True
            yield chunk
    except pd.errors.ParserError as exc:
        raise ReadWhole(f"a record wider than the head: {exc}") from exc
    finally:
        reader.close()
