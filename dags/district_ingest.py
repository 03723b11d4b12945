"""district_ingest — 区县报表入库: pick up district files from the shared inbox and load the warehouse.

Table of contents:
  prepare_warehouse  create/upgrade tables and views, refresh places and the reporting calendar
  discover_files     list the entries of SHARED_DIR/inbox/<区县>/ (lock, temp and growing files wait), in batches:
                     a district's files together, FILES_PER_TASK at most
  process_files      one mapped task per batch, each file in turn: claim → archive → parse → validate (GX) → load
                     → receipt → file away (its own outcome, log lines and audit row)
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
from etl.publish.on_failure import alert_on_failure


@dag(
    dag_id="district_ingest",
    schedule=timedelta(minutes=5),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    is_paused_upon_creation=False,  # files are picked up from the first deploy on
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "on_failure_callback": alert_on_failure,
        # a task that hangs (whatever a clerk found to make it wait on) is stopped and retried, not left to hold
        # the one active run: a batch of the largest files takes minutes, not hours
        "execution_timeout": timedelta(hours=2),
    },
    tags=["district-reports", "ingest"],
    doc_md=__doc__,
)
def district_ingest():
    @task
    def prepare_warehouse() -> None:
        from etl.ingest.pipeline import prepare

        prepare()

    @task
    def discover_files() -> list[list[str]]:
        from etl.config import Settings
        from etl.ingest.pipeline import batches, discover

        settings = Settings.from_env()
        return batches(discover(settings), settings)

    @task(map_index_template="{{ batch_label }}", max_active_tis_per_dagrun=4)
    def process_files(keys: list[str]) -> list[dict]:
        from etl.ingest.pipeline import batch_label, process_batch

        context = get_current_context()
        context["batch_label"] = batch_label(keys)  # the UI lists mapped tasks by their files
        return [outcome.as_dict() for outcome in process_batch(keys, run_id=context["run_id"])]

    @task(trigger_rule="all_done")
    def summarise_run(batches: list[list[dict]] | None = None) -> dict:
        from etl.ingest.pipeline import log_summary

        outcomes = [outcome for batch in batches or [] if batch for outcome in batch]
        return log_summary(outcomes, run_id=get_current_context()["run_id"])

    @task(outlets=[Asset(WAREHOUSE_ASSET)])
    def announce_update(summary: dict) -> None:
        from airflow.sdk.exceptions import AirflowSkipException

        from etl.statuses import LOADED_STATUSES

        if not any(summary[status] for status in LOADED_STATUSES):
            raise AirflowSkipException("nothing new was loaded: the warehouse asset is not updated")

    files = discover_files()
    prepare_warehouse() >> files
    announce_update(summarise_run(process_files.expand(keys=files)))


district_ingest()
