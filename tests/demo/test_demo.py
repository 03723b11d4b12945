"""The demo generator writes the files a real city would send, with the published city-wide figures.

Files are read back with openpyxl / csv directly (not through the project's parser) so this test pins the
demo data itself.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import unicodedata
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow a bare `pytest` from anywhere
    sys.path.insert(0, str(ROOT))

from demo import DEMO_PERIODS, write_demo_files  # noqa: E402

UNITS = ["市本级", "平山区", "溪湖区", "明山区", "南芬区", "本溪满族自治县", "桓仁满族自治县"]
DISTRICTS = UNITS[1:]
FLOOD_DISTRICTS = ["平山区", "溪湖区", "明山区"]
FLOOD_DAYS = [f"2021-07-{d}" for d in range(26, 32)] + ["2021-08-01"]
YES, NO = {"是", "√"}, {"否", "×"}


def key(text: object) -> str:
    """Header text folded: NFKC, no whitespace, no brackets — 承诺时限(工作日) == 承诺时限（工作日）."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return re.sub(r"[\s()]", "", folded)


def find_columns(rows: list[tuple], wanted: dict[str, set[str]]) -> tuple[int, dict[str, int]]:
    """Index of the header row and column positions of the wanted columns (by any accepted header)."""
    folded = {name: {key(h) for h in headers} for name, headers in wanted.items()}
    for i, row in enumerate(rows):
        cols = {}
        for j, cell in enumerate(row):
            for name, keys in folded.items():
                if key(cell) in keys:
                    cols[name] = j
        if len(cols) == len(wanted):
            return i, cols
    raise AssertionError(f"no header row with {sorted(wanted)}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("demo_a")
    return root, write_demo_files(root)


def xlsx_values(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}
    finally:
        wb.close()


@pytest.fixture(scope="module")
def values(demo) -> dict[Path, dict[str, list[tuple]]]:
    """Cell values of every demo xlsx (sheet title → rows), read once for all tests."""
    _root, paths = demo
    return {p: xlsx_values(p) for p in paths if p.suffix == ".xlsx"}


def by_kind(paths: list[Path], marker: str) -> list[Path]:
    return sorted(p for p in paths if marker in p.name)


def test_files_written_where_expected(demo):
    root, paths = demo
    assert len(paths) == len(set(paths)) == 7 + 6 + 21 + 14 + 4 + 1
    assert all(p.is_file() for p in paths)
    assert sorted(paths) == sorted(p for p in (root / "inbox").rglob("*") if p.is_file())
    for p in paths:
        assert p.parent.parent == root / "inbox"
        assert p.parent.name in UNITS
        assert p.name.startswith(p.parent.name + "_")
    assert {p.parent.name for p in by_kind(paths, "政务服务事项清单_2021Q4.xlsx")} == set(UNITS)
    volunteer = by_kind(paths, "_志愿服务_2022-03.")
    assert {p.parent.name for p in volunteer} == set(DISTRICTS)
    assert [p.suffix for p in volunteer if p.parent.name == "南芬区"] == [".csv"]
    flood = by_kind(paths, "_防汛日报_")
    assert {(p.parent.name, p.stem.rsplit("_", 1)[1]) for p in flood} == {
        (d, day) for d in FLOOD_DISTRICTS for day in FLOOD_DAYS
    }
    assert {p.parent.name for p in by_kind(paths, "_12345热线工单_2021-09.")} == {
        "明山区",
        "平山区",
        "溪湖区",
        "南芬区",
    }
    assert len(by_kind(paths, "_2021-12.xlsx")) == 14
    assert [(p.parent.name, p.name) for p in by_kind(paths, "_老旧小区改造项目台账_")] == [
        ("明山区", "明山区_老旧小区改造项目台账_2022-12.xlsx")
    ]
    assert DEMO_PERIODS == {
        "service_items": "2021Q4",
        "volunteer_activity": "2022-03",
        "flood_cleanup": ("2021-07-26", "2021-08-01"),
        "task_ledger": "2021-12",
        "rectification_ledger": "2021-12",
        "hotline_tickets": "2021-09",
        "old_compound_renovation": "2022-12",
    }


def test_files_carry_the_time_their_clerk_dropped_them(demo):
    _, paths = demo
    beijing = ZoneInfo("Asia/Shanghai")
    when = {p.name: datetime.fromtimestamp(p.stat().st_mtime, beijing).replace(tzinfo=None) for p in paths}
    assert when["市本级_政务服务事项清单_2021Q4.xlsx"] == datetime(2022, 1, 4, 16, 0)
    assert when["桓仁满族自治县_政务服务事项清单_2021Q4.xlsx"] == datetime(2022, 1, 7, 9, 30)  # late
    assert when["明山区_防汛日报_2021-07-29.xlsx"] == datetime(2021, 7, 30, 14, 0)  # late: due 10:00
    assert when["明山区_防汛日报_2021-07-28.xlsx"] == datetime(2021, 7, 29, 8, 30)
    assert when["明山区_老旧小区改造项目台账_2022-12.xlsx"] == datetime(2023, 1, 4, 10, 0)  # due 2023-01-05 24:00


SERVICE_HEADERS = {
    "item_code": {"事项编码"},
    "district": {"所属区县", "区县", "县区"},
    "is_application": {"是否依申请"},
    "in_service_hall": {"是否进驻政务服务中心", "是否进厅"},
    "reason": {"不进厅原因"},
    "online": {"是否网上可办", "是否一网通办"},
    "legal": {"法定时限（工作日）"},
    "promised": {"承诺时限（工作日）"},
    "visits": {"最多跑动次数", "最多跑动次数（次）"},
}


def test_service_items_city_totals(demo, values):
    _root, paths = demo
    files = by_kind(paths, "政务服务事项清单")
    total = applications = out_of_hall = online = 0
    codes: list[str] = []
    for path in files:
        assert list(values[path]) == ["填表说明", "事项清单"]
        rows = values[path]["事项清单"]
        assert "政务服务事项清单" in rows[0][0]
        h, col = find_columns(rows, SERVICE_HEADERS)
        assert h == 1
        unit = path.parent.name
        for row in rows[h + 1 :]:
            code = row[col["item_code"]]
            assert isinstance(code, str) and re.fullmatch(r"\d{16}", code), row
            assert code.startswith("11" + {"市本级": "210500"}.get(unit, code[2:8]))
            codes.append(code)
            is_app, in_hall = row[col["is_application"]], row[col["in_service_hall"]]
            assert is_app in YES | NO and in_hall in YES | NO and row[col["online"]] in YES | NO
            assert row[col["district"]] in {unit, "本溪县", "桓仁县"}
            legal, promised, visits = row[col["legal"]], row[col["promised"]], row[col["visits"]]
            assert isinstance(legal, int) and 1 <= legal <= 60
            assert isinstance(promised, int) and 1 <= promised <= legal
            assert isinstance(visits, int) and 0 <= visits <= 5
            total += 1
            online += row[col["online"]] in YES
            if is_app in YES:
                applications += 1
                if in_hall in NO:
                    out_of_hall += 1
                    assert row[col["reason"]] in {"涉密", "场地限制", "需现场勘验", "专业设备限制"}
    assert (total, applications, out_of_hall) == (24671, 6861, 48)
    assert applications - out_of_hall == 6813
    assert len(set(codes)) == len(codes) == 24671
    assert 0.85 <= online / total <= 0.95


VOLUNTEER_HEADERS = {
    "date": {"活动日期", "日期"},
    "unit": {"组织单位"},
    "team": {"志愿服务队", "服务队", "志愿队"},
    "volunteers": {"参与志愿者（人）", "参与人数", "志愿者人数"},
    "type": {"活动类型"},
    "place": {"服务地点"},
}


def volunteer_records(path: Path, values: dict) -> tuple[list[dict], list[tuple]]:
    """Data records of one volunteer file, plus the rows after the data (合计, footer)."""
    if path.suffix == ".csv":
        raw = path.read_bytes()
        rows = [tuple(r) for r in csv.reader(io.StringIO(raw.decode("gbk"), newline=""))]
    else:
        (rows,) = values[path].values()
    h, col = find_columns(rows, VOLUNTEER_HEADERS)
    records, rest = [], []
    for row in rows[h + 1 :]:
        value = row[col["date"]]
        if isinstance(value, datetime):
            day = value.date()
        elif isinstance(value, str) and (m := re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", value)):
            day = date(*map(int, m.groups()))
        else:
            rest.append(row)
            continue
        volunteers = row[col["volunteers"]]
        records.append(
            {
                "date": day,
                "unit": row[col["unit"]],
                "team": row[col["team"]],
                "type": row[col["type"]],
                "place": row[col["place"]],
                "volunteers": int(volunteers),
            }
        )
    return records, rest


def test_volunteer_drive_totals(demo, values):
    _root, paths = demo
    units, teams, volunteers = set(), set(), 0
    days = set()
    for path in by_kind(paths, "_志愿服务_"):
        records, rest = volunteer_records(path, values)
        assert records
        if path.suffix == ".xlsx":
            assert rest[0][0] == "合计"
            assert rest[0][5] == sum(r["volunteers"] for r in records)
            assert str(rest[1][0]).startswith("填报人：")
        else:
            assert rest == []
        keys = [(r["date"], r["team"], r["place"]) for r in records]
        assert len(keys) == len(set(keys))
        drive = [r for r in records if r["date"] == date(2022, 3, 4)]
        drive_teams = [r["team"] for r in drive]
        assert len(drive_teams) == len(set(drive_teams))
        district = path.parent.name
        short = {"本溪满族自治县": "本溪县", "桓仁满族自治县": "桓仁县", "南芬区": "南芬"}.get(district, district)
        assert all(r["unit"].startswith(short) and r["team"].startswith(short) for r in records)
        assert all(r["type"] in {"创城", "防汛救灾", "文明交通", "环境清洁", "助老助残", "其他"} for r in records)
        assert not units & {r["unit"] for r in drive} and not teams & set(drive_teams)
        units |= {r["unit"] for r in drive}
        teams |= set(drive_teams)
        volunteers += sum(r["volunteers"] for r in drive)
        days |= {r["date"] for r in records}
    assert (len(units), len(teams), volunteers) == (314, 365, 11302)
    assert len(days) > 1 and all((d.year, d.month) == (2022, 3) for d in days)


def test_nanfen_csv_is_gbk_like_the_sample(demo):
    _root, paths = demo
    (path,) = [p for p in paths if p.suffix == ".csv" and "志愿服务" in p.name]
    raw = path.read_bytes()
    assert raw.startswith(
        "活动日期,区县,组织单位,志愿服务队,活动类型,参与志愿者（人）,服务时长（小时）,服务地点\r\n".encode("gbk")
    )
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


FLOOD_VALUE_COLUMNS = "DEFGHIJKLM"
FLOOD_COUNT_COLUMNS = set("EGJKLM")  # vehicles, trips, disinfected streets/toilets/bins, power


def test_flood_layout(demo):
    _root, paths = demo
    places = yaml.safe_load((ROOT / "etl" / "reference" / "places.yaml").read_text(encoding="utf-8"))
    codes = {d["name"]: d["code"] for d in places["districts"]}
    marked = []
    personnel_by_day: dict[str, float] = defaultdict(float)
    for path in by_kind(paths, "_防汛日报_"):
        district, day = path.parent.name, path.stem.rsplit("_", 1)[1]
        streets = places["streets"][codes[district]]
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        n = len(streets)
        merges = {str(r) for r in ws.merged_cells.ranges}
        assert {"A1:M1", "F3:G3", "J3:L3", f"B5:B{4 + n}"} <= merges
        assert {f"{c}3:{c}4" for c in "ABCDEHIM"} <= merges
        assert ws["F3"].value == "清运垃圾" and ws["J3"].value == "消杀"
        assert (ws["F4"].value, ws["G4"].value) == ("吨", "车次")
        assert [key(ws[f"{c}4"].value) for c in "JKL"] == ["街道条", "公厕座", "垃圾箱个"]
        assert str(ws["A2"].value).startswith("填报单位：")
        assert ws["B5"].value == district and all(ws[f"B{r}"].value is None for r in range(6, 5 + n))
        assert [ws[f"C{r}"].value for r in range(5, 5 + n)] == streets
        for r in range(5, 5 + n):
            assert ws[f"A{r}"].value == datetime.fromisoformat(day)
            for c in FLOOD_VALUE_COLUMNS:
                v = ws[f"{c}{r}"].value
                if isinstance(v, (int, float)):
                    if c == "D":
                        personnel_by_day[day] += v
                    continue
                if v == "—":
                    assert c in FLOOD_COUNT_COLUMNS, (path.name, c, r)
                else:
                    marked.append(v)
                    assert re.fullmatch(r"\d+(\.\d+)?(万|余)", v), v
                    if c == "D":
                        personnel_by_day[day] += float(v.rstrip("余"))
        total = 5 + n
        assert ws[f"A{total}"].value == "合计"
        assert ws[f"D{total}"].value == f"=SUM(D5:D{4 + n})"
        assert ws[f"M{total}"].value == f"=SUM(M5:M{4 + n})"
        assert ws[f"A{total + 1}"].value == "填报人："
    assert 1 <= len(marked) <= 3
    peak = max(personnel_by_day, key=personnel_by_day.get)
    assert peak in {"2021-07-28", "2021-07-29"}
    assert personnel_by_day["2021-07-26"] < personnel_by_day[peak] > personnel_by_day["2021-08-01"]


def test_deterministic(demo, values, tmp_path):
    """A second run into another directory gives identical CSV bytes, identical xlsx cell values and, since
    document dates and zip timestamps are fixed, identical xlsx bytes."""
    root_a, paths_a = demo
    paths_b = write_demo_files(tmp_path)
    rel_a = [p.relative_to(root_a) for p in paths_a]
    assert rel_a == [p.relative_to(tmp_path) for p in paths_b]
    for rel in rel_a:
        a, b = root_a / rel, tmp_path / rel
        if a.suffix == ".xlsx":
            assert values[a] == xlsx_values(b), f"cell values differ: {rel}"
        assert a.read_bytes() == b.read_bytes(), f"bytes differ: {rel}"
