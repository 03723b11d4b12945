"""Put archived raw files back into the inbox so the next run (the DAG, or ``python -m etl ingest``)
processes them again — the steward's re-run and backfill.

What this is for: files whose earlier processing was **rejected** or **interrupted**, and rebuilding a
period after the rules (``expectations/``) or the reference data (``etl/reference/places.yaml``) changed.

What it cannot do: reload content that is already loaded. A byte-identical copy of a loaded file is a
duplicate by design (DOMAIN.md, "Resubmission"; the unique index ``ux_stg_file_load_loaded_sha`` lets a
content be loaded once), so a re-dropped accepted/flagged file is recorded as ``duplicate`` and changes
nothing. A re-dropped **rejected** file is a duplicate for an ordinary run too (same bytes, same folder
and name, same answer); after a rule or reference change the steward processes it on purpose with
``etl.ingest.pipeline.process_file(path, force=True)`` — ``python -m etl reprocess LOAD_ID --now`` and
``python -m etl backfill PERIOD --now`` do exactly that.

The file goes back to ``inbox/<folder>/<file_name>`` as recorded in ``stg_file_load``, with the bytes and
the modification time of the archived copy, and its sighting (etl.ingest.inbox.sightings) is set to the original
``received_at`` before it appears there: the reprocessed file keeps its received time, so it does not
overtake a later corrected version, nor look late.
Nothing in the inbox is ever overwritten. Statuses of earlier records are never changed: every outcome
stays in the history.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import uuid
from pathlib import Path

import sqlalchemy as sa

from etl.config import Settings
from etl.ingest.inbox import sightings
from etl.ingest.inbox.names import path_key
from etl.shared_paths import NEW_FILE, pinned_folder
from etl.statuses import LOADED_STATUSES, REJECTED
from etl.warehouse.engine import as_datetime, get_engine

log = logging.getLogger(__name__)

_COLUMNS = (
    "load_id, status, file_name, folder, archive_path, sha256, report_type, period, is_current, "
    "source_path_bytes, received_at"
)


class UnknownLoadError(LookupError):
    """No stg_file_load row with this load id."""


def reprocess(load_id: int, settings: Settings | None = None) -> Path:
    """Copy the archived raw file of ``load_id`` back to ``inbox/<folder>/<file_name>``; returns that path.

    Raises UnknownLoadError for an unknown load id, FileExistsError when a file of that name is already
    waiting in the inbox, FileNotFoundError / ValueError when the archived copy is missing or damaged."""
    settings = settings or Settings.from_env()
    engine = get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        row = (
            conn.execute(sa.text(f"SELECT {_COLUMNS} FROM stg_file_load WHERE load_id = :id"), {"id": int(load_id)})
            .mappings()
            .first()
        )
    if row is None:
        raise UnknownLoadError(f"load {load_id} 不存在（stg_file_load 中没有这条记录），无法重新处理")
    target = inbox_path(row, settings)
    if target.exists():
        raise FileExistsError(f"收件箱中已有同名文件，未覆盖：{target}")
    _warn_if_loaded(engine, dict(row))
    return _redrop(dict(row), target, settings)


def backfill(period: str, report_type: str | None = None, settings: Settings | None = None) -> list[Path]:
    """Re-drop the archived raw file of every current or rejected load of ``period`` (and ``report_type``
    when given), once per content, oldest first; returns the inbox paths. All targets are checked first:
    if any of them is already waiting in the inbox nothing is copied (FileExistsError). Two loads with the
    same file name (a rejected file and its corrected resubmission) get ``name(2).ext`` for the second."""
    settings = settings or Settings.from_env()
    engine = get_engine(settings.warehouse_url)
    params = {"p": period, "rejected": REJECTED, **({"rt": report_type} if report_type else {})}
    by_type = " AND report_type = :rt" if report_type else ""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(
                    f"SELECT {_COLUMNS} FROM stg_file_load WHERE period = :p{by_type} "
                    "AND (is_current = 1 OR status = :rejected) ORDER BY load_id"
                ),
                params,
            )
            .mappings()
            .all()
        )
    latest_by_content = {r["sha256"]: dict(r) for r in rows}  # later records of the same bytes win
    chosen = sorted(latest_by_content.values(), key=lambda r: r["load_id"])
    targets: list[Path] = []
    for row in chosen:
        target = inbox_path(row, settings)
        n = 2
        while target in targets:
            stem, suffix = Path(row["file_name"]).stem, Path(row["file_name"]).suffix
            target = target.with_name(f"{stem}({n}){suffix}")
            n += 1
        targets.append(target)
    waiting = [str(t) for t in targets if t.exists()]
    if waiting:
        raise FileExistsError("收件箱中已有同名文件，本次补数未复制任何文件：" + "；".join(waiting))
    paths = []
    for row, target in zip(chosen, targets, strict=True):
        _warn_if_loaded(engine, row)
        paths.append(_redrop(row, target, settings))
    log.info("backfill %s %s: %d files back in the inbox", period, report_type or "(all types)", len(paths))
    return paths


def inbox_path(row: dict, settings: Settings) -> Path:
    """inbox/<folder>/<file_name>, where the clerk dropped the file (inbox/<file_name> without a folder);
    a name that was not UTF-8 text goes back under its raw bytes."""
    if row.get("source_path_bytes"):
        return settings.inbox / os.fsdecode(bytes.fromhex(row["source_path_bytes"]))
    folder = settings.inbox / row["folder"] if row["folder"] else settings.inbox
    return folder / row["file_name"]


def _redrop(row: dict, target: Path, settings: Settings) -> Path:
    """The archived bytes back at ``target``. Both ends are in the shared folder, where a clerk may leave a
    link at any name: the archive copy is opened without following one (and its bytes checked against the
    recorded sha256 as they are copied), and the copy is written under a new random name (``.part``: the
    scan ignores it) in the pinned inbox folder, then renamed into place (etl.shared_paths)."""
    if not row["archive_path"]:
        raise FileNotFoundError(f"load {row['load_id']} 没有存档文件，无法重新处理")
    archived = settings.shared_dir / row["archive_path"]
    source = _open_archived(archived, settings.shared_dir)
    if source is None:
        raise FileNotFoundError(f"load {row['load_id']} 的存档文件不存在：{archived}")
    with os.fdopen(source, "rb") as original, pinned_folder(target.parent, settings.shared_dir) as folder:
        scratch = folder / f".{uuid.uuid4().hex}.reprocess.part"
        try:
            with os.fdopen(os.open(scratch, NEW_FILE, 0o644), "wb") as copy:
                digest = hashlib.sha256()
                for block in iter(lambda: original.read(1 << 20), b""):
                    digest.update(block)
                    copy.write(block)
            if digest.hexdigest() != row["sha256"]:
                raise ValueError(f"load {row['load_id']} 的存档文件已损坏（sha256 不符）：{archived}")
            mtime = os.fstat(original.fileno()).st_mtime
            os.utime(scratch, (mtime, mtime))  # the archived copy's mtime (information)
            if os.path.lexists(folder / target.name):  # someone dropped a file of that name meanwhile
                raise FileExistsError(f"收件箱中已有同名文件，未覆盖：{target}")
            if row["received_at"] is not None:  # the original submission's received time, set before it is visible
                sightings.preset(
                    get_engine(settings.warehouse_url),
                    path_key(settings.inbox, target),
                    as_datetime(row["received_at"]),
                    sightings.REPROCESS,
                    mtime,
                )
            os.rename(scratch, folder / target.name)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(scratch)
    log.info("load %s (%s, %s) back in the inbox: %s", row["load_id"], row["status"], row["file_name"], target)
    return target


def _open_archived(archived: Path, root: Path) -> int | None:
    """A descriptor of the regular file ``archived`` (below ``root``), reached without following a link;
    None when it is missing, a link or no regular file."""
    try:
        with pinned_folder(archived.parent, root) as folder:
            fd = os.open(folder / archived.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _warn_if_loaded(engine, row: dict) -> None:
    with engine.connect() as conn:
        loaded = conn.execute(
            sa.text(
                "SELECT load_id FROM stg_file_load WHERE sha256 = :sha AND status IN :loaded ORDER BY load_id LIMIT 1"
            ).bindparams(sa.bindparam("loaded", expanding=True)),
            {"sha": row["sha256"], "loaded": list(LOADED_STATUSES)},
        ).scalar()
    if loaded is not None:
        log.warning(
            "%s: this content is already loaded (load %s); the next run records it as a duplicate",
            row["file_name"],
            loaded,
        )
