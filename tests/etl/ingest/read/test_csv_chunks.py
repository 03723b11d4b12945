"""A large CSV read in chunks by pandas' C parser (etl/ingest/read/csv_chunks.py ``record_chunks``) gives the
records the csv module reads, each padded with "" to the widest head record: on files hypothesis writes
with short records (a single field, none at all) anywhere, quoted commas, quotes and line breaks inside
fields, and chunk boundaries anywhere; in each encoding a CSV is streamed with (a UTF-8 file with a BOM is
handed to pandas as plain UTF-8, whose C parser drops the BOM); with commas or tabs between the fields
(tests/etl/ingest/read/test_readers.py judges the delimiter)."""

from __future__ import annotations

import csv

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.ingest.read.csv_chunks import head_records, record_chunks

FIELD = st.text(alphabet=st.sampled_from(["a", "7", " ", ",", "\t", '"', "\n", "街", "—"]), max_size=5)


@settings(max_examples=90)
@given(
    width=st.integers(1, 5),
    records=st.lists(st.lists(FIELD, max_size=5), min_size=1, max_size=40),
    chunk_rows=st.integers(1, 9),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
    delimiter=st.sampled_from([",", "\t"]),
)
def test_chunks_hold_the_records_the_csv_module_reads(
    tmp_path_factory, width, records, chunk_rows, encoding, delimiter
):
    records = [[f"h{i}" for i in range(width)], *(r[:width] for r in records)]  # the head is the widest
    path = tmp_path_factory.mktemp("csv") / "tickets.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(records)
    with path.open(encoding=encoding, newline="") as handle:
        expected = [r + [""] * (width - len(r)) for r in csv.reader(handle, delimiter=delimiter)]

    head = head_records(path, encoding, delimiter)
    chunks = list(record_chunks(path, encoding, head, chunk_rows, delimiter))
    read = pd.concat(chunks).to_numpy(dtype=object).tolist()
    assert read == expected
    assert all(chunk.notna().all().all() for chunk in chunks)
