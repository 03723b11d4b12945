"""Tables out of HTML, for the ".xls"/".xlsx" files web systems export that are really HTML pages.

Only the standard library: rowspan/colspan become merged ranges, exactly as a workbook's merged cells
would, so the layout detection treats both the same way; a cell whose text is a formula error value
(#REF!, #DIV/0!, LibreOffice's Err:502) is one, as a workbook's error cell is.
"""

from __future__ import annotations

from html.parser import HTMLParser

from etl.ingest.read.limits import Limits


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple[str, int, int]]]] = []  # table → row → (text, rowspan, colspan)
        self._depth = 0
        self._row: list[tuple[str, int, int]] | None = None
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif self._depth == 1 and tag == "tr":
            self._row = []
        elif self._depth == 1 and tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._span = (_int(attrs.get("rowspan")), _int(attrs.get("colspan")))
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag == "table":
            self._depth -= 1
        elif self._depth == 1 and tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(("".join(self._cell).strip(), *self._span))
            self._cell = None
        elif self._depth == 1 and tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _int(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def html_tables(
    text: str, limits: Limits | None = None
) -> list[tuple[list[list[object]], list[tuple[tuple[int, int], tuple[int, int]]]]]:
    """Each table as (rows, merged ranges) with 0-based inclusive ranges, like python-calamine's. A table
    whose rows, columns or cells (rowspan × colspan counted) pass ``limits`` rejects the file."""
    from etl.ingest.read.office_facts import is_error_text
    from etl.ingest.read.readers import CellError, UnreadableFile

    limits = limits or Limits()
    parser = _TableParser()
    parser.feed(text)
    result = []
    for table in parser.tables:
        grid: dict[tuple[int, int], str] = {}
        merged = []
        occupied: set[tuple[int, int]] = set()
        for r, row in enumerate(table):
            c = 0
            for text_value, rowspan, colspan in row:
                while (r, c) in occupied:
                    c += 1
                if (
                    r + rowspan > limits.max_rows
                    or c + colspan > limits.max_columns
                    or len(occupied) + rowspan * colspan > limits.max_cells
                ):
                    raise UnreadableFile(
                        f"网页表格第{r + 1}行的合并单元格或表格大小超过上限（max_rows={limits.max_rows}、"
                        f"max_columns={limits.max_columns}、max_cells={limits.max_cells}），请检查后重新导出",
                        "an HTML table over the row, column or cell limits",
                    )
                # a formula error as the spreadsheet showed it (#REF!, #DIV/0!): what a workbook's error cell is
                grid[(r, c)] = (
                    CellError(text_value) if text_value[:1] in "#E" and is_error_text(text_value) else text_value
                )
                for dr in range(rowspan):
                    for dc in range(colspan):
                        occupied.add((r + dr, c + dc))
                if rowspan > 1 or colspan > 1:
                    merged.append(((r, c), (r + rowspan - 1, c + colspan - 1)))
                c += colspan
        if not occupied:
            continue
        height = max(r for r, _ in occupied) + 1
        width = max(c for _, c in occupied) + 1
        rows = [[grid.get((r, c), "") for c in range(width)] for r in range(height)]
        result.append((rows, merged))
    return result
