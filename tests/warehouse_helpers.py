"""Run the per-file pipeline over an inbox and read the warehouse back, as several test modules do."""

from __future__ import annotations

import sqlalchemy as sa

from etl.ingest.pipeline import discover, prepare, process_file
from etl.warehouse.engine import get_engine


def ingest(settings) -> dict:
    """Process every file waiting in the inbox; outcomes by inbox-relative path."""
    prepare(settings)
    return {o.file: o for o in (process_file(f, settings) for f in discover(settings))}


def query(settings, sql: str, **params) -> list[dict]:
    with get_engine(settings.warehouse_url).connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def first_seen_at(settings, path, when) -> None:
    """The pipeline's first sight of ``path`` (an inbox file) at ``when`` (city local time): what a scan at
    that moment records (etl.ingest.inbox.sightings), so a test can say when a file arrived."""
    from etl.ingest.inbox import sightings
    from etl.ingest.inbox.names import path_key

    sightings.record(
        get_engine(settings.warehouse_url), [(path_key(settings.inbox, path), path.stat().st_mtime)], now=when
    )


def drop_hotline(settings, name: str, rows: int):
    """明山区's September 2021 12345 export (tests/workbooks.py, ``rows`` tickets: each count its own bytes)
    dropped as ``name`` and ingested; its FileOutcome."""
    from workbooks import hotline_csv

    folder = settings.inbox / "明山区"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(hotline_csv(rows).encode("utf-8"))
    (outcome,) = ingest(settings).values()
    return outcome
