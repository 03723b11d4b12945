"""Where things live, from the environment, so the same DAG runs on a laptop and in production.

SHARED_DIR     the shared folder clerks drop files into (default: <repo>/data/shared)
WAREHOUSE_URL  SQLAlchemy URL of the warehouse (default: SQLite at <repo>/data/warehouse.sqlite;
               production: postgresql+psycopg://user@host/db)
FILE_SETTLE_SECONDS  a file changed more recently than this is checked again after this long and
               left for the next run if it is still growing (default 3)
MAX_FILES_PER_RUN  files one run takes, oldest first; the rest wait for the next run (default 500)
FILES_PER_TASK  files one ingest task processes, a district's together (default 20)
CITY_TIMEZONE  the city's time zone; every time in the warehouse is local time there, like the reporting
               deadlines (default Asia/Shanghai)
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from etl.ingest.read.limits import Limits

REPO_ROOT = Path(__file__).resolve().parent.parent
# The shared folder's layout (README "The shared folder"), named here once: Settings has a path for each.
INBOX, ARCHIVE, WORK, PROCESSED, REJECTED, RECEIPTS = "inbox", "archive", "work", "processed", "rejected", "receipts"
DATA_DOCS, GX_STORE, PUBLISHED, ALERTS, TEMPLATES = "data_docs", "gx", "published", "alerts", "templates"
WAREHOUSE_ASSET = "district_reports_warehouse"  # the Airflow asset ingest updates and publish is scheduled on
APPROVAL_ASSET = "district_reports_approvals"  # updated by a steward's decision: publish runs on it too


def publish_unapproved() -> bool:
    """PUBLISH_UNAPPROVED: leaders' views also show figures awaiting approval (default off: approved only).
    Kept in the warehouse (dim_publish_policy) with the reference data, so a view says what it publishes."""
    return os.environ.get("PUBLISH_UNAPPROVED", "").strip().lower() in ("1", "true", "yes", "on")


def approval_response_days() -> int:
    """APPROVAL_RESPONSE_DAYS (default 7): how long an approval task waits for a steward before it times
    out (an alert) and the next approval run asks again."""
    return int(os.environ.get("APPROVAL_RESPONSE_DAYS", "7"))


def city_timezone() -> ZoneInfo:
    return ZoneInfo(os.environ.get("CITY_TIMEZONE", "Asia/Shanghai"))


def local_time(moment: dt.datetime | float | None = None) -> dt.datetime:
    """A moment (aware datetime or POSIX timestamp; default now) as naive local time in the city."""
    if moment is None:
        moment = dt.datetime.now(dt.UTC)
    elif not isinstance(moment, dt.datetime):
        moment = dt.datetime.fromtimestamp(moment, dt.UTC)
    return moment.astimezone(city_timezone()).replace(tzinfo=None)


@dataclass(frozen=True)
class Settings:
    shared_dir: Path
    warehouse_url: str
    settle_seconds: float = 3.0
    limits: Limits = field(default_factory=Limits)
    # files one run takes, oldest first; the rest wait for the next run (under Airflow's max_map_length, 1024)
    max_files_per_run: int = 500
    # files one ingest task processes, one after the other (a district's files together): Airflow's start-up
    # of a task is paid once per batch instead of once per file (README "One task, several files")
    files_per_task: int = 20

    @classmethod
    def from_env(cls) -> Settings:
        shared = Path(os.environ.get("SHARED_DIR") or REPO_ROOT / "data" / "shared").resolve()
        url = os.environ.get("WAREHOUSE_URL") or f"sqlite:///{REPO_ROOT / 'data' / 'warehouse.sqlite'}"
        return cls(
            shared,
            url,
            float(os.environ.get("FILE_SETTLE_SECONDS", "3")),
            Limits.from_env(),
            int(os.environ.get("MAX_FILES_PER_RUN", "500")),
            max(1, int(os.environ.get("FILES_PER_TASK", "20"))),
        )

    @property
    def warehouse_url_shown(self) -> str:
        """The warehouse URL as it may be printed or logged: its password masked."""
        return masked_url(self.warehouse_url)

    @property
    def inbox(self) -> Path:
        """Clerks' drop folder: inbox/<区县>/<file>."""
        return self.shared_dir / INBOX

    @property
    def archive(self) -> Path:
        """Every raw file ever received, by sha256; never overwritten or deleted."""
        return self.shared_dir / ARCHIVE

    @property
    def work(self) -> Path:
        """Files claimed by a run while it processes them: work/<claim>/ (see etl.ingest.inbox.entries)."""
        return self.shared_dir / WORK

    @property
    def processed(self) -> Path:
        return self.shared_dir / PROCESSED

    @property
    def rejected(self) -> Path:
        return self.shared_dir / REJECTED

    @property
    def receipts(self) -> Path:
        """回执 for clerks: receipts/<区县>/<file>.回执.xlsx."""
        return self.shared_dir / RECEIPTS

    @property
    def data_docs(self) -> Path:
        """Data Docs: every validation as a page (data_docs/local_site/index.html)."""
        return self.shared_dir / DATA_DOCS

    @property
    def gx_store(self) -> Path:
        """The GX project behind Data Docs: every validation result as JSON."""
        return self.shared_dir / GX_STORE

    @property
    def published(self) -> Path:
        """The review packs (xlsx and html) city leaders read."""
        return self.shared_dir / PUBLISHED

    @property
    def alerts(self) -> Path:
        """alerts.jsonl: every alert sent to stewards."""
        return self.shared_dir / ALERTS

    @property
    def templates(self) -> Path:
        """Blank templates for clerks (python -m etl template)."""
        return self.shared_dir / TEMPLATES


def masked_url(url: str) -> str:
    """A database URL with its password replaced by ***, for output and logs (a URL that is not one is
    returned with everything between :// and @ masked)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: mask the credentials part by hand
        head, sep, rest = url.partition("://")
        return f"{head}{sep}***@{rest.split('@', 1)[1]}" if "@" in rest else url
