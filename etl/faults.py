"""Which failures are the system's and which are one file's.

Only system faults fail a task (Airflow retries it; the file goes back to the inbox): the database
unreachable or out of space, the disk full or read-only, any other OSError. Anything else that goes wrong while one file is
read, validated or recorded is that file's rejection, with a reason for the clerk and the exception in
the log for the steward: the other files are not held up, and the file is not retried for ever.
"""

from __future__ import annotations


def is_system_fault(exc: BaseException) -> bool:
    import sqlalchemy as sa

    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit, a cancelled task
        return True
    if isinstance(exc, sa.exc.DataError):  # the database refused one of this file's values
        return False
    if isinstance(exc, (sa.exc.DBAPIError, sa.exc.OperationalError, sa.exc.InterfaceError, TimeoutError)):
        return True
    # the file system under the shared folder or the temporary folder: not the file's content (a file
    # we may not read is caught where it is opened, etl.ingest.inbox.entries.snapshot)
    return isinstance(exc, OSError)
