"""district_approval — 区县报表审核: a steward approves each district report before leaders see it.

Table of contents:
  find_versions_to_approve  every version waiting for a steward that no open task asks about yet: a
                            current version awaiting approval, or a replacement held while its period was
                            locked (etl.approval.units)
  steward_decides           one human-in-the-loop task per version (Browse → Required Actions): counts,
                            findings, change against the previous period, links to the receipt, Data Docs
                            and the stewards' page; 批准 or 退回修改 with a comment, applied at once
                            (etl.approval.decisions) and announced to the publish DAG
  release_unanswered        once every task of the run has ended (a teardown): what the run asked and got
                            no decision for — a task that failed or timed out — is asked again by the next
                            run (etl.approval.units.release_requests)

Runs whenever district_ingest loads something and every morning; a task waits for its steward without a
worker slot, up to APPROVAL_RESPONSE_DAYS (then it times out, an alert goes out, and the next run asks
again). Several runs may wait at once: each asks only about what no other run asks about.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, get_current_context, task

from etl.approval.airflow_tasks import StewardDecision
from etl.approval.choices import COMMENT, OPTIONS
from etl.config import APPROVAL_ASSET, WAREHOUSE_ASSET, approval_response_days
from etl.publish.on_failure import alert_on_failure


@dag(
    dag_id="district_approval",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 9 * * *", timezone="Asia/Shanghai", run_immediately=timedelta(0)),
        assets=[Asset(WAREHOUSE_ASSET)],
    ),
    catchup=False,
    is_paused_upon_creation=False,
    max_active_runs=16,  # runs wait for stewards; a new run still asks about new files
    default_args={"on_failure_callback": alert_on_failure},
    tags=["district-reports", "approval"],
    doc_md=__doc__,
)
def district_approval():
    @task(retries=2, retry_delay=timedelta(minutes=1))
    def find_versions_to_approve() -> list[dict]:
        from etl.approval.airflow_tasks import page_links
        from etl.approval.steward_form import approval_requests
        from etl.config import Settings

        return approval_requests(Settings.from_env(), get_current_context()["run_id"], page_links())

    @task(retries=2, retry_delay=timedelta(minutes=1))
    def release_unanswered() -> int:
        from etl.approval.units import release_requests
        from etl.config import Settings
        from etl.warehouse.engine import get_engine

        return release_requests(get_engine(Settings.from_env().warehouse_url), get_current_context()["run_id"])

    requests = find_versions_to_approve()
    decisions = StewardDecision.partial(
        task_id="steward_decides",
        options=OPTIONS,
        params={
            COMMENT: Param(
                None, type=["null", "string"], title="审核意见", description="退回修改时请写明需要修改的内容"
            )
        },
        response_timeout=timedelta(days=approval_response_days()),
        map_index_template="{{ task.subject }}",
        outlets=[Asset(APPROVAL_ASSET)],
    ).expand_kwargs(requests)
    decisions >> release_unanswered().as_teardown(setups=requests)


district_approval()
