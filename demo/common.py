"""What every demo generator shares: the reporting units, the seed, a reproducible random generator per
file, xlsx saving with stable bytes, and the made-up communities of a district.

Everything here is public: generator modules import these names, never each other's private ones.
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from etl.reference.places import default_places

SEED = 20220105

CITY_FOLDER = "市本级"
CITY_CODE = "210500"

# Reporting units in output order: folder name (canonical), place code, the name a clerk writes.
UNITS: list[tuple[str, str, str]] = [
    ("市本级", "210500", "市本级"),
    ("平山区", "210502", "平山区"),
    ("溪湖区", "210503", "溪湖区"),
    ("明山区", "210504", "明山区"),
    ("南芬区", "210505", "南芬区"),
    ("本溪满族自治县", "210521", "本溪县"),
    ("桓仁满族自治县", "210522", "桓仁县"),
]
UNIT_FOLDERS = [folder for folder, _code, _short in UNITS]
SHORT = {folder: short for folder, _code, short in UNITS}
CODE = {folder: code for folder, code, _short in UNITS}
DISTRICTS = [folder for folder in UNIT_FOLDERS if folder != CITY_FOLDER]


def rng(*parts: object) -> random.Random:
    """An independent, reproducible generator per file (str seeds are hashed with SHA-512)."""
    return random.Random(":".join([str(SEED), *map(str, parts)]))


def inbox_of(shared_dir: Path) -> Path:
    """Where clerks drop their files: shared_dir/inbox/<reporting unit>/."""
    return Path(shared_dir) / "inbox"


# --------------------------------------------------------------------------------------------------
# xlsx writing with stable bytes

ZIP_EPOCH = (2022, 1, 5, 0, 0, 0)


def save_xlsx(wb: Workbook, path: Path, stamp: datetime) -> None:
    """Save like openpyxl.save_workbook but without the "modified = now" it forces, and with fixed zip
    entry timestamps, so the bytes depend only on the content."""
    wb.properties.creator = "Administrator"
    wb.properties.lastModifiedBy = "Administrator"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # closes the archive
    raw.seek(0)
    out = io.BytesIO()
    stamp_tuple = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp_tuple if stamp.year >= 1980 else ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


# --------------------------------------------------------------------------------------------------
# Exact totals


def exact_split(rng: random.Random, total: int, n: int, lo: int, hi: int) -> list[int]:
    """n integers in [lo, hi] summing exactly to total."""
    if not n * lo <= total <= n * hi:
        raise ValueError(f"cannot split {total} into {n} values in [{lo}, {hi}]")
    values = [rng.randint(lo, hi) for _ in range(n)]
    diff = total - sum(values)
    while diff:
        i = rng.randrange(n)
        if diff > 0 and values[i] < hi:
            values[i] += 1
            diff -= 1
        elif diff < 0 and values[i] > lo:
            values[i] -= 1
            diff += 1
    return values


def apportion(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Integers proportional to ``weights`` (largest remainder), each at least ``minimum``, summing exactly
    to ``total``."""
    n = len(weights)
    spare = total - n * minimum
    if spare < 0 or n == 0 or any(w < 0 for w in weights) or not sum(weights):
        raise ValueError(f"cannot apportion {total} over {n} weights with a minimum of {minimum}")
    scale = spare / sum(weights)
    shares = [w * scale for w in weights]
    values = [int(s) for s in shares]
    by_remainder = sorted(range(n), key=lambda i: (values[i] - shares[i], i))
    for i in by_remainder[: spare - sum(values)]:
        values[i] += 1
    return [v + minimum for v in values]


# --------------------------------------------------------------------------------------------------
# Places

COMMUNITY_NAMES = (
    "幸福",
    "和平",
    "东兴",
    "光明",
    "新华",
    "胜利",
    "铁路",
    "向阳",
    "建设",
    "永丰",
    "站前",
    "工人",
    "园林",
    "春光",
    "育才",
    "富民",
    "北山",
    "南山",
    "河畔",
    "丽景",
    "朝阳",
    "民主",
    "团结",
    "文化",
    "康乐",
    "福泰",
    "新兴",
    "宏达",
    "金山",
    "翠湖",
    "紫金",
    "太平",
    "长青",
    "振兴",
    "红旗",
    "锦绣",
    "安乐",
    "兴隆",
    "永安",
    "祥和",
    "东升",
    "新城",
    "华育",
    "景福",
    "钢城",
    "滨河",
    "溪园",
    "明珠",
    "彩虹",
    "桥北",
    "桥南",
    "东胜",
    "西城",
    "牡丹",
    "迎宾",
    "温泉",
    "广裕",
    "友谊",
    "曙光",
    "健康",
    "山城",
    "清河",
    "铁东",
    "金桥",
    "荣华",
    "丰收",
    "花园",
    "龙泉",
)
# communities named in the seed articles, pinned to their streets
SEED_COMMUNITIES = {("平山区", "千金街道"): "化肥社区", ("本溪满族自治县", "观音阁街道"): "棉织社区"}
VILLAGE_NAMES = (
    "大堡",
    "双岭",
    "老秃顶",
    "夹河",
    "偏岭",
    "南甸",
    "高台",
    "黑沟",
    "石门",
    "马家",
    "红土",
    "柳河",
    "东营坊",
    "西江",
    "二道沟",
    "三道岭",
    "碱厂",
    "太平哨",
    "北甸",
    "下甸",
    "蒲石河",
    "汤沟",
    "大川",
    "青石",
    "古城",
    "八里甸",
    "四平",
    "砬子",
    "对面",
    "头道岭",
    "榆树",
    "沙河",
    "向阳",
    "新开岭",
    "卧龙",
    "窑沟",
    "老边沟",
    "宽甸",
    "荒沟",
    "平岭",
)


def default_places_streets(district: str) -> list[str]:
    """Street names of a district (canonical folder name), in places.yaml order."""
    places = default_places()
    code = CODE[district]
    return [p.name for p in places.places if p.level == "street" and p.parent_code == code]


streets_of = default_places_streets


def communities(rng: random.Random, district: str) -> dict[str, list[str]]:
    """street → community/village names (made up; the reference data has streets only)."""
    streets = default_places_streets(district)
    pool = list(COMMUNITY_NAMES)
    villages = list(VILLAGE_NAMES)
    rng.shuffle(pool)
    rng.shuffle(villages)
    out: dict[str, list[str]] = {}
    for street in streets:
        k = rng.randint(5, 8)
        if street.endswith("镇"):
            out[street] = [f"{villages.pop()}村" for _ in range(k)]
        else:
            out[street] = [f"{pool.pop()}社区" for _ in range(k)]
        pinned = SEED_COMMUNITIES.get((district, street))
        if pinned:
            out[street][0] = pinned
    return out
