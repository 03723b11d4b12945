"""Excel's text literal ``="…"`` in a text table's cells, read as Excel shows it.

Systems that export CSV for Excel write a code or an ID as ``="0012"`` or ``="MS21000000"`` so that Excel
keeps its leading zeros and digits instead of reading a number: Excel evaluates the cell and shows
0012. Read as written, the warehouse would hold ``="MS21000000"`` as a ticket number and a time written so
would be no time. A cell that is exactly such a literal (``="…"``, quotes inside doubled) is read as its
text; anything else — ``=A1+1``, ``="a"&"b"`` — stays as written (and a value that starts with = is written
back as text wherever we hand it out: etl.excel_safe).

Workbooks need none of this: a formula cell's cached value is read (python-calamine), not its formula.
"""

from __future__ import annotations

import re

import pandas as pd

MARK = '="'
_LITERAL = re.compile(r'="((?:[^"]|"")*)"', re.DOTALL)


def text_literal(cell: str) -> str:
    """``cell`` as Excel shows it: ="0012" → 0012, ="a""b" → a"b; any other text as written."""
    match = _LITERAL.fullmatch(cell)
    return match[1].replace('""', '"') if match else cell


def unwrap_rows(rows: list[list[str]]) -> list[list[str]]:
    """A text table's records with every text literal read as its text (the rows themselves, changed in place)."""
    for row in rows:
        for i, cell in enumerate(row):
            if cell.startswith(MARK):
                row[i] = text_literal(cell)
    return rows


def unwrap_chunk(chunk: pd.DataFrame) -> pd.DataFrame:
    """``unwrap_rows`` for a chunk of text cells (etl.ingest.read.csv_chunks.record_chunks), column by column."""
    for column in chunk.columns:
        values = chunk[column]
        literal = values.str.startswith(MARK, na=False)
        if literal.any():
            chunk[column] = values.where(~literal, values[literal].map(text_literal))
    return chunk


def marks(encoding: str) -> tuple[bytes, ...]:
    """``MARK`` as the bytes of a file in ``encoding`` (either byte order for UTF-16), to search the file for
    (etl.ingest.read.csv_chunks.bytes_held): a chunked file's chunks are unwrapped only when it holds one. In
    UTF-8 and GB18030 the two ASCII bytes cannot be part of another character; in UTF-16 a match astride two
    characters only costs the look at every cell."""
    if encoding.lower().replace("-", "").replace("_", "").startswith("utf16"):
        return (MARK.encode("utf-16-le"), MARK.encode("utf-16-be"))
    return (MARK.encode("ascii"),)  # the same bytes in UTF-8 (with or without BOM) and GB18030
