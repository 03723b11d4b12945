"""Re-run and backfill: archived raw files go back into the inbox, byte for byte, with their original
modification time, without ever overwriting anything or changing an earlier record's status."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from warehouse_helpers import ingest, query
from workbooks import SERVICE_HEADER, service_item, write_xlsx

import etl.ingest.pipeline
import etl.ingest.validate.suite
from etl.__main__ import main
from etl.ingest.inbox.reprocess import UnknownLoadError, backfill, reprocess
from etl.ingest.pipeline import discover, prepare, process_file

REGISTER = "政务服务事项清单"


def register(
    settings, district: str, name: str, item_type: str = "行政许可", codes=("001", "002"), age: float = 3600
) -> tuple:
    """A service item register in inbox/<district>/, modified ``age`` seconds ago; (path, bytes, mtime)."""
    prefix = {"明山区": "11210504", "平山区": "11210502"}[district]
    path = write_xlsx(
        settings.inbox / district / name,
        [SERVICE_HEADER, *(service_item(f"{prefix}{c}", district, item_type=item_type) for c in codes)],
        title=f"{district}{REGISTER}",
    )
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path, path.read_bytes(), path.stat().st_mtime


def rejected_register(settings) -> tuple:
    """明山区's register with an item type the rules do not know yet (行政备案): rejected."""
    path, raw, mtime = register(settings, "明山区", f"明山区_{REGISTER}_2021Q4.xlsx", item_type="行政备案")
    outcome = ingest(settings)[f"明山区/{path.name}"]
    assert outcome.status == "rejected" and "事项类型不在规定范围内" in outcome.reason_zh
    assert not path.exists()
    return path, raw, mtime, outcome.load_id


@pytest.fixture
def change_rules(tmp_path, monkeypatch):
    """Call it to change the rules: 行政备案 becomes an allowed item type."""

    def change() -> None:
        rules = tmp_path / "expectations"
        shutil.copytree(etl.ingest.validate.suite.EXPECTATIONS_DIR, rules)
        suite = json.loads((rules / "service_items.json").read_text(encoding="utf-8"))
        for e in suite["expectations"]:
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "item_type":
                e["kwargs"]["value_set"].append("行政备案")
        (rules / "service_items.json").write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
        monkeypatch.setattr(etl.ingest.validate.suite, "EXPECTATIONS_DIR", rules)

    return change


def test_reprocess_puts_the_original_bytes_back_in_the_inbox(sqlite_settings):
    settings = sqlite_settings
    path, raw, mtime, load_id = rejected_register(settings)

    back = reprocess(load_id, settings)

    assert back == path and back.read_bytes() == raw
    assert back.stat().st_mtime == pytest.approx(mtime, abs=1)  # the original received_at
    assert discover(settings) == [f"明山区/{path.name}"]
    assert not list(settings.inbox.rglob("*.part"))
    with pytest.raises(FileExistsError, match="收件箱中已有同名文件"):
        reprocess(load_id, settings)  # never overwrites what is waiting in the inbox
    assert back.read_bytes() == raw
    assert [r["status"] for r in query(settings, "SELECT status FROM stg_file_load")] == ["rejected"]


def test_unknown_load_id_is_refused(sqlite_settings):
    prepare(sqlite_settings)
    with pytest.raises(UnknownLoadError, match="load 999 不存在"):
        reprocess(999, sqlite_settings)
    assert main(["reprocess", "999"]) == 1
    assert not list(sqlite_settings.inbox.rglob("*"))


def test_reprocess_now_after_a_rule_change_loads_the_file(sqlite_settings, change_rules, capsys):
    """Works today: ``reprocess --now`` processes the re-dropped file with force=True."""
    settings = sqlite_settings
    path, _, _, load_id = rejected_register(settings)
    change_rules()

    assert main(["reprocess", str(load_id), "--now"]) == 0

    assert "accepted" in capsys.readouterr().out
    loads = query(settings, "SELECT load_id, status, is_current FROM stg_file_load ORDER BY load_id")
    assert [(r["status"], r["is_current"]) for r in loads] == [("rejected", 0), ("accepted", 1)]
    assert query(settings, "SELECT COUNT(*) AS n FROM fct_service_item")[0]["n"] == 2
    assert not path.exists()  # filed away again


def test_a_re_dropped_rejected_file_is_a_duplicate_unless_forced(sqlite_settings, change_rules):
    """DOMAIN.md: a byte-identical file changes nothing — reprocessing is the steward's deliberate act."""
    settings = sqlite_settings
    path, _, _, load_id = rejected_register(settings)
    change_rules()
    reprocess(load_id, settings)
    assert ingest(settings)[f"明山区/{path.name}"].status == "duplicate"  # the ordinary run
    reprocess(load_id, settings)

    outcome = process_file(f"明山区/{path.name}", settings, force=True)  # what `reprocess --now` does

    assert outcome.status == "accepted" and outcome.rows == 2
    statuses = [r["status"] for r in query(settings, "SELECT status FROM stg_file_load ORDER BY load_id")]
    assert statuses == ["rejected", "duplicate", "accepted"]  # every earlier outcome stays in the history


def test_a_retry_of_a_rejection_not_yet_filed_away_finishes_it(sqlite_settings, monkeypatch):
    """The guard the find_previous change must keep: the outcome was committed, then the worker died
    before filing the file away; the retry finishes that record instead of validating the file again."""
    settings = sqlite_settings
    path, _, _ = register(settings, "明山区", f"明山区_{REGISTER}_2021Q4.xlsx", item_type="行政备案")
    prepare(settings)
    relative = discover(settings)[0]

    def dies(*args, **kwargs):
        raise OSError("worker killed")

    with monkeypatch.context() as patch, pytest.raises(OSError):
        patch.setattr(etl.ingest.pipeline, "file_away", dies)
        process_file(relative, settings)
    assert path.exists()

    outcome = process_file(relative, settings)

    rows = query(settings, "SELECT load_id, status, moved_to FROM stg_file_load")
    assert len(rows) == 1 and rows[0]["status"] == "rejected" and rows[0]["moved_to"]
    assert (outcome.status, outcome.load_id) == ("rejected", rows[0]["load_id"])
    assert not path.exists()


def period_of_loads(settings) -> dict:
    """Three districts' worth of 2021Q4 history and one load of another quarter:

    明山区  v1 accepted, then a corrected v2 (another name) accepted and current
    平山区  rejected, then corrected under the same file name, accepted and current
    明山区  2022Q1 accepted
    """
    names = {}
    _, names["ms_v1"], _ = register(settings, "明山区", f"明山区_{REGISTER}_2021Q4.xlsx", age=4000)
    _, names["ps_bad"], _ = register(
        settings, "平山区", f"平山区_{REGISTER}_2021Q4.xlsx", item_type="行政备案", age=4000
    )
    _, names["q1"], _ = register(settings, "明山区", f"明山区_{REGISTER}_2022Q1.xlsx", codes=("009",), age=4000)
    assert sorted(o.status for o in ingest(settings).values()) == ["accepted", "accepted", "rejected"]
    _, names["ms_v2"], _ = register(settings, "明山区", f"明山区_{REGISTER}_2021Q4_更正.xlsx", codes=("001",), age=2000)
    _, names["ps_good"], _ = register(settings, "平山区", f"平山区_{REGISTER}_2021Q4.xlsx", codes=("001",), age=2000)
    assert sorted(o.status for o in ingest(settings).values()) == ["accepted", "accepted"]
    return names


def test_backfill_redrops_the_current_and_rejected_files_of_a_period(sqlite_settings):
    settings = sqlite_settings
    raw = period_of_loads(settings)
    before = query(settings, "SELECT load_id, status, is_current FROM stg_file_load ORDER BY load_id")

    paths = backfill("2021Q4", None, settings)

    relative = [str(p.relative_to(settings.inbox)) for p in paths]
    assert relative == [
        f"平山区/平山区_{REGISTER}_2021Q4.xlsx",  # the rejected one, by load order
        f"明山区/明山区_{REGISTER}_2021Q4_更正.xlsx",
        f"平山区/平山区_{REGISTER}_2021Q4(2).xlsx",
    ]  # same name as the rejected one
    assert [p.read_bytes() for p in paths] == [raw["ps_bad"], raw["ms_v2"], raw["ps_good"]]
    assert sorted(discover(settings)) == sorted(relative)
    assert query(settings, "SELECT load_id, status, is_current FROM stg_file_load ORDER BY load_id") == before

    with pytest.raises(FileExistsError, match="本次补数未复制任何文件"):
        backfill("2021Q4", None, settings)
    assert sorted(discover(settings)) == sorted(relative)
    assert backfill("2021Q4", "flood_cleanup", settings) == []
    assert backfill("2020Q1", None, settings) == []


def test_backfill_by_report_type_and_cli(sqlite_settings, capsys):
    settings = sqlite_settings
    period_of_loads(settings)
    assert main(["backfill", "2022Q1", "--report-type", "service_items"]) == 0
    out = capsys.readouterr().out
    assert f"明山区_{REGISTER}_2022Q1.xlsx" in out and "1 files back in the inbox" in out
    assert main(["backfill", "2022Q1"]) == 1  # already waiting in the inbox
    assert discover(settings) == [f"明山区/明山区_{REGISTER}_2022Q1.xlsx"]


def test_a_forced_backfill_reprocesses_rejected_files(sqlite_settings, change_rules):
    """Loaded content is a duplicate by design; the rejected file is validated again under the new rules."""
    settings = sqlite_settings
    period_of_loads(settings)
    change_rules()
    backfill("2021Q4", None, settings)

    outcomes = {f: process_file(f, settings, force=True) for f in discover(settings)}  # `backfill --now`

    assert {f: o.status for f, o in outcomes.items()} == {
        f"平山区/平山区_{REGISTER}_2021Q4.xlsx": "accepted",
        f"明山区/明山区_{REGISTER}_2021Q4_更正.xlsx": "duplicate",
        f"平山区/平山区_{REGISTER}_2021Q4(2).xlsx": "duplicate",
    }


def test_a_name_in_gbk_bytes_goes_back_under_its_raw_bytes(sqlite_settings):
    import os

    from hostile import volunteer_csv

    from etl.ingest.inbox.reprocess import reprocess

    settings = sqlite_settings
    prepare(settings)
    raw = "南芬区_志愿服务_2022-03.csv".encode("gbk")
    folder = settings.inbox / "南芬区"
    source = volunteer_csv(settings.shared_dir / "src.csv").read_bytes()
    folder.mkdir(parents=True)
    with open(os.path.join(os.fsencode(folder), raw), "wb") as handle:
        handle.write(source)
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "accepted"
    path = reprocess(outcome.load_id, settings)
    assert os.fsencode(path.name) == raw and path.read_bytes() == source
    again = process_file(str(path.relative_to(settings.inbox)), settings, force=True)
    assert again.status == "duplicate"  # the same content is loaded already


def test_a_link_planted_where_the_copy_is_written_is_not_followed(sqlite_settings, tmp_path):
    """The copy back into the inbox is written under a name the scan ignores, then renamed: a clerk who
    leaves a link at any such name (the old fixed one, <name>.reprocess.part, included) must not make the
    steward's reprocess write the archived bytes over a file outside the share."""
    settings = sqlite_settings
    path, raw, _mtime, load_id = rejected_register(settings)
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / f"{path.name}.reprocess.part").symlink_to(victim)

    back = reprocess(load_id, settings)

    assert victim.read_bytes() == b"precious"
    assert back.read_bytes() == raw and not back.is_symlink()


def test_an_archive_copy_swapped_for_a_link_is_not_read(sqlite_settings, tmp_path):
    """archive/ is in the share: an archived file replaced by a link to a server file is not copied back."""
    settings = sqlite_settings
    _path, _raw, _mtime, load_id = rejected_register(settings)
    (archived,) = [p for p in settings.archive.rglob("*") if p.is_file()]
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"server secret")
    archived.unlink()
    archived.symlink_to(secret)
    with pytest.raises(FileNotFoundError, match="存档文件不存在"):
        reprocess(load_id, settings)
    assert not any(p.is_file() and p.read_bytes() == b"server secret" for p in settings.inbox.rglob("*"))
