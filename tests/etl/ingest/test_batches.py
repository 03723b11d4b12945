"""The ingest tasks take files in batches (etl.ingest.pipeline.batches / process_batch): a district's files
together, FILES_PER_TASK at most, every file once; a system fault in one file of a batch does not stop
the others, and the retry processes only the file given back."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from warehouse_helpers import query
from workbooks import hotline_csv

from etl.config import Settings
from etl.ingest import pipeline
from etl.ingest.pipeline import batch_label, batches, discover, prepare, process_batch

FOLDERS = ("明山区", "平山区", "溪湖区", "市本级")


@given(
    st.lists(st.tuples(st.sampled_from(FOLDERS), st.integers(0, 60)), max_size=80, unique=True),
    st.integers(1, 25),
    st.booleans(),
)
def test_batches_keep_every_file_once_a_district_together_and_bounded(entries, per_task, raw_bytes):
    keys = [f"{folder}/报表_{n}.csv" for folder, n in entries]
    if raw_bytes:  # keys of names that are not UTF-8 text are their bytes in base64 (etl.ingest.inbox.names)
        keys = ["b64:" + base64.urlsafe_b64encode(k.encode("gbk")).decode() for k in keys]
    settings = Settings(Path("/tmp/unused"), "sqlite://", files_per_task=per_task)
    found = batches(keys, settings)
    assert sorted(k for batch in found for k in batch) == sorted(keys)  # every file once
    assert all(0 < len(batch) <= per_task for batch in found)
    folders = [{pipeline.display_path(pipeline.key_bytes(k)).split("/")[0] for k in batch} for batch in found]
    assert all(len(f) == 1 for f in folders)  # one district a batch
    for batch in found:
        assert batch_label(batch)


def test_a_system_fault_in_one_file_does_not_stop_its_batch_and_the_retry_takes_only_it(sqlite_settings, monkeypatch):
    settings = dataclasses.replace(sqlite_settings, files_per_task=5)
    folder = settings.inbox / "明山区"
    folder.mkdir(parents=True)
    for n in range(3):
        (folder / f"明山区_12345_2021-0{7 + n}.csv").write_bytes(
            hotline_csv(20 + n).replace("2021年9月", f"2021年{7 + n}月").encode("utf-8")
        )
    prepare(settings)
    (batch,) = batches(discover(settings), settings)
    real = pipeline.check_file  # the step a database outage would break
    calls = []

    def database_down_for_the_second(path, *args, **kwargs):
        calls.append(path.name)
        if len(calls) == 2:
            raise sa.exc.OperationalError("INSERT", {}, ConnectionResetError("server closed the connection"))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "check_file", database_down_for_the_second)
    with pytest.raises(sa.exc.OperationalError):
        process_batch(batch, settings, run_id="run-1")
    assert len(calls) == 3  # the third file was processed after the second failed
    assert len(query(settings, "SELECT load_id FROM stg_file_load")) == 2
    assert len(list(folder.iterdir())) == 1  # the failed file is back in the inbox

    retry = process_batch(batch, settings, run_id="run-1")  # Airflow's retry of the same task
    assert len(calls) == 4  # only the file given back was processed again
    assert sorted(o.status for o in retry) == ["flagged"] * 3
    assert len(query(settings, "SELECT load_id FROM stg_file_load")) == 3
