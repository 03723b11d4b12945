"""The helpers that keep every read and write inside the shared folder never follow a link."""

from __future__ import annotations

import os

import pytest

from etl.shared_paths import no_link_below, read_no_follow, real_folder, replace_no_follow, write_no_follow


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
    write_no_follow(link, b"ours")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert not link.is_symlink() and link.read_bytes() == b"ours"

    link.unlink()
    link.symlink_to(outside / "secret.txt")
    (shared / "a" / f"page.html.{os.getpid()}.tmp").symlink_to(outside / "secret.txt")  # its temporary name too
    replace_no_follow(link, b"replaced")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert read_no_follow(link) == b"replaced"
    assert read_no_follow(shared / "a") is None  # a folder is no file


def test_a_folder_that_is_a_link_is_moved_aside_and_made_real(share):
    shared, outside = share
    (shared / "a" / "b").symlink_to(outside, target_is_directory=True)
    made = real_folder(shared / "a" / "b" / "c", shared)
    assert made.is_dir() and no_link_below(made, shared)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
