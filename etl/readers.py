"""Read a district file into plain rows of cell values, whatever the container.

python-calamine reads xlsx/xlsm/xls/ods about ten times faster than openpyxl; CSVs are decoded by trying
the encodings Chinese Windows and web systems actually produce.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
CSV_SUFFIXES = {".csv", ".txt"}
SUPPORTED_SUFFIXES = SPREADSHEET_SUFFIXES | CSV_SUFFIXES
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class UnreadableFile(Exception):
    """The file cannot be read as a table; ``zh`` tells the clerk why."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass
class Sheet:
    name: str
    rows: list[list[object]]
    visible: bool = True
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based, inclusive


def read_sheets(path: Path) -> list[Sheet]:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return [Sheet(path.stem, _read_csv(path.read_bytes()))]
    if suffix in SPREADSHEET_SUFFIXES:
        return _read_spreadsheet(path)
    raise UnreadableFile(f"不支持的文件类型「{path.suffix}」，请提交 xlsx、xls 或 csv 文件",
                         f"unsupported file type {path.suffix!r}")


def _read_spreadsheet(path: Path) -> list[Sheet]:
    import python_calamine as calamine

    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
        sheets = []
        for meta in workbook.sheets_metadata:
            sheet = workbook.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False)
            merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
            visible = meta.visible == calamine.SheetVisibleEnum.Visible
            sheets.append(Sheet(meta.name, [list(r) for r in rows], visible, merged))
        return sheets
    except calamine.PasswordError as exc:
        raise UnreadableFile("文件已加密，请取消密码后重新提交", "the workbook is password-protected") from exc
    except Exception as exc:  # calamine raises several error types for broken containers
        raise UnreadableFile("文件已损坏或不是有效的表格文件，请用 Excel/WPS 打开确认后另存为 xlsx 重新提交",
                             f"cannot read the workbook: {exc}") from exc


def _read_csv(data: bytes) -> list[list[object]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        for encoding in CSV_ENCODINGS:
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UnreadableFile("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV", "unknown text encoding")
    return [list(row) for row in csv.reader(io.StringIO(text))]
