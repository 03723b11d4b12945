"""When the pipeline first saw each inbox entry: the file's received time (DOMAIN.md "Received time").

A file's modification time is the clerk's clock, and Windows Explorer and most copy tools preserve it: a
report edited last week and dropped after the deadline would look on time. So the scan that first finds an
entry records the moment in ``stg_inbox_sighting`` (our clock, city local time); later scans keep it while
the entry waits (a lock file's workbook, a file still growing, one beyond the run's batch), and the run that
processes the entry takes it as ``received_at`` and removes it. The mtime is kept beside it for information.

Only two callers set a time other than "now": ``etl.ingest.inbox.reprocess`` (a file put back from the archive keeps
the received time of its first submission) and the demo (the top-level ``demo`` package: realistic
submission times for files it writes itself). Neither is reachable from the shared folder: nothing a clerk
writes there sets a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.config import local_time
from etl.warehouse.engine import as_datetime

SCAN, REPROCESS, DEMO = "scan", "reprocess", "demo"
FORGET_AFTER = dt.timedelta(days=30)  # a sighting of an entry that left the inbox unprocessed (deleted)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def record(
    engine: Engine, entries: Iterable[tuple[str, float | None]], now: dt.datetime | None = None
) -> dict[str, dt.datetime]:
    """Note every (entry key, mtime) seen by a scan: a new key is first seen ``now``; a known one keeps its
    first time. Returns the first-seen time of every key given."""
    now = now or local_time()
    entries = list(entries)
    seen: dict[str, dt.datetime] = {}
    if not entries:
        return seen
    hashes = {key_hash(key): (key, mtime) for key, mtime in entries}
    with engine.begin() as conn:
        known = _first_seen(conn, list(hashes))
        new = [h for h in hashes if h not in known]
        if new:
            conn.execute(
                sa.text(
                    "INSERT INTO stg_inbox_sighting (key_sha256, entry_key, first_seen_at, last_seen_at, file_modified_at, origin) "
                    "VALUES (:h, :key, :now, :now, :mtime, :origin) ON CONFLICT (key_sha256) DO NOTHING"
                ),
                [{"h": h, "key": hashes[h][0], "now": now, "mtime": _local(hashes[h][1]), "origin": SCAN} for h in new],
            )
            known.update(_first_seen(conn, new))  # a concurrent scan may have seen some first
        if known:
            conn.execute(
                sa.text("UPDATE stg_inbox_sighting SET last_seen_at = :now WHERE key_sha256 = :h"),
                [{"h": h, "now": now} for h in known],
            )
        conn.execute(
            sa.text("DELETE FROM stg_inbox_sighting WHERE last_seen_at < :before"), {"before": now - FORGET_AFTER}
        )
    for h, (key, _mtime) in hashes.items():
        seen[key] = known.get(h, now)
    return seen


def first_seen(engine: Engine, key: str) -> tuple[dt.datetime, dt.datetime | None] | None:
    """(first seen, mtime then) of the entry, or None when no scan has seen it."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT first_seen_at, file_modified_at FROM stg_inbox_sighting WHERE key_sha256 = :h"),
            {"h": key_hash(key)},
        ).first()
    return None if row is None else (as_datetime(row[0]), as_datetime(row[1]))


def preset(engine: Engine, key: str, when: dt.datetime, origin: str, mtime: float | None = None) -> None:
    """The received time of an entry we put into the inbox ourselves (reprocess, the demo)."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM stg_inbox_sighting WHERE key_sha256 = :h"), {"h": key_hash(key)})
        conn.execute(
            sa.text(
                "INSERT INTO stg_inbox_sighting (key_sha256, entry_key, first_seen_at, last_seen_at, file_modified_at, origin) "
                "VALUES (:h, :key, :when, :now, :mtime, :origin)"
            ),
            {
                "h": key_hash(key),
                "key": key,
                "when": when,
                "now": local_time(),
                "mtime": _local(mtime),
                "origin": origin,
            },
        )


def forget(engine: Engine, key: str) -> None:
    """The entry has been processed and filed away: a new file of that name is a new submission."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM stg_inbox_sighting WHERE key_sha256 = :h"), {"h": key_hash(key)})


def _first_seen(conn, hashes: list[str]) -> dict[str, dt.datetime]:
    found = {}
    for start in range(0, len(hashes), 500):  # bounded IN lists
        chunk = hashes[start : start + 500]
        marks = ", ".join(f":h{i}" for i in range(len(chunk)))
        rows = conn.execute(
            sa.text(f"SELECT key_sha256, first_seen_at FROM stg_inbox_sighting WHERE key_sha256 IN ({marks})"),
            {f"h{i}": h for i, h in enumerate(chunk)},
        )
        found.update({h: as_datetime(t) for h, t in rows})
    return found


def _local(mtime: float | None) -> dt.datetime | None:
    return None if mtime is None else local_time(mtime)
