"""district_ingest — 区县报表入库: pick up district files from the shared inbox and load the warehouse.

Table of contents:
  prepare_warehouse  create/upgrade tables and views, refresh the places reference
  discover_files     list files waiting in SHARED_DIR/inbox/<区县>/
  process_file       one mapped task per file: archive → parse → validate (GX) → load → file away
  summarise_run      counts of accepted / flagged / rejected / duplicate files, rows and findings

A rejected file is a recorded outcome (the task succeeds); a task fails only on system faults and is
then retried. All logic lives in ``etl``; heavy imports happen inside the tasks.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

DOC = __doc__


@dag(
    dag_id="district_ingest",
    schedule=timedelta(minutes=5),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=1)},
    tags=["district-reports", "ingest"],
    doc_md=DOC,
)
def district_ingest():
    @task
    def prepare_warehouse() -> None:
        from etl.pipeline import prepare

        prepare()

    @task
    def discover_files() -> list[str]:
        from etl.config import Settings
        from etl.pipeline import discover

        return discover(Settings.from_env())

    @task(map_index_template="{{ file_label }}", max_active_tis_per_dagrun=4)
    def process_file(relative_path: str) -> dict:
        from etl.pipeline import process_file as run

        context = get_current_context()
        context["file_label"] = relative_path  # the UI lists mapped tasks by file name
        return run(relative_path, run_id=context["run_id"]).as_dict()

    @task(trigger_rule="all_done", retries=0)
    def summarise_run(outcomes: list[dict] | None = None) -> dict:
        from etl.pipeline import log_summary

        return log_summary(list(outcomes or []))

    files = discover_files()
    prepare_warehouse() >> files
    summarise_run(process_file.expand(relative_path=files))


district_ingest()
