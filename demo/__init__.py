"""Deterministic demo data: the district files a clerk would drop into the shared inbox. Demo only: of the
production package ``etl``, only the ``python -m etl demo`` command imports it.

One generator module per report type (or per pair of related types), discovered like the contracts in
``etl/contracts``: every module here except ``common`` declares

* ``REPORT_TYPES`` — the report types it writes, a tuple (``ledgers`` writes the task and rectification
  ledgers);
* ``PERIODS`` — report type → the period of its files;
* ``write(shared_dir) -> list[Path]`` — writes its files under ``shared_dir/inbox/<reporting unit>/``;
* ``submitted_at(path) -> datetime | None`` — when the clerk dropped one of its files (Beijing time), None
  for a file that is not its own.

``GENERATORS`` maps each report type to its module. ``write_demo_files(shared_dir)`` runs every
generator and sets each file's modification time to its ``submitted_at``: on time, except 桓仁县's
register, 南芬区's volunteer report and 明山区's flood report of 2021-07-29, which are late.

Everything comes from ``random.Random`` seeded per file from ``demo.common.SEED``; xlsx files are written
with fixed document-property dates and fixed zip entry timestamps (``demo.common.save_xlsx``), so two runs
give byte-identical files.

Adding a report type: a module here with the four names above (shared helpers in ``demo.common``), and its
tests under tests/demo/. Modules are discovered, so nothing else needs to change.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from datetime import datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

__all__ = [
    "DEMO_PERIODS",
    "GENERATORS",
    "generator_modules",
    "record_demo_submissions",
    "submitted_at",
    "write_demo_files",
]

NOT_GENERATORS = frozenset({"common"})
BEIJING = ZoneInfo("Asia/Shanghai")


def _discover() -> dict[str, ModuleType]:
    generators: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in NOT_GENERATORS:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        types = module.REPORT_TYPES
        if not isinstance(types, tuple) or not types:
            raise TypeError(f"{module.__name__}.REPORT_TYPES must be a non-empty tuple, not {types!r}")
        if set(module.PERIODS) != set(types):
            raise ValueError(f"{module.__name__}.PERIODS names {sorted(module.PERIODS)}, REPORT_TYPES {sorted(types)}")
        for report_type in types:
            if report_type in generators:
                raise ValueError(
                    f"report type {report_type!r} has two demo generators: "
                    f"{generators[report_type].__name__} and {module.__name__}"
                )
            generators[report_type] = module
    return generators


GENERATORS: dict[str, ModuleType] = _discover()

DEMO_PERIODS: dict[str, str | tuple[str, str]] = {
    report_type: module.PERIODS[report_type] for report_type, module in GENERATORS.items()
}


def generator_modules() -> list[ModuleType]:
    """Each generator module once, in module name order."""
    return list(dict.fromkeys(GENERATORS.values()))


def write_demo_files(shared_dir: Path) -> list[Path]:
    """Write the demo district files into shared_dir/'inbox'/<folder>/ and return their paths; each file's
    modification time is when its clerk dropped it (``submitted_at``)."""
    paths: list[Path] = []
    for module in generator_modules():
        paths += module.write(Path(shared_dir))
    for path in paths:
        stamp = submitted_at(path).replace(tzinfo=BEIJING).timestamp()
        os.utime(path, (stamp, stamp))
    return paths


def submitted_at(path: Path) -> datetime:
    """When the clerk dropped a demo file, Beijing time (its mtime, and its received time through
    ``record_demo_submissions``): asked of the generator that wrote it."""
    path = Path(path)
    times = [when for module in generator_modules() if (when := module.submitted_at(path)) is not None]
    if len(times) != 1:
        raise ValueError(f"{path.name}: {'no' if not times else 'more than one'} demo generator claims this file")
    return times[0]


def record_demo_submissions(settings, paths: list[Path]) -> None:
    """Demo only — not the production path: the received time of each demo file is its clerk's realistic
    submission time (``submitted_at``), set in the warehouse as if a scan had seen it then
    (etl.ingest.inbox.sightings). Production takes the moment a scan first sees a file; nothing in the shared folder
    can set it."""
    from etl.ingest.inbox import sightings
    from etl.ingest.inbox.names import path_key
    from etl.warehouse.engine import get_engine
    from etl.warehouse.schema import ensure_schema

    engine = get_engine(settings.warehouse_url)
    ensure_schema(engine)
    for path in paths:
        sightings.preset(
            engine, path_key(settings.inbox, path), submitted_at(path), sightings.DEMO, path.stat().st_mtime
        )
