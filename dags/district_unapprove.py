"""district_unapprove — 撤销审核: withdraw the approval of district reports, with a reason.

Table of contents:
  list_approved       the approved versions, narrowed by the run's form (区县 code, report type, period)
  choose_and_withdraw one human-in-the-loop task (Browse → Required Actions): tick the versions to
                      withdraw and give the reason; each awaits approval again and is no longer locked
                      (a replacement held meanwhile becomes current) — etl.approval.decisions

Triggered by hand (Trigger → the form); the same is ``python -m etl approval unapprove``.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, get_current_context, task

from etl.approval.airflow_tasks import WithdrawApproval
from etl.approval.choices import REASON
from etl.config import APPROVAL_ASSET
from etl.publish.on_failure import alert_on_failure


@dag(
    dag_id="district_unapprove",
    schedule=None,
    catchup=False,
    is_paused_upon_creation=False,
    params={
        "district_code": Param(None, type=["null", "string"], title="区县代码（可空）"),
        "report_type": Param(None, type=["null", "string"], title="报表类型（可空）"),
        "period": Param(None, type=["null", "string"], title="期间（可空），如 2021Q4、2022-03"),
    },
    default_args={"on_failure_callback": alert_on_failure},
    tags=["district-reports", "approval"],
    doc_md=__doc__,
)
def district_unapprove():
    @task
    def list_approved() -> list[dict]:
        from etl.approval.steward_form import withdrawal_request
        from etl.config import Settings

        request = withdrawal_request(Settings.from_env(), **get_current_context()["params"])
        return [request] if request else []  # nothing approved: the choice is skipped

    WithdrawApproval.partial(
        task_id="choose_and_withdraw",
        subject="撤销审核",
        multiple=True,
        map_index_template="撤销审核",
        params={REASON: Param("", type="string", title="撤销原因", description="必填：为什么撤销审核")},
        outlets=[Asset(APPROVAL_ASSET)],
    ).expand_kwargs(list_approved())


district_unapprove()
