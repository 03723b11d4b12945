"""Load guarantees on SQLite and the real PostgreSQL: a file's facts appear all or nothing, a load cut
off half-way leaves nothing behind and the next run loads it, and overlapping runs load a file once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import psycopg
import pytest
import sqlalchemy as sa
from conftest import SAMPLES

import etl.ingest.load.sinks
from etl.ingest.load.sinks import LiveCopy, fact_copy_block
from etl.ingest.pipeline import discover, prepare, process_file
from etl.warehouse.engine import get_engine, insert_facts

SAMPLE = "本溪县_政务服务事项清单_2021Q4.xlsx"  # 40 service items


def counts(settings) -> tuple[int, int]:
    with get_engine(settings.warehouse_url).connect() as conn:
        return (
            conn.execute(sa.text("SELECT COUNT(*) FROM stg_file_load")).scalar(),
            conn.execute(sa.text("SELECT COUNT(*) FROM fct_service_item")).scalar(),
        )


def drop_sample(settings, name: str = SAMPLE):
    target = settings.inbox / "本溪县" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(SAMPLES / SAMPLE, target)
    return target


def test_a_load_cut_off_half_way_leaves_nothing_and_the_next_run_loads_it(settings, monkeypatch, request):
    prepare(settings)
    path = drop_sample(settings)
    if settings.warehouse_url.startswith("postgresql"):
        # the facts go in by COPY, 20 rows a statement (etl.ingest.load.sinks.LiveCopy.WHOLE_FRAME): once the first statement is
        # done the server kills the backend (an admin, the OOM killer) while the rest is on its way
        monkeypatch.setitem(LiveCopy.WHOLE_FRAME, "statement_rows", 20)
        admin = request.getfixturevalue("pg_admin")
        chunks = []

        def dying_lines(frame, contract, lineage):
            chunks.append(len(frame))
            if len(chunks) == 2:
                kill_after_first_copy(admin, settings.warehouse_url.rsplit("/", 1)[1])
            return fact_copy_block(frame, contract, lineage)

        monkeypatch.setattr(etl.ingest.load.sinks, "fact_copy_block", dying_lines)
    else:

        def dying_insert(conn, contract, columns, rows):
            insert_facts(conn, contract, columns, rows[: len(rows) // 2])  # half the rows are in ...
            raise OSError("disk full")  # ... when the process dies mid-load

        monkeypatch.setattr(etl.ingest.load.sinks, "insert_facts", dying_insert)
    with pytest.raises((OSError, sa.exc.OperationalError, sa.exc.DBAPIError)):
        process_file(discover(settings)[0], settings)
    get_engine(settings.warehouse_url).dispose()
    assert counts(settings) == (0, 0)  # no audit row, no facts: the transaction rolled back
    assert path.exists()  # the original waits in the inbox for the retry

    monkeypatch.setattr(etl.ingest.load.sinks, "fact_copy_block", fact_copy_block)
    monkeypatch.setattr(etl.ingest.load.sinks, "insert_facts", insert_facts)
    outcome = process_file(discover(settings)[0], settings)
    assert outcome.status == "accepted" and outcome.rows == 40
    assert counts(settings) == (1, 40)


def kill_after_first_copy(admin_dsn: str, database: str) -> None:
    """Terminate the backend loading facts into ``database`` once its first COPY statement has finished
    (the session is idle in its transaction, rows of the file in it)."""
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        for _ in range(500):
            row = admin.execute(
                "SELECT pid, state FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY %%'", (database,)
            ).fetchone()
            if row is not None and row[1] == "idle in transaction":
                admin.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                return
            time.sleep(0.01)
    raise AssertionError(f"no COPY into {database} finished")


def test_overlapping_runs_load_the_same_content_once(settings):
    prepare(settings)
    drop_sample(settings, "a_" + SAMPLE)
    drop_sample(settings, "b_" + SAMPLE)
    code = (
        "import sys, json; from etl.ingest.pipeline import process_file; "
        "print(json.dumps(process_file(sys.argv[1]).as_dict(), ensure_ascii=False))"
    )
    env = {**os.environ, "SHARED_DIR": str(settings.shared_dir), "WAREHOUSE_URL": settings.warehouse_url}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code, f"本溪县/{p}_{SAMPLE}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in ("a", "b")
    ]
    results = [run.communicate(timeout=180) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in results]
    statuses = sorted(__import__("json").loads(out.strip().splitlines()[-1])["status"] for out, _ in results)
    assert statuses == ["accepted", "duplicate"]
    assert counts(settings) == (2, 40)


def test_a_second_run_over_the_same_inbox_writes_nothing(settings):
    prepare(settings)
    drop_sample(settings)
    process_file(discover(settings)[0], settings)
    before = counts(settings)
    prepare(settings)
    assert discover(settings) == []
    assert counts(settings) == before == (1, 40)
