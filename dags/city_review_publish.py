"""city_review_publish — 城市评审材料发布: refresh the mart and publish the review pack.

Table of contents:
  refresh_mart           bring the warehouse schema and views up to date, refresh the reporting calendar
  build_review_pack      write the xlsx (charts, rankings, change on previous period, data gaps) and HTML
                         review pack into SHARED_DIR/published/
  alert_missing_reports  alert once for every report past its deadline and still missing

Scheduled on the warehouse asset that district_ingest updates whenever it loads something, and every
morning at 08:00 (Asia/Shanghai) so missing reports are announced even when nothing arrives.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from etl.config import WAREHOUSE_ASSET


def alert_on_failure(context) -> None:
    from etl.alerts import task_failed

    task_failed(context)


@dag(
    dag_id="city_review_publish",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 8 * * *", timezone="Asia/Shanghai"),
                                 assets=[Asset(WAREHOUSE_ASSET)]),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "on_failure_callback": alert_on_failure},
    tags=["district-reports", "publish"],
    doc_md=__doc__,
)
def city_review_publish():
    @task
    def refresh_mart() -> None:
        from etl.config import Settings
        from etl.schema import ensure_schema
        from etl.warehouse import get_engine

        ensure_schema(get_engine(Settings.from_env().warehouse_url))

    @task
    def build_review_pack() -> dict[str, str]:
        from etl.config import Settings
        from etl.review_pack import publish

        return {kind: str(path) for kind, path in publish(Settings.from_env()).items()}

    @task
    def alert_missing_reports() -> int:
        from etl.alerts import alert_missing_reports as check
        from etl.config import Settings
        from etl.warehouse import get_engine

        return len(check(get_engine(Settings.from_env().warehouse_url)))

    refresh_mart() >> [build_review_pack(), alert_missing_reports()]


city_review_publish()
