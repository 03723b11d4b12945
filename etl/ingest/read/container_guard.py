"""What a zip container (xlsx, xlsm, ods) really holds, found out without trusting it and without ever
holding more than a megabyte of it: the sizes its directory declares, what its members actually inflate
to, and the rectangle of cells its worksheets reach (python-calamine allocates rows × columns of the last
used cell: one cell at XFD1048576 is a 512 GB allocation).

``check_declared`` reads the central directory only (microseconds) and runs before any reader sees the
file. ``scan_actual`` inflates every member from its raw deflate stream, whatever sizes the headers
claim, counting bytes and scanning worksheet XML for cell references; it runs while the reader child
process (``etl.ingest.read.isolated``) reads the file under its memory limit, and the file is rejected with
the reason of the first limit it finds broken. Beside the child it leaves the rectangle out
(``extent=False``): the child checks the rectangle python-calamine allocated, and only when the child
dies under its memory limit does a second scan measure the rectangle to name the limit broken.
"""

from __future__ import annotations

import html
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from etl.ingest.read.limits import Limits, mib

BLOCK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_ROW = re.compile(rb"<row[\s>/]")
_CELL = re.compile(rb"<c[\s>/]")
_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,4})(\d{1,9})"')
_ROW_REF = re.compile(rb'<row\b[^>]*?\br="(\d{1,9})"')
_ERROR_CELL = re.compile(rb'<c [^>]*t="e"')
# A formula cell saved without its result: no <v>, or an empty one where the result is no text (t="str"
# with an empty <v> is a formula whose result is ""). openpyxl and other programs write formulas so; Excel,
# WPS and LibreOffice always save the result. Group 1: the formula (None for a shared formula's later cells).
_UNCACHED_FORMULA = re.compile(
    rb'<c\b(?![^>]*\bt="(?:str|e|inlineStr)")[^>]*>\s*<f\b[^>]*(?:/>|>([^<]*)</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)
MAX_UNCACHED_FORMULAS = 100_000  # cells of a file marked one by one; more and the file is turned away
_LONGEST_CELL = 1 << 16  # an unfinished cell carried over to the next piece, at most (a formula ≤ 8,192 characters)


@dataclass
class ContainerFacts:
    """What ``scan_actual`` found besides the limits: the first member whose data or CRC is broken (what
    ``ZipFile.testzip`` says) and whether a worksheet holds formula error cells (``t="e"``), which
    python-calamine reads as blanks."""

    broken: str | None = None
    error_cells: bool = False
    nul_escapes: bool = False  # a member escapes a NUL character (_x0000_): python-calamine decodes it
    # formula cells saved without their result, which python-calamine reads as blanks: worksheet member →
    # [(row, column, formula)], 0-based
    uncached_formulas: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    # worksheets holding such a formula in a cell without a reference (r=): located by counting
    # (etl.ingest.read.uncached_formulas.locate_uncached_formulas)
    unlocated_formulas: set[str] = field(default_factory=set)


class LimitExceeded(Exception):
    """A file over one of ``etl.ingest.read.limits.Limits``: ``zh`` names the limit for the clerk."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def check_declared(path: Path, limits: Limits) -> None:
    """The central directory's own figures: member sizes, their total and compression ratios."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return  # the reader says why it cannot open it
    total = 0
    for info in infos:
        _check_member_size(info.filename, info.file_size, info.compress_size, limits)
        total += info.file_size
        if total > limits.max_unpacked_bytes:
            raise _unpacked_total(limits)


def scan_actual(path: Path, limits: Limits, extent: bool = True) -> ContainerFacts:
    """Inflate every member from its raw stream, bounded, and measure what it really is (raises
    LimitExceeded at the first limit broken). Each member is inflated once, for all of it. ``extent=False``:
    the rectangle each worksheet reaches is not measured (three quarters of the scan's time on a large
    sheet) — for a reader that checks the rectangle python-calamine allocated before it makes a Python
    object per cell, and dies under its memory limit if the rectangle is too large to allocate; the scan
    with ``extent`` then says which limit the file broke (etl.ingest.read.isolated)."""
    facts = ContainerFacts()
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            labels = _tab_names(archive)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return facts
    total = 0
    with path.open("rb") as handle:
        for info in infos:
            sheet = _SheetExtent(limits, extent, labels.get(info.filename)) if _is_worksheet(info.filename) else None
            size, intact, nul = _inflate(handle, info, limits, sheet, total)
            total += size
            if sheet is not None:
                sheet.feed(b"", info.filename, final=True)
                facts.error_cells = facts.error_cells or sheet.error_cells
                if sheet.uncached:
                    facts.uncached_formulas[info.filename] = sheet.uncached
                if sheet.unlocated:
                    facts.unlocated_formulas.add(info.filename)
            if not intact and facts.broken is None:
                facts.broken = info.filename
            facts.nul_escapes = facts.nul_escapes or nul
    return facts


_TAG_ATTRIBUTES = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')
_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_NAMES_READ = 1 << 20  # the workbook part and its relationships are a few KB; the scan reads no larger ones


def worksheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member (xl/worksheets/sheet1.xml) → the sheet's name, from the workbook and its relationships."""
    try:
        workbook = archive.read("xl/workbook.xml")
        relationships = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for tag in _RELATIONSHIP_TAG.finditer(relationships):
        attributes = dict(_TAG_ATTRIBUTES.findall(tag.group(1)))
        if b"Id" in attributes and b"Target" in attributes:
            targets[attributes[b"Id"]] = html.unescape(attributes[b"Target"].decode("utf-8", "replace"))
    names = {}
    for tag in _SHEET_TAG.finditer(workbook):
        attributes = dict(_TAG_ATTRIBUTES.findall(tag.group(1)))
        relation = next((v for k, v in attributes.items() if k.endswith(b":id")), None)
        target = targets.get(relation)
        if target is None or b"name" not in attributes:
            continue
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        names[member] = html.unescape(attributes[b"name"].decode("utf-8", "replace"))
    return names


def _tab_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """``worksheet_names`` for the scan's reasons, before any member is measured: {} when a part is over
    ``_NAMES_READ`` or cannot be read (the reason then names the member)."""
    try:
        if any(archive.getinfo(p).file_size > _NAMES_READ for p in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")):
            return {}
        return worksheet_names(archive)
    except (KeyError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, RuntimeError):
        return {}


def _is_worksheet(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _check_member_size(name: str, size: int, compressed: int, limits: Limits) -> None:
    if size > limits.max_member_bytes:
        raise LimitExceeded(
            f"文件内部的「{_short(name)}」解压后超过 {mib(limits.max_member_bytes)} 的上限"
            f"（max_member_bytes），可能是压缩炸弹或异常文件，未读取；请用 Excel/WPS 另存后重新提交",
            f"member {name} unpacks to more than max_member_bytes={limits.max_member_bytes}",
        )
    if size > BLOCK and size > limits.max_compression_ratio * max(compressed, 1):
        raise LimitExceeded(
            f"文件内部的「{_short(name)}」压缩比超过 {limits.max_compression_ratio} 倍的上限"
            "（max_compression_ratio），可能是压缩炸弹，未读取；请用 Excel/WPS 另存后重新提交",
            f"member {name} compression ratio over max_compression_ratio={limits.max_compression_ratio}",
        )


def _unpacked_total(limits: Limits) -> LimitExceeded:
    return LimitExceeded(
        f"文件解压后总大小超过 {mib(limits.max_unpacked_bytes)} 的上限（max_unpacked_bytes），未读取",
        f"members unpack to more than max_unpacked_bytes={limits.max_unpacked_bytes}",
    )


def _short(name: str) -> str:
    return name if len(name) <= 60 else name[:57] + "…"


def _inflate(handle, info: zipfile.ZipInfo, limits: Limits, sheet, total_before: int) -> tuple[int, bool, bool]:
    """Bytes the member really inflates to (stops with LimitExceeded past a limit), whether its data is
    intact (it inflates to its end and matches its CRC), and whether it escapes a NUL (``_x0000_``)."""
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        return 0, False, False
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
    handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    if info.compress_type == zipfile.ZIP_STORED:
        stream, size = None, 0
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        stream, size = zlib.decompressobj(-15), 0
    else:
        raise LimitExceeded(
            "文件使用了不支持的压缩方式，请用 Excel/WPS 另存为 xlsx 后重新提交",
            f"member {info.filename} uses compression method {info.compress_type}",
        )
    remaining_stored = info.compress_size
    read, crc, intact, nul, tail = 0, 0, True, False, b""
    while True:
        if stream is None:
            block = handle.read(min(BLOCK, remaining_stored))
            remaining_stored -= len(block)
            output = [block] if block else []
            done = not block or remaining_stored <= 0
            intact = remaining_stored <= 0
        else:
            block = handle.read(BLOCK)
            read += len(block)
            output, done, damaged = _deflate_block(stream, block)
            intact = intact and not damaged
        for piece in output:
            size += len(piece)
            crc = zlib.crc32(piece, crc)
            nul = nul or b"_x0000_" in tail + piece[:7] or b"_x0000_" in piece
            tail = piece[-6:]
            if size > min(BLOCK, limits.max_member_bytes):  # size and ratio so far (the ratio counts past 1 MiB)
                _check_member_size(info.filename, size, max(read, info.compress_size), limits)
            if total_before + size > limits.max_unpacked_bytes:
                raise _unpacked_total(limits)
            if sheet is not None:
                sheet.feed(piece, info.filename)
        if done:
            if stream is not None and not stream.eof:
                intact = False  # cut short
            return size, intact and crc == info.CRC, nul


def _deflate_block(stream, block: bytes) -> tuple[list[bytes], bool, bool]:
    """Inflate one block of raw input in pieces of at most BLOCK bytes each: (pieces, done, damaged)."""
    pieces = []
    data = block
    try:
        while True:
            piece = stream.decompress(data, BLOCK)
            if piece:
                pieces.append(piece)
            data = stream.unconsumed_tail
            if stream.eof or not data:
                break
    except zlib.error:
        return pieces, True, True
    return pieces, stream.eof or not block, False


class _SheetExtent:
    """The rectangle one worksheet's cells reach, from its XML as it streams by."""

    def __init__(self, limits: Limits, measure: bool = True, label: str | None = None):
        self.limits, self.measure = limits, measure  # measure: the rectangle (else formulas and errors only)
        self.label = label  # the tab's name, for a reason (default: the member's file name)
        self.carry = b""
        self.rows = self.cells = self.max_row = self.max_column = 0
        self.error_cells = False
        self.uncached: list[tuple[int, int, str]] = []
        self.open_cell = b""  # a cell the last piece ended in, for the uncached formula search
        self.unlocated = False  # an uncached formula in a cell without a reference (r=)

    def feed(self, piece: bytes, name: str, final: bool = False) -> None:
        """Count the tags in ``piece``; a tag cut at the end waits for the next piece (``final``: no more)."""
        data = self.carry + piece
        cut = data.rfind(b"<")
        if final or cut <= 0 or len(data) - cut > BLOCK:
            cut = len(data)
        data, self.carry = data[:cut], data[cut:]
        if not self.error_cells and b't="e"' in data:  # a substring test first: the pattern walks every cell
            self.error_cells = _ERROR_CELL.search(data) is not None
        self._find_uncached(self.open_cell + data, name)
        if not self.measure:
            return
        self.rows += len(_ROW.findall(data))
        self.cells += len(_CELL.findall(data))
        refs = _CELL_REF.findall(data)
        if refs:
            self.max_column = max(self.max_column, max(column_number(c) for c in {c for c, _ in refs}))
            self.max_row = max(self.max_row, max(map(int, (r for _, r in refs))))
        for r in _ROW_REF.findall(data):
            self.max_row = max(self.max_row, int(r))
        self._check(name)

    def _find_uncached(self, data: bytes, name: str) -> None:
        """Formula cells without their result in ``data``; a cell cut off at its end waits for the next piece."""
        for match in _UNCACHED_FORMULA.finditer(data) if b"<f" in data else ():
            ref = _CELL_REF.match(match.group(0))
            if ref is None:  # its place is counted from the cells before it, once the scan is over
                self.unlocated = True
                continue
            if len(self.uncached) >= MAX_UNCACHED_FORMULAS:
                raise LimitExceeded(
                    f"工作表（{self.label or name.rsplit('/', 1)[-1]}）中有超过 {MAX_UNCACHED_FORMULAS} 个公式没有计算结果"
                    "（文件可能由程序生成、从未在 Excel/WPS 中保存过）；请用 Excel/WPS 打开、保存后重新提交",
                    f"{name} holds more than {MAX_UNCACHED_FORMULAS} formula cells without a cached result",
                )
            formula = match.group(1)
            text = html.unescape(formula.decode("utf-8", "replace")) if formula else ""
            self.uncached.append((int(ref.group(2)) - 1, column_number(ref.group(1)) - 1, text))
        start = max(data.rfind(b"<c "), data.rfind(b"<c>"))
        unfinished = start >= 0 and data.find(b"</c>", start) < 0 and not data[start:].split(b">", 1)[0].endswith(b"/")
        self.open_cell = data[start:] if unfinished and len(data) - start <= _LONGEST_CELL else b""

    def _check(self, name: str) -> None:
        label = self.label or name.rsplit("/", 1)[-1]
        check_extent(label, max(self.rows, self.max_row), self.max_column, self.cells, self.limits)


def check_extent(sheet: str, rows: int, columns: int, cells: int, limits: Limits) -> None:
    """Raise LimitExceeded, naming the limit, when a sheet reaches ``rows`` × ``columns`` (its last used
    row and column, 1-based) or holds ``cells`` cells beyond what ``limits`` allow."""
    columns = max(columns, 1)
    if rows > limits.max_rows:
        raise LimitExceeded(
            f"工作表（{sheet}）用到了第 {rows} 行，超过 {limits.max_rows} 行的上限（max_rows）；"
            "请删除表格下方多余的内容后重新提交",
            f"{sheet} reaches row {rows}, over max_rows={limits.max_rows}",
        )
    if columns > limits.max_columns:
        raise LimitExceeded(
            f"工作表（{sheet}）用到了第 {columns} 列，超过 {limits.max_columns} 列的上限"
            "（max_columns）；请删除表格右侧多余的内容后重新提交",
            f"{sheet} reaches column {columns}, over max_columns={limits.max_columns}",
        )
    if rows * columns > limits.max_cells or cells > limits.max_cells:
        raise LimitExceeded(
            f"工作表（{sheet}）的范围达 {rows} 行 × {columns} 列，超过 {limits.max_cells} 个"
            "单元格的上限（max_cells）；请删除多余内容，或导出为 CSV 后重新提交",
            f"{sheet} spans {rows}x{columns} cells, over max_cells={limits.max_cells}",
        )


def column_number(letters: bytes) -> int:
    """A reference's column letters (b"AB") as the column's number, 1-based."""
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number
