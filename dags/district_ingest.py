"""district_ingest — 区县报表入库: pick up district files from the shared inbox and load the warehouse.

Table of contents:
  prepare_warehouse  create/upgrade tables and views, refresh places and the reporting calendar
  discover_files     list the entries of SHARED_DIR/inbox/<区县>/ (lock, temp and growing files wait)
  process_file       one mapped task per entry: claim → archive → parse → validate (GX) → load → receipt → file away
  summarise_run      counts of accepted / flagged / rejected / duplicate / held files, rows and findings
  announce_update    updates the warehouse asset when anything was loaded (publishing is scheduled on it)

A rejected file is a recorded outcome (the task succeeds); a task fails only on system faults and is
then retried, and an alert goes out once the retries are used up. Logic lives in ``etl``; heavy imports
happen inside the tasks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, get_current_context, task

from etl.config import WAREHOUSE_ASSET


def alert_on_failure(context) -> None:
    from etl.publish.alerts import task_failed

    task_failed(context)


@dag(
    dag_id="district_ingest",
    schedule=timedelta(minutes=5),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    is_paused_upon_creation=False,  # files are picked up from the first deploy on
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=1), "on_failure_callback": alert_on_failure},
    tags=["district-reports", "ingest"],
    doc_md=__doc__,
)
def district_ingest():
    @task
    def prepare_warehouse() -> None:
        from etl.ingest.pipeline import prepare

        prepare()

    @task
    def discover_files() -> list[str]:
        from etl.config import Settings
        from etl.ingest.pipeline import discover

        return discover(Settings.from_env())

    @task(map_index_template="{{ file_label }}", max_active_tis_per_dagrun=4)
    def process_file(relative_path: str) -> dict:
        from etl.ingest.inbox.names import display_path, key_bytes
        from etl.ingest.pipeline import process_file as run

        context = get_current_context()
        context["file_label"] = display_path(key_bytes(relative_path))  # the UI lists mapped tasks by file name
        return run(relative_path, run_id=context["run_id"]).as_dict()

    @task(trigger_rule="all_done")
    def summarise_run(outcomes: list[dict] | None = None) -> dict:
        from etl.ingest.pipeline import log_summary

        return log_summary(list(outcomes or []), run_id=get_current_context()["run_id"])

    @task(outlets=[Asset(WAREHOUSE_ASSET)])
    def announce_update(summary: dict) -> None:
        from airflow.sdk.exceptions import AirflowSkipException

        from etl.statuses import LOADED_STATUSES

        if not any(summary[status] for status in LOADED_STATUSES):
            raise AirflowSkipException("nothing new was loaded: the warehouse asset is not updated")

    files = discover_files()
    prepare_warehouse() >> files
    announce_update(summarise_run(process_file.expand(relative_path=files)))


district_ingest()
