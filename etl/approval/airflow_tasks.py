"""The human-in-the-loop operators of the approval DAGs (Airflow 3.3: the task waits in
``awaiting_input`` with no worker slot and no triggerer; Browse → Required Actions lists it).

  StewardDecision   one version: 批准 / 退回修改, with a comment; the decision is applied the moment
                    the steward answers (etl.approval.decisions), not when the whole run ends
  WithdrawApproval  several approved versions to withdraw (multiple choice), with a reason

Neither renders Jinja: subject and body carry clerk text (file names), which must never be a template.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator

log = logging.getLogger(__name__)


def responder(result: dict) -> str:
    """Who answered, as Airflow's auth manager names them."""
    user = result.get("responded_by_user") or {}
    return str(user.get("name") or user.get("id") or "unknown")


def airflow_ref(context) -> str:
    ti = context["ti"]
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}"


class StewardDecision(HITLOperator):
    """Approve or reject one version (``load_id``)."""

    template_fields = ()

    def __init__(self, *, load_id: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.load_id = load_id

    def execute_complete(self, context, event: dict[str, Any]) -> Any:
        from etl.approval.choices import APPROVE, COMMENT, NO_COMMENT_ZH
        from etl.approval.decisions import Decision, StaleDecision, decide
        from etl.approval.lock import APPROVED, REJECTED

        result = super().execute_complete(context, event)
        choice = result["chosen_options"][0]
        comment = str((result["params_input"] or {}).get(COMMENT) or "").strip()
        decision = Decision(
            self.load_id,
            APPROVED if choice == APPROVE else REJECTED,
            responder(result),
            comment or ("" if choice == APPROVE else NO_COMMENT_ZH),
            "airflow",
            airflow_ref(context),
        )
        try:
            log.info("%s", decide(decision).summary_zh())
        except StaleDecision as exc:  # another file or steward came first: nothing changed, say so
            log.warning("decision not applied: %s", exc)
        return result


class WithdrawApproval(HITLOperator):
    """Withdraw the approval of the versions chosen (options: etl.approval.steward_form.withdraw_option)."""

    template_fields = ()

    def execute_complete(self, context, event: dict[str, Any]) -> Any:
        from etl.approval.choices import REASON
        from etl.approval.decisions import Decision, StaleDecision, decide
        from etl.approval.lock import UNAPPROVED
        from etl.approval.steward_form import load_id_of

        result = super().execute_complete(context, event)
        reason = str((result["params_input"] or {}).get(REASON) or "").strip()
        for option in result["chosen_options"]:
            decision = Decision(
                load_id_of(option), UNAPPROVED, responder(result), reason, "airflow", airflow_ref(context)
            )
            try:
                log.info("%s", decide(decision).summary_zh())
            except StaleDecision as exc:
                log.warning("withdrawal not applied: %s", exc)
        return result


def page_links() -> str:
    """The stewards' page as the Airflow UI serves it (under [api] base_url's path, if any)."""
    from urllib.parse import urlsplit

    from airflow.configuration import conf

    from etl.web.stewards_page import URL_PREFIX

    return urlsplit(conf.get("api", "base_url", fallback="") or "/").path.rstrip("/") + URL_PREFIX
