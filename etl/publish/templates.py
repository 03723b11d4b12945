"""Official blank templates (填报模板) for district clerks, generated from the report contracts and their
Great Expectations suites — never from hand-listed headers, so a template cannot drift from what the
parser and the rules expect.

Each workbook has:

* ``填表说明``   instructions generated from the contract and the suite: every column's header, whether the
                column must be present and whether it may be empty, its kind and unit, the allowed values
                (the suite's ``expect_column_values_to_be_in_set`` lists), ranges, date formats, the rule texts
                (``meta.message_zh``), the file name and folder the file goes into;
* ``<title_zh>`` the data sheet: a merged title row (title, with the district when given), the canonical
                Chinese headers in row 2 (bold, filled), column widths, number formats, drop-downs for the
                district, street, yes/no and every enum column, whole-number/decimal ranges from the suite,
                date validations; the sheet is protected **without a password** (审阅 → 撤销工作表保护
                lifts it): the title and header are locked, the first ``DATA_ROWS`` data rows are unlocked;
                panes are frozen below the header;
* ``选项``      a hidden sheet holding the lists too long for an inline list formula (Excel limits those to
                255 characters), referenced by range from the validations.

Every cell is written through ``set_cell`` so formula-looking text stays text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from etl.contracts import CONTRACTS, Column, ReportContract
from etl.excel_safe import set_cell, write_workbook
from etl.ingest.validate.suite import load_suite_json
from etl.reference.places import Place, Places, default_places

INSTRUCTIONS_SHEET = "填表说明"
OPTIONS_SHEET = "选项"
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3
DATA_ROWS = 2000  # unlocked, validated rows below the header
LAST_DATA_ROW = FIRST_DATA_ROW + DATA_ROWS - 1
SHEET_PASSWORD = None  # documented: the data sheet is protected without a password
CITY_LEVEL = "市本级"
BOOL_VALUES = ("是", "否")
# Excel's limit on an inline list formula is 255 characters; counted here as GBK bytes (a Chinese
# character counts twice), which stays inside the limit in every Excel and WPS version.
INLINE_LIST_LIMIT = 255
DATE_MIN, DATE_MAX = "DATE(2000,1,1)", "DATE(2099,12,31)"
PROMPT_LIMIT, ERROR_LIMIT, TITLE_LIMIT = 255, 225, 32  # Excel's limits on validation messages

KIND_ZH = {
    "text": "文本",
    "code": "编码（按文本填写，保留前导 0）",
    "int": "整数",
    "decimal": "数值（可有小数）",
    "date": "日期",
    "datetime": "日期时间",
    "bool": "是/否",
    "district": "区县名称",
    "street": "街道（乡镇）名称",
}
NUMBER_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "int": "0", "decimal": "General"}
DATE_HELP = {
    "date": "日期，如 2021-07-28（也可写 2021/7/28、2021年7月28日）",
    "datetime": "日期和时间，如 2021-09-24 10:05（精确到分钟）",
}
PERIOD_EXAMPLES = {"quarter": "2021Q4", "month": "2022-03", "day": "2021-07-29"}
PERIOD_ZH = {"quarter": "季度", "month": "月", "day": "日"}

_THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True)
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)


# ---------------------------------------------------------------------------------------------------------
# What the suite says about a column
# ---------------------------------------------------------------------------------------------------------


def _column_of(expectation: dict) -> str | None:
    kwargs = expectation.get("kwargs", {})
    return kwargs.get("column") or kwargs.get("column_A")


def _unconditional(expectation: dict) -> bool:
    return "row_condition" not in expectation.get("kwargs", {})


def enum_values(suite: dict, column: str) -> list[str] | None:
    """The literal value set of the column's unconditional in-set expectation, or None (a ``$PARAMETER``
    set such as the district codes is resolved elsewhere)."""
    for e in suite.get("expectations", []):
        value_set = e.get("kwargs", {}).get("value_set")
        if (
            e.get("type") == "expect_column_values_to_be_in_set"
            and _column_of(e) == column
            and _unconditional(e)
            and isinstance(value_set, list)
        ):
            return [str(v) for v in value_set]
    return None


def value_range(suite: dict, column: str) -> tuple[float | None, float | None] | None:
    """(min, max) of the column's unconditional between expectation, or None."""
    for e in suite.get("expectations", []):
        if e.get("type") == "expect_column_values_to_be_between" and _column_of(e) == column and _unconditional(e):
            kwargs = e["kwargs"]
            return kwargs.get("min_value"), kwargs.get("max_value")
    return None


def not_null(suite: dict, column: str) -> str | None:
    """ "always" when the suite requires a value in every row, "conditional" when only under a condition."""
    found = None
    for e in suite.get("expectations", []):
        if e.get("type") == "expect_column_values_to_not_be_null" and _column_of(e) == column:
            if _unconditional(e):
                return "always"
            found = "conditional"
    return found


_GENERIC_MESSAGES = {"必填项为空"}


def rule_messages(suite: dict, column: str | None = None) -> list[str]:
    """The suite's ``meta.message_zh`` texts, for one column (its own rules) or, with ``column=None``, the
    rules that span several columns (compound uniqueness). Generic texts are left out."""
    messages: list[str] = []
    for e in suite.get("expectations", []):
        text = e.get("meta", {}).get("message_zh")
        if not text or text in _GENERIC_MESSAGES or text in messages:
            continue
        kwargs = e.get("kwargs", {})
        owners = {kwargs.get(k) for k in ("column", "column_A", "column_B")} - {None}
        if (column is None and not owners) or (column is not None and column in owners):
            messages.append(_severity_prefix(e) + text)
    return messages


def _severity_prefix(expectation: dict) -> str:
    severity = expectation.get("meta", {}).get("severity")
    return "（提示）" if severity == "warning" else ""


# ---------------------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------------------


def unit_label(place: Place, places: Places) -> str:
    """What the clerk writes for a reporting unit: the district's name, or 市本级 for the city level."""
    if place.level == "city":
        return CITY_LEVEL if places.aliases.get(CITY_LEVEL) == place.code else place.name
    return place.name


def resolve_unit(district: str | None, places: Places) -> Place | None:
    if district is None:
        return None
    place = places.resolve_district(district)
    if place is None:
        known = "、".join(unit_label(p, places) for p in places.reporting_units)
        raise ValueError(f"未知区县「{district}」（可用：{known}）")
    return place


def district_choices(unit: Place | None, places: Places) -> list[str]:
    if unit is not None:
        return [unit_label(unit, places)]
    return [unit_label(p, places) for p in places.reporting_units]


def street_choices(unit: Place | None, places: Places) -> list[str]:
    """Streets of the given district; every street when no district (or the city level) is given."""
    streets = [p for p in places.places if p.level == "street"]
    if unit is not None and unit.level == "district":
        streets = [p for p in streets if p.parent_code == unit.code]
    return [p.name for p in streets]


# ---------------------------------------------------------------------------------------------------------
# Column specification
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ColumnSpec:
    column: Column
    letter: str
    choices: list[str] | None  # drop-down values
    strict_choices: bool  # stop (True) or warn (False) on a value outside the list
    range: tuple[float | None, float | None] | None
    not_null: str | None

    @property
    def required_zh(self) -> str:
        return {"always": "必填", "conditional": "按条件必填"}.get(self.not_null, "选填")


def column_specs(contract: ReportContract, suite: dict, unit: Place | None, places: Places) -> list[ColumnSpec]:
    specs = []
    for i, col in enumerate(contract.columns, start=1):
        choices, strict = None, True
        if col.kind == "district":
            choices = district_choices(unit, places)
        elif col.kind == "street":
            choices, strict = street_choices(unit, places), False  # the street list is not exhaustive
        elif col.kind == "bool":
            choices = list(BOOL_VALUES)
        else:
            choices = enum_values(suite, col.name)
        bounds = value_range(suite, col.name) if col.kind in ("int", "decimal") else None
        specs.append(ColumnSpec(col, get_column_letter(i), choices, strict, bounds, not_null(suite, col.name)))
    return specs


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def range_zh(bounds: tuple[float | None, float | None] | None) -> str:
    if not bounds:
        return ""
    lo, hi = bounds
    if lo is not None and hi is not None:
        return f"{_number(lo)}–{_number(hi)}"
    return f"≥ {_number(lo)}" if lo is not None else f"≤ {_number(hi)}"


def column_help(spec: ColumnSpec, contract: ReportContract, suite: dict) -> str:
    """One paragraph for the instructions sheet: format, allowed values and the suite's rules."""
    col = spec.column
    parts: list[str] = []
    if col.kind in DATE_HELP:
        parts.append(DATE_HELP[col.kind])
    if col.kind == "district":
        parts.append(f"从下拉列表选择；市级单位填“{CITY_LEVEL}”" if len(spec.choices or []) > 1 else "从下拉列表选择")
    if col.kind == "street":
        parts.append("从下拉列表选择本区县的街道（乡镇）；名录外的街道可以填写，系统会提示核对")
    if col.kind == "bool":
        parts.append("填“是”或“否”")
    if col.kind in ("int", "decimal"):
        unit = f"，单位：{col.unit}" if col.unit else ""
        whole = "填整数" if col.kind == "int" else "填数字"
        zero = "；没有请填 0（留空按 0 计）" if col.blank_is_zero else ""
        parts.append(f"{whole}{unit}，只填数字，不要带单位或“余”“多”等字{zero}")
    if col.name == contract.date_column:
        parts.append(f"报表所属{PERIOD_ZH[contract.period_grain]}按本列日期确定")
    if col.name in contract.key:
        parts.append(
            "「" + "」+「".join(contract.column(k).header for k in contract.key) + "」的组合不得重复"
            if len(contract.key) > 1
            else "每条记录唯一，不得重复"
        )
    parts.extend(rule_messages(suite, col.name))
    return "；".join(p.rstrip("。；") for p in parts) + ("。" if parts else "")


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


def default_file_name(contract: ReportContract, unit: Place | None, places: Places) -> str:
    prefix = f"{unit_label(unit, places)}_" if unit is not None else ""
    return f"{prefix}{contract.title_zh}_填报模板.xlsx"


def write_template(
    report_type: str, target: Path, district: str | None = None, places: Places | None = None, root: Path | None = None
) -> Path:
    """Write the blank template of ``report_type`` and return its path. ``target`` is the .xlsx file to
    write, or a directory (existing, or any path without the .xlsx suffix) to write the default file name
    into. ``district`` (明山区, 明山, 市本级 …) narrows the district and street drop-downs and names the unit
    in the title; unknown names raise ValueError. ``root``: the shared folder when the target is in it
    (etl.excel_safe.write_workbook)."""
    if report_type not in CONTRACTS:
        raise ValueError(f"unknown report type {report_type!r}; known: {', '.join(sorted(CONTRACTS))}")
    places = places or default_places()
    contract = CONTRACTS[report_type]
    suite = load_suite_json(contract.suite_name)
    unit = resolve_unit(district, places)
    target = Path(target)
    if target.is_dir() or target.suffix.lower() != ".xlsx":
        target = target / default_file_name(contract, unit, places)
    specs = column_specs(contract, suite, unit, places)

    wb = Workbook()
    instructions = wb.active
    instructions.title = INSTRUCTIONS_SHEET
    data = wb.create_sheet(contract.title_zh[:31])
    options = wb.create_sheet(OPTIONS_SHEET)
    _write_instructions(instructions, contract, suite, specs, unit, places)
    _write_data_sheet(data, contract, specs, unit, places, options)
    if options.max_column == 1 and options["A1"].value is None:
        wb.remove(options)  # every list fitted inline
    else:
        options.sheet_state = "hidden"
        options.protection.sheet = True
    wb.active = wb.index(data)  # opens on the data sheet
    data.sheet_view.tabSelected = True
    return write_workbook(wb, target, root)


def write_all_templates(
    target_dir: Path, district: str | None = None, places: Places | None = None, root: Path | None = None
) -> list[Path]:
    """One template per report type into ``target_dir``; returns the paths, in report type order."""
    target_dir = Path(target_dir)
    if root is None:
        target_dir.mkdir(parents=True, exist_ok=True)
    return [write_template(rt, target_dir, district, places, root) for rt in sorted(CONTRACTS)]


def _title(contract: ReportContract, unit: Place | None, places: Places) -> str:
    return f"{unit_label(unit, places)}{contract.title_zh}" if unit is not None else contract.title_zh


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _write_data_sheet(
    ws, contract: ReportContract, specs: list[ColumnSpec], unit: Place | None, places: Places, options
) -> None:
    last = specs[-1].letter
    set_cell(ws.cell(TITLE_ROW, 1), _title(contract, unit, places))
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    ws.cell(TITLE_ROW, 1).font = TITLE_FONT
    ws.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[TITLE_ROW].height = 30
    ws.row_dimensions[HEADER_ROW].height = 36
    for i, spec in enumerate(specs, start=1):
        col = spec.column
        cell = set_cell(ws.cell(HEADER_ROW, i), col.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if spec.not_null == "always" else HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.protection = LOCKED
        number_format = NUMBER_FORMATS.get(col.kind, "@")
        for r in range(FIRST_DATA_ROW, LAST_DATA_ROW + 1):
            data_cell = ws.cell(r, i)
            data_cell.protection = UNLOCKED
            data_cell.number_format = number_format
        longest = max([_display_width(col.header), *(_display_width(v) for v in spec.choices or [])])
        if col.kind == "datetime":
            longest = max(longest, 18)
        elif col.kind == "date":
            longest = max(longest, 12)
        ws.column_dimensions[spec.letter].width = min(max(longest + 2, 10), 40)
        validation = _validation(spec, options)
        if validation is not None:
            ws.add_data_validation(validation)
            validation.add(f"{spec.letter}{FIRST_DATA_ROW}:{spec.letter}{LAST_DATA_ROW}")
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, 1)
    ws.protection.sheet = True
    if SHEET_PASSWORD:
        ws.protection.password = SHEET_PASSWORD
    ws.protection.formatColumns = False  # clerks may widen columns and rows on the protected sheet
    ws.protection.formatRows = False


def _prompt(spec: ColumnSpec) -> str:
    col = spec.column
    bits = [spec.required_zh, KIND_ZH[col.kind]]
    if col.unit:
        bits.append(f"单位：{col.unit}")
    if spec.range:
        bits.append(f"范围：{range_zh(spec.range)}")
    if col.kind in DATE_HELP:
        bits.append(DATE_HELP[col.kind])
    return "；".join(bits)[:PROMPT_LIMIT]


def _validation(spec: ColumnSpec, options) -> DataValidation | None:
    col = spec.column
    title = col.header[:TITLE_LIMIT]
    common = {
        "showErrorMessage": True,
        "showInputMessage": True,
        "allow_blank": True,
        "promptTitle": title,
        "prompt": _prompt(spec),
        "errorTitle": title,
    }
    if spec.choices:
        formula = list_formula(spec.choices, options, col.header)
        error = ("请从下拉列表中选择：" + "、".join(spec.choices))[:ERROR_LIMIT]
        if not spec.strict_choices:
            error = "该值不在名录中，仍要填写请点“是”，系统会提示核对"
        return DataValidation(
            type="list",
            formula1=formula,
            errorStyle="stop" if spec.strict_choices else "warning",
            error=error,
            **common,
        )
    if col.kind in ("int", "decimal") and spec.range:
        lo, hi = spec.range
        kind = "whole" if col.kind == "int" else "decimal"
        error = f"请填写{'整数' if kind == 'whole' else '数字'}，范围 {range_zh(spec.range)}"
        if lo is not None and hi is not None:
            return DataValidation(
                type=kind, operator="between", formula1=_number(lo), formula2=_number(hi), error=error, **common
            )
        operator, bound = ("greaterThanOrEqual", lo) if lo is not None else ("lessThanOrEqual", hi)
        return DataValidation(type=kind, operator=operator, formula1=_number(bound), error=error, **common)
    if col.kind in ("date", "datetime"):
        return DataValidation(
            type="date",
            operator="between",
            formula1=DATE_MIN,
            formula2=DATE_MAX,
            error=f"请填写有效的{DATE_HELP[col.kind]}",
            **common,
        )
    return None


def list_formula(values: list[str], options, label: str) -> str:
    """An inline list ("a,b,c") when it fits ``INLINE_LIST_LIMIT``, else a range on the hidden
    options sheet (one column per list, a label in row 1 that matches no report header)."""
    inline = '"' + ",".join(values) + '"'
    if _display_width(inline) <= INLINE_LIST_LIMIT and not any("," in v or '"' in v for v in values):
        return inline
    column = 1 if options["A1"].value is None else options.max_column + 1
    set_cell(options.cell(1, column), f"可选值：{label}")
    for r, value in enumerate(values, start=2):
        set_cell(options.cell(r, column), value)
    letter = get_column_letter(column)
    options.column_dimensions[letter].width = max(_display_width(v) for v in [label, *values]) + 8
    return f"{quote_sheetname(options.title)}!${letter}$2:${letter}${len(values) + 1}"


def list_values(workbook, validation: DataValidation) -> list[str]:
    """The values a list validation offers, inline or by range (for tests and checks)."""
    formula = validation.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, _, ref = formula.rpartition("!")
    ws = workbook[sheet.strip("'")]
    return [c.value for row in ws[ref.replace("$", "")] for c in row if c.value is not None]


def _write_instructions(
    ws, contract: ReportContract, suite: dict, specs: list[ColumnSpec], unit: Place | None, places: Places
) -> None:
    headers = (
        "表头（列名）",
        "列是否必备",
        "是否必填",
        "数据类型",
        "计量单位",
        "可选值或取值范围",
        "填写要求与校验规则",
    )
    widths = (24, 12, 12, 18, 10, 40, 70)
    set_cell(ws.cell(1, 1), f"{_title(contract, unit, places)}填表说明")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.cell(1, 1).font = TITLE_FONT
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width

    unit_name = unit_label(unit, places) if unit is not None else "本区县名称"
    example = PERIOD_EXAMPLES[contract.period_grain]
    grain = PERIOD_ZH[contract.period_grain]
    if contract.date_column:
        period_note = (
            f"报表所属{grain}按「{contract.column(contract.date_column).header}」列的日期确定；"
            f"文件名中也请注明，例如 {example}。"
        )
    else:
        period_note = f"报表所属{grain}从文件名读取，文件名中必须注明，例如 {example}。"
    notes = [
        (
            f"1. 请在工作表「{contract.title_zh[:31]}」第{FIRST_DATA_ROW}行起逐行填写，每行一条记录，"
            f"不要修改、增删或移动表头（第{HEADER_ROW}行），不要合并单元格。"
        ),
        f"2. 本表按{grain}报送。{period_note}",
        (
            f"3. 文件命名：{unit_name}_{contract.title_zh}_{example}.xlsx，放入共享文件夹 inbox/{unit_name}/ 下。"
            f"文件处理后会在 receipts/{unit_name}/ 下生成回执，说明是否入库以及每个有问题的单元格。"
        ),
        "4. 带下拉箭头的单元格请从列表中选择；日期请按“年-月-日”填写；数字列只填数字。",
        "5. 工作表已保护（没有密码），以防误改表头；如确需修改格式，可在“审阅 → 撤销工作表保护”中取消。",
        f"6. 同一{grain}重新提交更正后的文件，会替换此前已入库的数据（原数据保留为历史）；内容完全相同的文件视为重复提交。",
        (
            "7. 标“必填”的列每行都必须填写；“列是否必备”为“必备”的列不能删除。违反校验规则的文件会被退回，"
            "标“（提示）”的规则只提示、不退回。"
        ),
    ]
    row = 3
    for note in notes:
        set_cell(ws.cell(row, 1), note)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(headers))
        ws.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row].height = 32
        row += 1

    row += 1
    for i, text in enumerate(headers, start=1):
        cell = set_cell(ws.cell(row, i), text)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for spec in specs:
        row += 1
        col = spec.column
        allowed = "、".join(spec.choices) if spec.choices else range_zh(spec.range)
        if spec.choices and not spec.strict_choices:
            allowed += "（名录外的可填写，会提示核对）"
        values = (
            col.header,
            "必备" if col.required else "可选",
            spec.required_zh,
            KIND_ZH[col.kind],
            col.unit or "",
            allowed,
            column_help(spec, contract, suite),
        )
        for i, value in enumerate(values, start=1):
            cell = set_cell(ws.cell(row, i), value)
            cell.border = BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    table_rules = rule_messages(suite)
    if table_rules:
        row += 2
        set_cell(ws.cell(row, 1), "整表校验规则").font = HEADER_FONT
        for text in table_rules:
            row += 1
            set_cell(ws.cell(row, 1), f"· {text}")
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(headers))
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
