"""Any name a file system can hold is representable, and every name we derive from it is safe."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from etl.ingest.inbox.names import bounded_name, display_name, display_path, entry_key, is_plain, key_bytes, safe_suffix

# one path component as a Linux file system holds it: any bytes but "/" and NUL, at most 255
components = st.binary(min_size=1, max_size=255).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)
gbk_names = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=40).map(
    lambda t: (t + ".xlsx").encode("gbk")
)


@given(st.lists(components | gbk_names, min_size=1, max_size=4))
def test_every_raw_path_has_a_json_key_that_gives_its_bytes_back(parts):
    raw = b"/".join(parts)
    key = entry_key(raw)
    assert json.loads(json.dumps(key)) == key  # what an Airflow XCom must carry
    key.encode("utf-8")  # no lone surrogates
    assert key_bytes(key) == raw


@given(components | gbk_names)
def test_the_display_form_is_storable_text_without_control_characters(raw):
    shown = display_name(raw)
    shown.encode("utf-8")  # PostgreSQL, SQLite, openpyxl and HTML all take it
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in shown)
    assert shown


@given(gbk_names)
def test_gbk_names_from_a_windows_copy_are_shown_as_written(raw):
    """Bytes that are not UTF-8 are read as GB18030 (GBK); a short GBK name that happens to be valid UTF-8
    too (b"\\xd2\\xbb" is 一 and һ) is shown as UTF-8, its raw bytes kept beside it."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert display_name(raw) == raw.decode("gbk") and not is_plain(raw)
    else:
        assert is_plain(raw)


@given(st.text(min_size=0, max_size=400), st.integers(min_value=40, max_value=200))
def test_a_derived_name_is_one_bounded_component(name, limit):
    safe = bounded_name(name, limit)
    assert 0 < len(safe.encode("utf-8")) <= limit
    assert "/" not in safe and "\x00" not in safe and safe not in (".", "..")


def test_long_names_keep_their_suffix_and_stay_apart():
    a, b = "明" * 200 + "甲.xlsx", "明" * 200 + "乙.xlsx"
    assert bounded_name(a).endswith(".xlsx") and bounded_name(a) != bounded_name(b)
    assert display_path(b"\xc3\xa9/x.csv") == "é/x.csv"
    assert safe_suffix("报表.XLSX") == ".xlsx" and safe_suffix("a.x/../y") == "" and safe_suffix("a." + "z" * 50) == ""
