"""city_review_publish — 城市评审材料发布: refresh the mart and publish the review pack.

Table of contents:
  refresh_mart           bring the warehouse schema and views up to date, refresh the reporting calendar
                         and the working-day calendar, and fill pending 12345 deadlines it now covers
  build_review_pack      write the xlsx (charts, rankings, change on previous period, data gaps) and HTML
                         review pack into SHARED_DIR/published/
  alert_missing_reports  alert once for every report past its deadline and still missing, and weekly while
                         the working-day calendar covers less than the next 60 days

Scheduled on the warehouse asset that district_ingest updates whenever it loads something, on the approvals
asset a steward's decision updates (district_approval, district_unapprove), and every
morning at 08:00 (Asia/Shanghai) so missing reports are announced even when nothing arrives.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from etl.config import APPROVAL_ASSET, WAREHOUSE_ASSET
from etl.publish.on_failure import alert_on_failure


@dag(
    dag_id="city_review_publish",
    schedule=AssetOrTimeSchedule(
        # run_immediately=timedelta(0): never the slot already past (False still takes one up to 2.4 h old)
        timetable=CronTriggerTimetable("0 8 * * *", timezone="Asia/Shanghai", run_immediately=timedelta(0)),
        assets=Asset(WAREHOUSE_ASSET) | Asset(APPROVAL_ASSET),  # a load, or a steward's decision
    ),
    # no start_date: the first 08:00 run is the next one, not the one already past today when the DAG first
    # appears (run_immediately above applies only without one); runs on the asset start at once
    catchup=False,
    is_paused_upon_creation=False,  # publishing is part of the product: it runs from the first deploy
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "on_failure_callback": alert_on_failure},
    tags=["district-reports", "publish"],
    doc_md=__doc__,
)
def city_review_publish():
    @task
    def refresh_mart() -> None:
        from etl.config import Settings
        from etl.publish.pending_deadlines import fill_pending_deadlines
        from etl.warehouse.engine import get_engine
        from etl.warehouse.schema import ensure_schema

        engine = get_engine(Settings.from_env().warehouse_url)
        ensure_schema(engine)
        fill_pending_deadlines(engine)

    @task
    def build_review_pack() -> dict[str, str]:
        from etl.config import Settings
        from etl.publish.review_pack import publish

        return {kind: str(path) for kind, path in publish(Settings.from_env()).items()}

    @task
    def alert_missing_reports() -> int:
        from etl.config import Settings
        from etl.publish.alerts import alert_missing_reports as check
        from etl.publish.pending_deadlines import alert_calendar_coverage
        from etl.warehouse.engine import get_engine

        engine = get_engine(Settings.from_env().warehouse_url)
        calendar_alert = alert_calendar_coverage(engine)
        return len(check(engine)) + (calendar_alert is not None)

    refresh_mart() >> [build_review_pack(), alert_missing_reports()]


city_review_publish()
