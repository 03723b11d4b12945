"""Alerts for stewards: a task that failed, reports missing past their deadline, a working-day calendar
that runs out (etl.publish.pending_deadlines).

Every alert is logged and appended to SHARED_DIR/alerts/alerts.jsonl (one JSON object a line), so a
machine with no mail or chat still keeps them. Where configured, it is also sent:
  ALERT_WEBHOOK_URL                      POST of the JSON object (e.g. a WeCom/DingTalk/Slack relay)
  ALERT_SMTP_HOST, ALERT_SMTP_PORT (25), ALERT_EMAIL_FROM, ALERT_EMAIL_TO (comma-separated),
  ALERT_SMTP_USER, ALERT_SMTP_PASSWORD, ALERT_SMTP_STARTTLS (true/false)
A failing channel is logged and never hides the alert from the others.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import smtplib
import urllib.request
from email.message import EmailMessage

import sqlalchemy as sa

from etl.config import Settings, local_time
from etl.shared_paths import append_no_follow

log = logging.getLogger(__name__)


def send_alert(
    kind: str, subject: str, body: str, settings: Settings | None = None, details: dict | None = None
) -> dict:
    settings = settings or Settings.from_env()
    alert = {
        "at": local_time().isoformat(timespec="seconds"),
        "kind": kind,
        "subject": subject,
        "body": body,
        "details": details or {},
    }
    log.warning("ALERT %s: %s — %s", kind, subject, body)
    line = json.dumps(alert, ensure_ascii=False, default=str) + "\n"
    append_no_follow(settings.alerts / "alerts.jsonl", settings.shared_dir, line.encode("utf-8"))
    for channel in (_webhook, _email):
        try:
            channel(alert)
        except Exception:  # noqa: BLE001 - one broken channel must not stop the others
            log.exception("alert channel %s failed", channel.__name__)
    return alert


def _webhook(alert: dict) -> None:
    url = os.environ.get("ALERT_WEBHOOK_URL")
    if not url:
        return
    request = urllib.request.Request(
        url,
        data=json.dumps(alert, ensure_ascii=False, default=str).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - URL set by the operator
        response.read()


def _email(alert: dict) -> None:
    host, recipients = os.environ.get("ALERT_SMTP_HOST"), os.environ.get("ALERT_EMAIL_TO")
    if not host or not recipients:
        return
    message = EmailMessage()
    message["Subject"] = f"[区县报表] {alert['subject']}"
    message["From"] = os.environ.get("ALERT_EMAIL_FROM", "district-reports@localhost")
    message["To"] = recipients
    message.set_content(f"{alert['body']}\n\n{json.dumps(alert['details'], ensure_ascii=False, indent=2, default=str)}")
    with smtplib.SMTP(host, int(os.environ.get("ALERT_SMTP_PORT", "25")), timeout=10) as smtp:
        if os.environ.get("ALERT_SMTP_STARTTLS", "").lower() == "true":
            smtp.starttls()
        if os.environ.get("ALERT_SMTP_USER"):
            smtp.login(os.environ["ALERT_SMTP_USER"], os.environ.get("ALERT_SMTP_PASSWORD", ""))
        smtp.send_message(message)


def send_alert_once(
    engine, kind: str, key: str, subject: str, body: str, settings: Settings | None = None, details: dict | None = None
) -> dict | None:
    """``send_alert`` unless an alert of this kind and key was sent before (stg_alert_sent)."""
    with engine.begin() as conn:
        sent = conn.execute(
            sa.text("SELECT 1 FROM stg_alert_sent WHERE kind = :kind AND alert_key = :key"), {"kind": kind, "key": key}
        ).first()
        if sent:
            return None
        conn.execute(
            sa.text("INSERT INTO stg_alert_sent (kind, alert_key, sent_at) VALUES (:kind, :key, :t)"),
            {"kind": kind, "key": key, "t": local_time()},
        )
    return send_alert(kind, subject, body, settings, details)


def task_failed(context) -> None:
    """Airflow task-level on_failure_callback (DAG-level callbacks are unreliable in Airflow 3)."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    error = context.get("exception")
    state = getattr(ti, "state", None)
    cause = (
        f"{type(error).__name__}: {str(error)[:500]}"
        if error is not None
        else f"任务未能开始运行或被外部终止（状态：{state or '未知'}），请在 Airflow 中查看该任务的日志"
    )
    send_alert(
        "task_failed",
        f"{dag_id}.{task_id} 运行失败",
        f"任务失败，已用尽重试：{cause}",
        details={
            "dag_id": dag_id,
            "task_id": task_id,
            "run_id": context.get("run_id"),
            "map_index": getattr(ti, "map_index", None),
            "try_number": getattr(ti, "try_number", None),
        },
    )


def alert_missing_reports(engine, settings: Settings | None = None, now: dt.datetime | None = None) -> list[dict]:
    """One alert per report that is past its deadline and still missing — each only once (stg_alert_sent)."""
    now = now or local_time()
    with engine.begin() as conn:
        missing = (
            conn.execute(
                sa.text(
                    "SELECT m.report_type, m.report_title, m.district_code, m.district_name, m.period, m.deadline, m.state_zh "
                    "FROM mart_missing_reports m WHERE m.deadline < :now AND NOT EXISTS (SELECT 1 FROM stg_alert_sent a "
                    "WHERE a.kind = 'missing_report' AND a.alert_key = m.report_type || '|' || m.district_code || '|' || m.period) "
                    "ORDER BY m.deadline, m.district_code"
                ),
                {"now": now},
            )
            .mappings()
            .all()
        )
        for row in missing:
            conn.execute(
                sa.text("INSERT INTO stg_alert_sent (kind, alert_key, sent_at) VALUES ('missing_report', :k, :t)"),
                {"k": f"{row['report_type']}|{row['district_code']}|{row['period']}", "t": now},
            )
    if not missing:
        return []
    lines = [
        f"{r['district_name']} {r['report_title']} {r['period']}（截止 {r['deadline']}）：{r['state_zh']}"
        for r in missing
    ]
    return [
        send_alert(
            "missing_report",
            f"{len(missing)} 份报表逾期未报送",
            "\n".join(lines),
            settings,
            details={"reports": [dict(r) for r in missing]},
        )
    ]
