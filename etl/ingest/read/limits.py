"""How much one district file may hold before it is turned away: the bounds that keep one ingest's memory
under 1 GiB whatever a file holds (zip bombs, sparse sheets, huge lines, a million findings).

Each limit can be set from the environment (``LIMIT_<NAME>``, e.g. ``LIMIT_MAX_CELLS=4000000``); a file
over a limit is rejected with a reason that names the limit and its value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    # any file: larger ones are not read, hashed or archived
    max_file_bytes: int = 1024 * MiB
    # files read whole (workbooks, HTML exports, CSVs below the streaming size)
    max_whole_file_bytes: int = 64 * MiB
    # zip containers (xlsx, xlsm, ods): what one member and all members may unpack to, and how much larger
    # than its compressed size a member may be once it unpacks to more than 1 MiB
    max_member_bytes: int = 256 * MiB
    max_unpacked_bytes: int = 512 * MiB
    max_compression_ratio: int = 200
    # a workbook's sheets: the rectangle a reader allocates is rows × columns of the last used cell
    max_rows: int = 1_048_576
    max_columns: int = 1_024
    max_cells: int = 3_000_000
    # one CSV field (or an HTML cell's text)
    max_field_bytes: int = 128 * 1024
    # findings kept per rule and severity; the rest are counted (and their rows still quarantined)
    max_findings_per_rule: int = 1_000
    # the reader child process: how much more address space it may take than its parent had, how long
    max_read_memory_bytes: int = 640 * MiB
    max_read_seconds: int = 300

    @classmethod
    def from_env(cls) -> Limits:
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"LIMIT_{f.name.upper()}")
            if raw:
                values[f.name] = int(raw)
        return cls(**values)


def mib(n: int) -> str:
    """A byte count as the clerk reads it in a reason: 64 MB, 0.1 MB."""
    value = n / MiB
    return f"{value:.0f} MB" if value >= 1 else f"{value:.2g} MB"
