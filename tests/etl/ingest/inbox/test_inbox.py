"""The inbox as an attacker with write access to the shared folder fills it: links to the server's
files and to other districts' workbooks, FIFOs, devices, sockets, names in any bytes, lock and temp
files. Every entry ends with a status and a reason (or a visible reason to wait), the good file beside
it is loaded, and nothing outside SHARED_DIR is opened, copied or moved."""

from __future__ import annotations

import os
import socket
import stat
import sys

import pytest
from hostile import volunteer_csv
from hypothesis import example, given
from hypothesis import strategies as st
from warehouse_helpers import query

from etl.ingest.inbox import entries as inbox
from etl.ingest.inbox.names import display_path
from etl.ingest.pipeline import discover, prepare, process_file, waiting

SECRET_TARGETS = ["/etc/passwd", "/proc/self/environ"]


class OpenAudit:
    """Every path this process opens, through Python's audit hook (``open`` and ``os.open`` events),
    with whether it was opened without following a final link."""

    def __init__(self):
        self.events: list[tuple[str, bool]] = []
        self.active = False
        sys.addaudithook(self._hook)

    def _hook(self, event, args):
        if self.active and event == "open" and args and isinstance(args[0], (str, bytes)):
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            self.events.append((os.fsdecode(args[0]), bool(flags & os.O_NOFOLLOW)))


AUDIT = OpenAudit()


def followed(paths: list[str]) -> list[str]:
    """Opens that reached one of ``paths`` through a link (an open without O_NOFOLLOW of a path that
    resolves there)."""
    hits = []
    for opened, nofollow in AUDIT.events:
        if nofollow:
            continue
        try:
            real = os.path.realpath(opened)
        except (OSError, ValueError):
            continue
        if real in paths:
            hits.append(opened)
    return hits


def district(settings, name="南芬区"):
    folder = settings.inbox / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def make_special(kind: str, path, settings):
    other = settings.inbox / "明山区" / "明山区_志愿服务_2022-03.csv"
    if kind.startswith("link:"):
        target = kind[5:]
        if target == "other-district":
            volunteer_csv(other, district="明山区")
            target = str(other)
        elif target == "folder":
            target = "/etc"
        elif target == "dangling":
            target = "/nonexistent/x.xlsx"
        os.symlink(target, path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    return other


SPECIAL_KINDS = [
    "link:/etc/passwd",
    "link:/proc/self/environ",
    "link:other-district",
    "link:folder",
    "link:dangling",
    "fifo",
    "device",
    "socket",
]


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root (CI runs as root)")
@given(
    kinds=st.lists(st.sampled_from(SPECIAL_KINDS), min_size=1, max_size=4, unique=True),
    names=st.lists(
        st.sampled_from(["报表.xlsx", "志愿服务.csv", "a", ".hidden.xlsx", "~x.xls", "数据"]),
        min_size=4,
        max_size=4,
        unique=True,
    ),
)
def test_links_fifos_devices_and_sockets_are_rejected_without_being_opened(make_settings, kinds, names):
    settings = make_settings()
    prepare(settings)
    folder = district(settings)
    good = volunteer_csv(folder / "南芬区_志愿服务_2022-03.csv")
    others = {}
    for kind, name in zip(kinds, names, strict=False):
        others[name] = make_special(kind, folder / name, settings)
    AUDIT.events.clear()
    AUDIT.active = True
    try:
        outcomes = {o.file: o for o in (process_file(k, settings) for k in discover(settings))}
    finally:
        AUDIT.active = False
    assert outcomes[f"南芬区/{good.name}"].status == "accepted"
    for kind, name in zip(kinds, names, strict=False):
        outcome = outcomes[f"南芬区/{name}"]
        assert outcome.status == "rejected" and "未打开" in outcome.reason_zh, (kind, outcome)
        assert outcome.receipt and (settings.shared_dir / outcome.receipt).is_file()
        moved = query(
            settings, "SELECT moved_to, archive_path FROM stg_file_load WHERE load_id = :i", i=outcome.load_id
        )[0]
        assert moved["archive_path"] is None
        assert os.path.lexists(settings.shared_dir / moved["moved_to"])  # the entry itself, filed away
        assert not os.path.lexists(folder / name)
    assert followed(SECRET_TARGETS + [str(p) for p in others.values()]) == []
    secrets = [open(t, "rb").read() for t in SECRET_TARGETS if os.access(t, os.R_OK)]
    for archived in settings.archive.rglob("*"):
        if archived.is_file():
            assert archived.read_bytes() not in secrets
    other = settings.inbox / "明山区" / "明山区_志愿服务_2022-03.csv"
    if other.exists() or any(k == "link:other-district" for k in kinds):
        rows = query(
            settings, "SELECT district AS district_code, COUNT(*) AS n FROM fct_volunteer_activity GROUP BY district"
        )
        assert {r["district_code"] for r in rows} <= {"210505", "210504"}  # 南芬区 its own; 明山区 only as 明山区


@given(
    st.lists(
        st.binary(min_size=1, max_size=120).filter(
            lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
        ),
        min_size=1,
        max_size=5,
        unique=True,
    )
)
@example(raw_names=[b"\xc5\x1d\x8e\xd9W", b"~$", b"\x8d\x91"])  # found by CI: "~$…" is a lock file's name
@example(raw_names=[b".\xe6\xba\xaa\xe6\xb9\x96\xe5\x8c\xba \xe5\xae\x9e\xe4\xba\x8b", b"..x"])  # hidden names
def test_every_name_in_any_bytes_gets_a_status_and_bounded_paths_inside_the_share(make_settings, raw_names):
    settings = make_settings()
    prepare(settings)
    folder = os.fsencode(district(settings))
    names = [raw + b"." + str(i).encode() + b"_\xd6\xbe\xd4\xb8.csv" for i, raw in enumerate(raw_names)]
    for i, name in enumerate(names):
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(volunteer_csv(settings.shared_dir / f"src{i}.csv").read_bytes())
    locks = {display_path("南芬区/".encode() + n) for n in names if inbox.waiting_reason(n)}
    keys = discover(settings)
    assert len(keys) == len(raw_names) - len(locks)
    outcomes = [process_file(k, settings) for k in keys]
    shared = os.path.realpath(settings.shared_dir)
    for key, outcome in zip(keys, outcomes, strict=True):
        assert outcome.status in ("accepted", "flagged", "rejected", "duplicate"), outcome
        row = query(settings, "SELECT * FROM stg_file_load WHERE load_id = :i", i=outcome.load_id)[0]
        raw = bytes.fromhex(row["source_path_bytes"]) if row["source_path_bytes"] else row["source_path"].encode()
        assert display_path(raw) == row["source_path"] == outcome.file
        for derived in (row["receipt_path"], row["moved_to"]):
            path = os.path.realpath(settings.shared_dir / derived)
            assert path.startswith(shared + os.sep) and os.path.exists(path)
            assert all(len(part.encode()) <= 200 for part in derived.split("/"))
            assert not os.path.basename(derived).startswith(".")  # what the clerk looks for is never hidden
    # a name an office suite gives its lock file ("~$…") waits, in place, saying so and how to clear it
    assert {w["file"]: w["reason_zh"] for w in waiting(settings) if w["file"] in locks} == dict.fromkeys(
        locks, inbox.LOCK_FILE_REASON
    )
    assert len(list(os.scandir(folder))) == len(locks)


def test_a_name_of_240_bytes_is_loaded_and_gets_its_receipt(make_settings):
    settings = make_settings()
    prepare(settings)
    path = volunteer_csv(district(settings) / ("南芬区_志愿服务_2022-03_" + "长" * 72 + ".csv"))
    assert len(path.name.encode()) > 240
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "accepted" and (settings.shared_dir / outcome.receipt).is_file()


def test_lock_temp_and_deep_entries_wait_with_a_visible_reason(make_settings):
    settings = make_settings()
    folder = district(settings)
    for name in ["~$报表.xlsx", ".~lock.报表.xlsx#", "报表.xlsx.tmp", "下载中.xlsx.crdownload"]:
        (folder / name).write_bytes(b"x")
    deep = folder.joinpath(*"abcdefg")
    deep.mkdir(parents=True)
    (deep / "x.csv").write_bytes(b"x")
    for name in [".DS_Store", "~报表.xlsx", ".隐藏.csv"]:  # not lock files: they get a status
        (folder / name).write_bytes(b"x")
    prepare(settings)  # the DAG's prepare_warehouse runs before discovery records what it saw
    assert sorted(discover(settings)) == sorted(f"南芬区/{n}" for n in [".DS_Store", "~报表.xlsx", ".隐藏.csv"])
    reasons = {w["file"]: w["reason_zh"] for w in waiting(settings)}
    assert {f for f, r in reasons.items() if r != inbox.NEXT_RUN_REASON} == {
        "南芬区/~$报表.xlsx",
        "南芬区/.~lock.报表.xlsx#",
        "南芬区/报表.xlsx.tmp",
        "南芬区/下载中.xlsx.crdownload",
        "南芬区/a/b/c/d/e",
    }
    assert {f for f, r in reasons.items() if r == inbox.NEXT_RUN_REASON} == {
        "南芬区/.DS_Store",
        "南芬区/~报表.xlsx",
        "南芬区/.隐藏.csv",
    }  # ready: the next run takes them


def test_a_claim_whose_process_died_is_adopted_by_the_next_run(make_settings):
    settings = make_settings()
    prepare(settings)
    volunteer_csv(district(settings) / "南芬区_志愿服务_2022-03.csv")
    key = discover(settings)[0]
    pid = os.fork()
    if pid == 0:  # a worker that claims the file and is killed before it does anything else
        inbox.claim(settings, key)
        os._exit(0)
    os.waitpid(pid, 0)
    assert list(settings.inbox.rglob("*.csv")) == []
    assert discover(settings) == [key]  # listed as a stranded claim
    outcome = process_file(key, settings)
    assert outcome.status == "accepted"
    assert list(settings.work.iterdir()) == []


def test_a_live_claim_is_not_taken_by_another_run(make_settings):
    settings = make_settings()
    prepare(settings)
    volunteer_csv(district(settings) / "南芬区_志愿服务_2022-03.csv")
    key = discover(settings)[0]
    held = inbox.claim(settings, key)
    try:
        assert discover(settings) == []
        outcome = process_file(key, settings)
        assert outcome.status == "claimed_elsewhere"
        assert query(settings, "SELECT COUNT(*) AS n FROM stg_file_load")[0]["n"] == 0
    finally:
        inbox.give_back(held, settings)
    assert process_file(key, settings).status == "accepted"


def test_a_hard_link_to_a_file_elsewhere_is_rejected_unread(make_settings, tmp_path):
    """Where the shared folder shares a file system with other files, a hard link is another name of one
    of them: it is not read, hashed or archived."""
    settings = make_settings()
    prepare(settings)
    outside = volunteer_csv(tmp_path / "elsewhere" / "南芬区_志愿服务_2022-03.csv")
    folder = district(settings)
    os.link(outside, folder / "链接.csv")
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "rejected" and "硬链接" in outcome.reason_zh
    assert [p for p in settings.archive.rglob("*") if p.is_file()] == []
    assert outside.read_bytes().startswith("南芬区".encode())  # untouched


def test_links_planted_where_our_folders_go_are_moved_aside_not_followed(make_settings, tmp_path):
    """A clerk can write anywhere in the share: links left at receipts/<区县>, archive/<xx> or
    processed/<区县> must not make us write outside it."""
    settings = make_settings()
    prepare(settings)
    outside = tmp_path / "outside"
    outside.mkdir()
    csv = volunteer_csv(district(settings) / "南芬区_志愿服务_2022-03.csv")
    import hashlib

    sha = hashlib.sha256(csv.read_bytes()).hexdigest()
    for planted in (settings.receipts / "南芬区", settings.processed / "南芬区", settings.archive / sha[:2]):
        planted.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(outside, planted)
    (settings.archive / "zz").mkdir()
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "accepted"
    assert list(outside.iterdir()) == []  # nothing written through a link
    for folder in (settings.receipts / "南芬区", settings.processed / "南芬区", settings.archive / sha[:2]):
        assert folder.is_dir() and not folder.is_symlink() and any(folder.iterdir())


@pytest.mark.parametrize(
    "key",
    [
        b"../../../outside/secret.csv",
        b"/etc/passwd",
        "南芬区/../../../outside/secret.csv".encode(),
        b"./x",
        b"a//b",
        b"",
    ],
)
def test_a_planted_claim_naming_a_path_outside_the_inbox_is_never_followed(make_settings, tmp_path, key):
    """work/ is in the share too: a clerk can plant a "stranded claim" whose key names a file anywhere.
    Adopting it would move that file into the share (and archive it where the clerk can read it): a key
    that is no plain path below the inbox is refused, and its folder left for a person to look at."""
    settings = make_settings()
    prepare(settings)
    outside = tmp_path / "outside" / "secret.csv"
    outside.parent.mkdir()
    secret = "服务器上的秘密,不属于任何区县\r\n".encode()
    outside.write_bytes(secret)
    planted = settings.work / "20200101T000000-1-deadbeef"
    planted.mkdir(parents=True)
    (planted / inbox.Claim.LOCK).touch()
    (planted / inbox.Claim.ENTRY).write_bytes(b"x")
    (planted / inbox.Claim.KEY).write_bytes(key)
    volunteer_csv(district(settings) / "南芬区_志愿服务_2022-03.csv")

    keys = discover(settings)
    assert keys == ["南芬区/南芬区_志愿服务_2022-03.csv"]  # the planted key is not listed
    assert process_file(keys[0], settings).status == "accepted"
    for forged in (key.decode("utf-8", "replace"), inbox.entry_key(key)):
        assert inbox.claim(settings, forged) is None  # nor taken when a task is handed it
    assert outside.read_bytes() == secret
    shared = list(settings.shared_dir.rglob("*"))
    assert not any(p.is_file() and p.read_bytes() == secret for p in shared)


@pytest.mark.parametrize("swapped", ["claim folder", "read folder", "district folder"])
def test_what_is_parsed_is_what_was_hashed_even_if_the_folders_are_swapped_meanwhile(
    make_settings, tmp_path, monkeypatch, swapped
):
    """work/ is in the share: while a file is parsed, a clerk may rename our claim folder (or a folder in it)
    away and put a link to a server folder in its place, holding a file of the same name. What is parsed —
    and what findings and receipts quote — is the file that was hashed and archived, never that one."""
    import etl.ingest.pipeline

    settings = make_settings()
    prepare(settings)
    name = "南芬区_志愿服务_2022-03.csv"
    volunteer_csv(district(settings) / name)
    lure = tmp_path / "server"
    volunteer_csv(lure / "read" / "南芬区" / name, extra=[["2022-03-05", "南芬区", "SECRET_FROM_THE_SERVER"]])
    original = etl.ingest.pipeline.check_file

    def swap_then_check(path, *args, **kwargs):
        (claim,) = list(settings.work.iterdir())
        moved = {
            "claim folder": (claim, lure),
            "read folder": (claim / "read", lure / "read"),
            "district folder": (claim / "read" / "南芬区", lure / "read" / "南芬区"),
        }[swapped]
        if swapped != "claim folder":
            os.chmod(claim, 0o755)  # a clerk who writes as the pipeline's own user could do this too
        moved[0].rename(moved[0].with_name(moved[0].name + ".away"))
        moved[0].symlink_to(moved[1], target_is_directory=True)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(etl.ingest.pipeline, "check_file", swap_then_check)
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "accepted" and outcome.rows == 3
    stored = query(settings, "SELECT * FROM stg_finding") + query(settings, "SELECT * FROM fct_volunteer_activity")
    assert "SECRET" not in repr(stored)
    receipt = settings.shared_dir / outcome.receipt
    assert b"SECRET" not in receipt.read_bytes()


def test_stranded_claims_are_swept_only_in_the_work_folder_checked(make_settings, tmp_path, monkeypatch):
    """work/ swapped for a link to a server folder right after it is checked: old folders without a lock
    there look like claims that died before their lock was made — they must not be swept."""
    import etl.shared_paths

    settings = make_settings()
    prepare(settings)
    settings.work.mkdir(exist_ok=True)
    server = tmp_path / "airflow_home"
    for name in ("dags", "logs"):
        (server / name).mkdir(parents=True)
        os.utime(server / name, (1, 1))
    real_open, swapped = os.open, []

    def racing_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        if os.fsdecode(path) == "work" and not swapped:
            swapped.append(True)
            settings.work.rename(settings.work.with_name("work.real"))
            settings.work.symlink_to(server, target_is_directory=True)
        return fd

    monkeypatch.setattr(etl.shared_paths.os, "open", racing_open)
    assert inbox.stranded_claims(settings) == []
    monkeypatch.undo()
    assert swapped and sorted(p.name for p in server.iterdir()) == ["dags", "logs"]


def test_a_file_given_back_after_a_fault_stays_in_the_share(make_settings, tmp_path):
    """After a system fault the claimed file goes back to inbox/<folders>/<name>: a folder on the way swapped
    for a link to a server folder meanwhile is moved aside, not followed."""
    settings = make_settings()
    prepare(settings)
    volunteer_csv(settings.inbox / "南芬区" / "三月" / "志愿服务.csv")
    held = inbox.claim(settings, discover(settings)[0])
    server = tmp_path / "server"
    (server / "三月").mkdir(parents=True)
    (settings.inbox / "南芬区").rename(settings.inbox / "南芬区.away")
    (settings.inbox / "南芬区").symlink_to(server, target_is_directory=True)
    inbox.give_back(held, settings)
    assert list((server / "三月").iterdir()) == []
    assert (settings.inbox / "南芬区" / "三月" / "志愿服务.csv").is_file()
    assert not (settings.inbox / "南芬区").is_symlink()
