"""The DAGs' ``on_failure_callback``: a stewards' alert once a task has used up its retries
(etl.publish.alerts), imported only when a task fails, so that parsing a DAG file stays light."""

from __future__ import annotations


def alert_on_failure(context) -> None:
    from etl.publish.alerts import task_failed

    task_failed(context)
