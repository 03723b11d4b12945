"""Build the office-suite fixtures of tests/etl/ingest/read/test_format_parity.py: the same workbooks as LibreOffice
saves them in every format the pipeline accepts.

Run from the repository root, on a machine with LibreOffice (CI has none and only reads what this wrote):

    .venv/bin/python tests/data/office_suite/make_fixtures.py

What it converts (each a *family*, one folder under tests/data/office_suite/):

* ``sample_flood``, ``sample_service``: the two xlsx samples of shared/samples/ (the CSV is not converted).
* ``demo_flood_pingshan``, ``demo_flood_mingshan``: flood dailies of demo.flood_cleanup (merged title, two-row
  header, 区县 merged down the column, 30余, —, a 合计 row of SUM formulas, the 填报人 footer).
* ``demo_rect_mingshan``, ``demo_rect_nanfen``: December rectification ledgers of demo.ledgers (区县
  merged down the column, dates in several number formats and as text, a 填表说明 sheet for some units).
* ``generated_0`` … ``generated_7``: flood dailies built here with openpyxl from a seed: 区县 merged in
  random runs down the column, a merged title row or none, a hidden sheet holding a complete decoy table
  (another district and day) before or after the data sheet, a 填表说明 sheet first or none, formula cells
  with cached values (=ROUND(…)), formula error cells (=1/0 → #DIV/0!, =#REF!) in a data column, text-written
  numbers (22余, ３０, 1.2万) and a 合计 row of SUM formulas, which skip those text cells.

Each family holds ``source/<report>.xlsx`` (the workbook as written by openpyxl: formulas without cached
values, as no spreadsheet ever opened it) and the same workbook as LibreOffice saves it — which recalculates every
formula on load, so these carry cached values as a file saved by Excel or WPS does:

    soffice -env:UserInstallation=file://<tmp profile> --headless --convert-to <target> --outdir <dir> <files>

with <target> one of ``xlsx`` (Calc MS Excel 2007 XML), ``xlsm:"Calc MS Excel 2007 VBA XML"``, ``xls``
(MS Excel 97), ``ods`` (calc8) and ``html`` (HTML (StarCalc): one <table> per visible sheet, merged
cells as rowspan/colspan, hidden sheets left out). Every converted file is named after the family's
report file (the name carries the period), e.g. ``generated_3/溪湖区_防汛日报_2021-07-28.ods``.
``MANIFEST.json`` records the soffice version, the command, and each file's size and SHA-256.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402

SAMPLES = HERE.parent / "samples"
TARGETS = {  # suffix → soffice --convert-to argument
    ".xlsx": "xlsx:Calc MS Excel 2007 XML",
    ".xlsm": "xlsm:Calc MS Excel 2007 VBA XML",
    ".xls": "xls:MS Excel 97",
    ".ods": "ods:calc8",
    ".html": "html:HTML (StarCalc)",
}
GENERATED_SEEDS = range(8)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def soffice_version() -> str:
    return subprocess.run(["soffice", "--version"], capture_output=True, text=True, check=True).stdout.strip()


def convert(sources: list[Path], outdir: Path, target: str, profile: Path) -> None:
    subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", target,
                    "--outdir", str(outdir), *map(str, sources)], check=True, capture_output=True, timeout=600)


# ------------------------------------------------------------------------------------------ sources

def sample_sources(work: Path) -> dict[str, Path]:
    out = {}
    for family, name in (("sample_flood", "溪湖区_防汛日报_2021-07-29.xlsx"),
                         ("sample_service", "本溪县_政务服务事项清单_2021Q4.xlsx")):
        target = work / family / name
        target.parent.mkdir(parents=True)
        shutil.copyfile(SAMPLES / name, target)
        out[family] = target
    return out


def demo_sources(work: Path) -> dict[str, Path]:
    from demo.flood_cleanup import apply_text_cells, flood_values, write_flood
    from demo.ledgers import write_rectification_ledger

    out = {}
    for family, district, day in (("demo_flood_pingshan", "平山区", date(2021, 7, 27)),
                                  ("demo_flood_mingshan", "明山区", date(2021, 7, 29))):
        values = flood_values(district)
        apply_text_cells(district, values)
        out[family] = _flat(work / family, write_flood(work / family / "inbox", district, day, values))
    for family, unit in (("demo_rect_mingshan", "明山区"), ("demo_rect_nanfen", "南芬区")):
        out[family] = _flat(work / family, write_rectification_ledger(work / family / "inbox", unit))
    return out


def _flat(family_dir: Path, path: Path) -> Path:
    target = family_dir / path.name
    path.replace(target)
    shutil.rmtree(family_dir / "inbox")
    return target


_STREETS = {"溪湖区": ["河西街道", "彩屯街道", "东风街道", "日月岛街道", "石桥子街道"],
            "平山区": ["千金街道", "平山街道", "崔东街道", "站前街道", "桥北街道", "北台街道"],
            "明山区": ["明山街道", "新明街道", "金山街道", "卧龙街道", "东兴街道"]}
_HEADER = ["日期", "区县", "街道（乡镇）", "出动人员（人次）", "出动车辆（台次）", "清运垃圾（吨）", "排水量（立方米）"]


def generated_workbook(seed: int) -> tuple[str, Workbook]:
    """One flood daily from ``seed`` (see the module docstring); returns (file name, workbook)."""
    rng = random.Random(f"office-suite:{seed}")
    district = rng.choice(sorted(_STREETS))
    day = date(2021, 7, rng.randint(26, 31))
    streets = _STREETS[district]
    wb = Workbook()
    first = wb.active
    sheets = []
    if rng.random() < 0.6:
        first.title = "填表说明"
        first.append(["填表说明"])
        first.append(["1. 每个街道一行；区县一栏可合并单元格。"])
        first.append(["2. 数量请填写数字，合计行由公式计算。"])
        data = wb.create_sheet(f"{day.month}月{day.day}日")
    else:
        data = first
        data.title = f"{day.month}月{day.day}日"
    sheets.append(data)
    ncol = len(_HEADER)
    row = 1
    if rng.random() < 0.7:
        data.cell(1, 1, f"{district}防汛救灾清理情况统计表")
        data.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
        data.cell(2, 1, f"填报单位：{district}城市管理局")
        data.cell(2, 6, f"{day.year}年{day.month}月{day.day}日")
        row = 3
    for c, text in enumerate(_HEADER, start=1):
        data.cell(row, c, text)
    top = row + 1
    # 区县 merged down the column in random runs (a run of one is a plain cell)
    runs, left = [], len(streets)
    while left:
        n = rng.randint(1, left)
        runs.append(n)
        left -= n
    start = top
    for n in runs:
        data.cell(start, 2, district)
        if n > 1:
            data.merge_cells(start_row=start, start_column=2, end_row=start + n - 1, end_column=2)
        start += n
    text_cells = rng.sample(range(len(streets)), k=rng.randint(1, 2))
    error_rows = rng.sample([i for i in range(len(streets)) if i not in text_cells], k=rng.randint(0, 2))
    for i, street in enumerate(streets):
        r = top + i
        data.cell(r, 1, day).number_format = "yyyy-mm-dd"
        data.cell(r, 3, street)
        personnel = rng.randint(10, 90)
        tons = round(rng.uniform(2, 30), 1)
        if i in text_cells:
            kind = rng.choice(("approximate", "full_width", "wan"))
            if kind == "approximate":
                data.cell(r, 4, f"{personnel}余")
            elif kind == "full_width":
                data.cell(r, 4, str(personnel).translate(FULL_WIDTH))
            else:
                data.cell(r, 4, personnel)
                tons = rng.randint(1, 3)
                data.cell(r, 6, f"{tons / 10:.1f}万")  # 0.1万 … 0.3万 吨
        else:
            data.cell(r, 4, personnel)
        if i in error_rows:
            data.cell(r, 5, rng.choice(("=1/0", "=#REF!")))
        else:
            data.cell(r, 5, f"=ROUND(D{r}/15,0)" if i not in text_cells else rng.randint(1, 6))
        if data.cell(r, 6).value is None:
            data.cell(r, 6, tons)
        data.cell(r, 7, f"=ROUND(F{r}*40,0)" if isinstance(data.cell(r, 6).value, float) else rng.randint(50, 500))
    last = top + len(streets) - 1
    total = last + 1
    data.cell(total, 1, "合计")
    for c in range(4, ncol + 1):
        letter = data.cell(total, c).column_letter
        data.cell(total, c, f"=SUM({letter}{top}:{letter}{last})")
    data.cell(total + 1, 1, "填报人：")
    data.cell(total + 1, 4, "审核人：")
    if rng.random() < 0.75:  # a hidden sheet with a complete table of another district and day: never read
        decoy = wb.create_sheet("旧表", index=rng.choice((0, len(wb.sheetnames))))
        other = rng.choice([d for d in sorted(_STREETS) if d != district])
        decoy.append(_HEADER)
        for street in _STREETS[other]:
            decoy.append([date(2021, 7, 20), other, street, rng.randint(1, 9), 1, 1.5, 10])
        decoy.sheet_state = "hidden"
    return f"{district}_防汛日报_{day.isoformat()}.xlsx", wb


def generated_sources(work: Path) -> dict[str, Path]:
    out = {}
    for seed in GENERATED_SEEDS:
        name, wb = generated_workbook(seed)
        target = work / f"generated_{seed}" / name
        target.parent.mkdir(parents=True)
        wb.save(target)
        out[f"generated_{seed}"] = target
    return out


# ------------------------------------------------------------------------------------------ main

def main() -> None:
    version = soffice_version()
    with tempfile.TemporaryDirectory(prefix="office-suite-") as tmp:
        work, profile = Path(tmp) / "sources", Path(tmp) / "profile"
        work.mkdir()
        sources = {**sample_sources(work), **demo_sources(work), **generated_sources(work)}
        # one soffice run per format for all families: each source staged under a name of its own (two
        # families may hold the same report name), given back its report name when copied into its family
        staged = Path(tmp) / "staged"
        staged.mkdir()
        for family, source in sources.items():
            shutil.copyfile(source, staged / f"{family}.xlsx")
        converted = Path(tmp) / "converted"
        for suffix, target in TARGETS.items():
            out = converted / suffix.lstrip(".")
            out.mkdir(parents=True)
            convert(sorted(staged.iterdir()), out, target, profile)
        for family in list(HERE.iterdir()):
            if family.is_dir():
                shutil.rmtree(family)
        manifest = {"soffice": version, "command": "soffice -env:UserInstallation=<tmp> --headless --convert-to "
                                                   "<target> --outdir <dir> <sources>",
                    "targets": TARGETS, "families": {}}
        for family, source in sorted(sources.items()):
            folder = HERE / family
            (folder / "source").mkdir(parents=True)
            files = {f"source/{source.name}": source}
            for suffix in TARGETS:
                files[source.stem + suffix] = converted / suffix.lstrip(".") / (family + suffix)
            entry = manifest["families"][family] = {"report": source.stem, "files": {}}
            for name, path in files.items():
                shutil.copyfile(path, folder / name)
                data = path.read_bytes()
                entry["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (HERE / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = sum(f["bytes"] for fam in manifest["families"].values() for f in fam["files"].values())
    print(f"{len(manifest['families'])} families, {total / 1024:.0f} KiB, {version}")


if __name__ == "__main__":
    main()
