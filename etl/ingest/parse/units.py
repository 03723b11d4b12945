"""Units written in number cells (30吨, 7874.97万元, 30分钟), read against the unit of their column.

A contract column may name its unit (清运垃圾（吨）, 总投资（万元）, 服务时长（小时）). A number written with a
unit is read in the column's unit when the two count or measure the same thing — the same unit or one
clerks write for it (人/名/人次, 台/辆/台次, 立方米/方, 工作日/天), a smaller one (30分钟 in hours is 0.5),
or the column's unit without its 万 (78749700元 or 7874.97万元 in 万元 are both 7874.97) — and is a
finding when they do not (30车次 in tons, 3天 in hours): read as the bare number, it would be a figure
of another thing. A column that names no unit takes any, as written. A bare number is in the unit the
file's header names for the column (总投资（元）, 服务时长（分钟）: ``written_factor``), else in the contract's.
"""

from __future__ import annotations

from fractions import Fraction

# Units a number cell may carry (longest first where one begins another: 人次 before 人).
UNITS = (
    "立方米",
    "公斤",
    "千克",
    "kg",
    "KG",
    "Kg",
    "个工作日",
    "工作日",
    "个小时",
    "分钟",
    "人次",
    "台次",
    "车次",
    "小时",
    "吨",
    "车",
    "日",
    "人",
    "名",
    "位",
    "台",
    "辆",
    "趟",
    "方",
    "条",
    "座",
    "栋",
    "幢",
    "套",
    "个",
    "户",
    "次",
    "天",
    "处",
    "支",
    "家",
    "件",
    "元",
)
MULTIPLIERS = {"万": 10_000, "千": 1_000, "亿": 100_000_000}

# For each unit a contract column is in: the units a cell of it may be written in, and how many of the
# column's units one of them is. 个 counts anything countable.
_COUNTS = {"个": Fraction(1)}
ACCEPTED: dict[str, dict[str, Fraction]] = {
    "人次": {
        "人次": Fraction(1),
        "人": Fraction(1),
        "名": Fraction(1),
        "位": Fraction(1),
        "次": Fraction(1),
        **_COUNTS,
    },
    "人": {"人": Fraction(1), "名": Fraction(1), "位": Fraction(1), "人次": Fraction(1), **_COUNTS},
    "台次": {
        "台次": Fraction(1),
        "台": Fraction(1),
        "辆": Fraction(1),
        "次": Fraction(1),
        "车次": Fraction(1),
        "趟": Fraction(1),
        **_COUNTS,
    },
    "车次": {"车次": Fraction(1), "次": Fraction(1), "趟": Fraction(1), "车": Fraction(1)},
    "吨": {"吨": Fraction(1), **dict.fromkeys(("公斤", "千克", "kg", "KG", "Kg"), Fraction(1, 1000))},
    "立方米": {"立方米": Fraction(1), "方": Fraction(1)},
    "条": {"条": Fraction(1), **_COUNTS},
    "座": {"座": Fraction(1), **_COUNTS},
    "个": {"个": Fraction(1), "处": Fraction(1), "套": Fraction(1), "台": Fraction(1)},
    "户": {"户": Fraction(1)},
    "栋": {"栋": Fraction(1), "幢": Fraction(1), "座": Fraction(1), **_COUNTS},
    "次": {"次": Fraction(1)},
    "工作日": {"工作日": Fraction(1), "个工作日": Fraction(1), "天": Fraction(1), "日": Fraction(1)},
    "小时": {"小时": Fraction(1), "个小时": Fraction(1), "分钟": Fraction(1, 60)},
    "元": {"元": Fraction(1)},
}


def column_scale(unit: str) -> tuple[str, int]:
    """A column's unit as (base unit, multiplier): 万元 → (元, 10000), 吨 → (吨, 1)."""
    if len(unit) > 1 and unit[0] in MULTIPLIERS:
        return unit[1:], MULTIPLIERS[unit[0]]
    return unit, 1


def in_column_units(cell_unit: str | None, column_unit: str) -> Fraction | None:
    """How many of the column's units (万 included: 万元) one ``cell_unit`` is — one of its base unit when
    the cell names none (7874.97万 in 万元); None when the two are not the same quantity. A column unit this
    table does not know takes only itself."""
    base, scale = column_scale(column_unit)
    per = ACCEPTED.get(base, {base: Fraction(1)}).get(cell_unit) if cell_unit else Fraction(1)
    return None if per is None else per / scale


def written_factor(written: str, column_unit: str) -> Fraction | None:
    """How many of the column's units a bare number under a header naming ``written`` (元, 分钟, 万立方米)
    is: 1 when ``written`` is no unit at all (人数, 详细), None when it is a unit of another quantity."""
    named = unit_named(written)
    if named is None:
        return Fraction(1)
    unit, mult = named
    factor = in_column_units(unit, column_unit)
    return None if factor is None else factor * mult


def unit_named(written: str) -> tuple[str, int] | None:
    """The unit and multiplier ``written`` names (万元 → (元, 10000), 公斤 → (公斤, 1)), None when it names
    no unit (人数)."""
    mult = MULTIPLIERS.get(written[:1], 1) if len(written) > 1 and written[1:] in UNITS else 1
    unit = written[1:] if mult != 1 else written
    return (unit, mult) if unit in UNITS else None
