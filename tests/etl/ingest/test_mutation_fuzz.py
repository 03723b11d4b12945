"""A mutation fuzzer over the shared samples and the demo files: bytes flipped, files cut short, zip
members rewritten (cell references moved far away, row numbers dropped, a DTD added, members deleted or
inflated), CSV lines duplicated, NUL bytes and huge fields inserted. Whatever comes out, every file ends
with a status and a reason, gets a receipt, leaves the inbox, and the good file beside it is loaded."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

from conftest import SAMPLE_FOLDERS, SAMPLES
from hostile import volunteer_csv
from hypothesis import given
from hypothesis import strategies as st

from etl.ingest.pipeline import discover, prepare, process_file

STATUSES = {"accepted", "flagged", "rejected", "duplicate"}


@lru_cache(maxsize=1)
def corpus() -> dict[str, tuple[str, bytes]]:
    """name → (district folder, bytes): the shared samples and a few demo files of every format."""
    import tempfile

    from demo import write_demo_files

    files = {name: (folder, (SAMPLES / name).read_bytes()) for name, folder in SAMPLE_FOLDERS.items()}
    demo = Path(tempfile.mkdtemp(prefix="fuzz-demo-"))
    picked = 0
    for path in sorted(write_demo_files(demo)):
        if picked < 8 and path.suffix in (".xlsx", ".csv", ".xls") and path.stat().st_size < 200_000:
            files[path.name] = (path.parent.name, path.read_bytes())
            picked += 1
    return files


def mutate_bytes(data: bytes, draw) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "nul"]))
    at = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    return data[:at] + b"\x00" + data[at:]


def mutate_zip(data: bytes, draw) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = {i.filename: source.read(i.filename) for i in source.infolist()}
    sheets = [n for n in members if n.startswith("xl/worksheets/") and n.endswith(".xml")] or list(members)
    name = draw(st.sampled_from(sheets))
    xml = members[name]
    kind = draw(st.sampled_from(["far_cell", "no_row_numbers", "dtd", "delete", "inflate", "error_cell"]))
    if kind == "far_cell":
        ref = draw(st.sampled_from(["XFD1048576", "AMJ1048576", "ZZ200000", "A1048576", "XFD1"]))
        xml = re.sub(rb'<c r="[A-Z]+\d+"', f'<c r="{ref}"'.encode(), xml, count=1)
    elif kind == "no_row_numbers":
        xml = re.sub(rb' r="[A-Z]*\d+"', b"", xml)
    elif kind == "dtd":
        xml = xml.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e "e">]>', 1)
    elif kind == "delete":
        del members[name]
        xml = None
    elif kind == "inflate":
        xml = xml.replace(b"<sheetData>", b"<sheetData>" + b"<row/>" * draw(st.integers(1, 400_000)), 1)
    else:
        xml = re.sub(
            rb'<c r="([A-Z]+\d+)"[^>]*>(<v>[^<]*</v>)', rb'<c r="\1" t="e"><f>1/0</f><v>#REF!</v>', xml, count=3
        )
    if xml is not None:
        members[name] = xml
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member, content in members.items():
            target.writestr(member, content)
    return out.getvalue()


def mutate_text(data: bytes, draw) -> bytes:
    lines = data.split(b"\n")
    kind = draw(st.sampled_from(["duplicate", "long_field", "nul", "gbk", "drop"]))
    at = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
    if kind == "duplicate":
        lines[at:at] = [lines[at]] * draw(st.integers(1, 5))
    elif kind == "long_field":
        lines[at] = lines[at] + b',"' + b"x" * draw(st.integers(1, 300_000)) + b'"'
    elif kind == "nul":
        lines[at] = lines[at].replace(b",", b",\x00", 1)
    elif kind == "gbk":
        try:
            return data.decode("utf-8-sig").encode("gb18030")
        except UnicodeError:
            return data
    else:
        del lines[at]
    return b"\n".join(lines)


@given(data=st.data())
def test_mutated_samples_and_demo_files_end_with_a_status_beside_a_good_file(make_settings, data):
    settings = make_settings()
    prepare(settings)
    name = data.draw(st.sampled_from(sorted(corpus())), label="file")
    folder, original = corpus()[name]
    mutated = original
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if mutated.startswith(b"PK\x03\x04") and data.draw(st.booleans(), label="structural"):
            try:
                mutated = mutate_zip(mutated, data.draw)
                continue
            except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError):
                pass  # an earlier byte mutation left a zip Python's zipfile cannot rewrite: mutate its bytes
        mutated = (
            mutate_text(mutated, data.draw)
            if name.endswith(".csv") and data.draw(st.booleans())
            else mutate_bytes(mutated, data.draw)
        )
    target = settings.inbox / folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(mutated)
    good = volunteer_csv(settings.inbox / "南芬区" / "南芬区_志愿服务_对照.csv")
    outcomes = {o.file: o for o in (process_file(k, settings) for k in discover(settings))}
    assert outcomes[f"南芬区/{good.name}"].status == "accepted"
    for outcome in outcomes.values():
        assert outcome.status in STATUSES and outcome.reason_zh, outcome
        assert outcome.receipt and (settings.shared_dir / outcome.receipt).is_file()
    assert [p for p in settings.inbox.rglob("*") if p.is_file()] == []
