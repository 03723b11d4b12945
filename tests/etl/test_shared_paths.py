"""The helpers that keep every read and write inside the shared folder never follow a link."""

from __future__ import annotations

import os

import pytest

from etl.shared_paths import (
    append_no_follow,
    move_file,
    no_link_below,
    open_below,
    open_folder,
    pinned_folder,
    read_no_follow,
    real_folder,
    remove_file,
    write_new,
    write_unused,
)


@pytest.fixture
def share(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    shared = tmp_path / "shared"
    (shared / "a").mkdir(parents=True)
    return shared, outside


def test_a_link_anywhere_below_the_root_is_seen(share):
    shared, outside = share
    (shared / "a" / "b").symlink_to(outside, target_is_directory=True)
    assert no_link_below(shared / "a", shared)
    assert no_link_below(shared / "a" / "missing" / "x", shared)
    assert not no_link_below(shared / "a" / "b", shared)
    assert not no_link_below(shared / "a" / "b" / "secret.txt", shared)


def test_files_are_written_and_read_never_through_a_link(share):
    shared, outside = share
    link = shared / "a" / "page.html"
    link.symlink_to(outside / "secret.txt")
    assert read_no_follow(link) is None  # not the target's bytes
    write_new(link, shared, b"ours")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert not link.is_symlink() and link.read_bytes() == b"ours"

    link.unlink()
    link.symlink_to(outside / "secret.txt")
    (shared / "a" / f"page.html.{os.getpid()}.tmp").symlink_to(outside / "secret.txt")  # an old temporary name
    write_new(link, shared, b"replaced")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert read_no_follow(link) == b"replaced"
    assert read_no_follow(shared / "a") is None  # a folder is no file


def test_a_folder_that_is_a_link_is_moved_aside_and_made_real(share):
    shared, outside = share
    (shared / "a" / "b").symlink_to(outside, target_is_directory=True)
    made = real_folder(shared / "a" / "b" / "c", shared)
    assert made.is_dir() and no_link_below(made, shared)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_a_folder_swapped_for_a_link_after_it_was_pinned_is_not_followed(share):
    """The race a check-then-write loses: the folder is checked, a clerk swaps it for a link to somewhere
    else, we write. Through the pinned folder the write lands in the folder we checked."""
    shared, outside = share
    with pinned_folder(shared / "a" / "receipts", shared) as folder:
        (shared / "a" / "receipts").rename(shared / "a" / "moved")
        (shared / "a" / "receipts").symlink_to(outside, target_is_directory=True)
        write_new(folder / "回执.xlsx", folder, b"receipt")
        write_unused(folder, "note.txt", folder, b"note")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert sorted(p.name for p in (shared / "a" / "moved").iterdir()) == ["note.txt", "回执.xlsx"]


@pytest.mark.parametrize("planted", ["link", "fifo", "folder", "hardlink"])
def test_what_a_clerk_leaves_at_a_name_we_write_is_moved_aside_not_followed_or_waited_on(share, planted):
    shared, outside = share
    folder = shared / "alerts"
    folder.mkdir()
    target = folder / "alerts.jsonl"
    if planted == "link":
        target.symlink_to(outside / "secret.txt")
    elif planted == "fifo":
        os.mkfifo(target)  # opened for writing, it would wait for a reader forever
    elif planted == "folder":
        (target / "inner").mkdir(parents=True)
    else:
        os.link(outside / "secret.txt", target)  # another name of a file outside
    append_no_follow(target, shared, b"line 1\n")
    append_no_follow(target, shared, b"line 2\n")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert read_no_follow(target) == b"line 1\nline 2\n"
    assert any("已移开" in p.name for p in folder.iterdir())

    page = folder / "page.html"
    os.mkfifo(page) if planted == "fifo" else (page / "x").mkdir(parents=True) if planted == "folder" else None
    write_new(page, shared, b"<html>")
    assert read_no_follow(page) == b"<html>"


def test_a_path_that_climbs_out_is_refused(share):
    shared, outside = share
    with pytest.raises(ValueError):
        open_folder(shared / "a" / ".." / ".." / "outside", shared)
    with pytest.raises(ValueError):
        write_unused(shared / "a" / ".." / "..", "x.txt", shared, b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_a_folder_swapped_for_a_link_while_the_path_is_walked_is_not_followed(share, monkeypatch):
    """The clerk's race: receipts/ is checked, then swapped for a link to a server folder before the next
    component is made. Each component is opened relative to the one before, so the walk goes on in the
    folder it opened: nothing is made, renamed or moved in the server folder."""
    import etl.shared_paths

    shared, outside = share
    (shared / "receipts").mkdir()
    (outside / "airflow.cfg").write_bytes(b"[core]")
    swapped = []

    def racing(call):
        """``call``, and right after the first look at receipts/ (by name or by path), the swap."""

        def raced(path, *args, **kwargs):
            result = call(path, *args, **kwargs)
            if os.fsdecode(path).endswith("receipts") and not swapped:
                swapped.append(True)
                (shared / "receipts").rename(shared / "receipts.real")
                (shared / "receipts").symlink_to(outside, target_is_directory=True)
            return result

        return raced

    monkeypatch.setattr(etl.shared_paths.os, "open", racing(os.open))
    monkeypatch.setattr(etl.shared_paths.os, "lstat", racing(os.lstat))
    with pinned_folder(shared / "receipts" / "airflow.cfg", shared) as folder:
        write_new(folder / "回执.xlsx", folder, b"receipt")
    monkeypatch.undo()
    assert swapped and sorted(p.name for p in outside.iterdir()) == ["airflow.cfg", "secret.txt"]
    assert (outside / "airflow.cfg").read_bytes() == b"[core]"
    assert (shared / "receipts.real" / "airflow.cfg" / "回执.xlsx").read_bytes() == b"receipt"


def test_open_below_opens_regular_files_only_and_leaks_nothing(share):
    shared, outside = share
    (shared / "a" / "r.xlsx").write_bytes(b"PK")
    (shared / "a" / "linked").symlink_to(outside, target_is_directory=True)
    os.mkfifo(shared / "a" / "pipe")
    before = len(os.listdir("/proc/self/fd"))
    for path in (shared / "a", shared / "a" / "linked" / "secret.txt", shared / "a" / "pipe", shared, shared / "b"):
        assert open_below(path, shared) is None
    assert len(os.listdir("/proc/self/fd")) == before
    with open_below(shared / "a" / "r.xlsx", shared) as handle:
        assert handle.read() == b"PK"


def test_files_are_moved_and_removed_in_their_pinned_folders_and_links_are_left_alone(share):
    """The GX stores move and remove stored results: a link where a result should be is no result (neither
    its target moved into the share nor removed), and a move lands in the folder checked."""
    shared, outside = share
    (shared / "a" / "r.json").write_bytes(b"{}")
    (shared / "a" / "linked.json").symlink_to(outside / "secret.txt")
    assert move_file(shared / "a" / "r.json", shared / "b" / "r.json", shared)
    assert (shared / "b" / "r.json").read_bytes() == b"{}" and not (shared / "a" / "r.json").exists()
    assert not move_file(shared / "a" / "linked.json", shared / "b" / "s.json", shared)
    assert not remove_file(shared / "a" / "linked.json", shared)
    assert remove_file(shared / "b" / "r.json", shared) and not remove_file(shared / "b" / "r.json", shared)
    assert (outside / "secret.txt").read_bytes() == b"secret" and (shared / "a" / "linked.json").is_symlink()
