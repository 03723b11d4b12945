"""The screenshots of README "Steward approval", taken in a real browser against a real Airflow.

    .venv/bin/python docs/approval/take_screenshots.py

In a throw-away folder: the demo files are loaded with approval on (PUBLISH_UNAPPROVED off), every report
but the four 12345 exports is approved from the command line, and a corrected register is dropped for an
approved period (held). Then `python -m etl airflow-standalone` (FAB logins, a real scheduler) runs;
district_approval is triggered as the steward, and headless Chromium, logged in as the steward through
the FAB login form, photographs Required Actions, one decision form and the withdrawal form. Chromium is
driven over its DevTools protocol (the ``websockets`` package Airflow already installs); Chinese needs a CJK
font (Debian: ``apt-get install fonts-wqy-microhei``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a script from anywhere: the project's packages first
from etl.ops.airflow_api import ThrowawayAirflow, call, free_port  # noqa: E402

OUT = Path(__file__).resolve().parent
WIDTH, HEIGHT = 1400, 900


def prepare_data() -> None:
    """Demo files loaded; everything approved but the 12345 exports; one corrected register held."""
    from openpyxl import load_workbook

    from etl.__main__ import main
    from etl.approval.decisions import Decision, decide
    from etl.approval.units import awaiting_decision
    from etl.config import Settings
    from etl.warehouse.engine import get_engine

    settings = Settings.from_env()
    main(["demo"])
    main(["ingest"])
    for version in awaiting_decision(get_engine(settings.warehouse_url)):
        if version.report_type != "hotline_tickets":
            decide(Decision(version.load_id, "approved", "steward", "核对无误"), settings)
    register = next(settings.processed.glob("明山区/*政务服务事项*.xlsx"))
    workbook = load_workbook(register)
    workbook.save(settings.inbox / "明山区" / "明山区_政务服务事项清单_2021Q4_更正.xlsx")  # new bytes, same period
    main(["ingest"])


async def shoot(port: int, user: str, password: str, pages: list[tuple[str, str, float]]) -> None:
    """Log in through the FAB form in headless Chromium, then photograph each (path, file, wait) page."""
    import websockets

    debug_port = free_port()
    profile = tempfile.mkdtemp(prefix="chromium-")
    browser = subprocess.Popen(
        [
            shutil.which("chromium") or "chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--remote-debugging-port={debug_port}",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            "--lang=zh-CN",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{debug_port}/json").read())
                page = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.2)
        async with websockets.connect(page["webSocketDebuggerUrl"], max_size=64 << 20) as ws:
            ids = iter(range(1, 10**6))

            async def send(method: str, **params):
                message_id = next(ids)
                await ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
                while True:
                    reply = json.loads(await ws.recv())
                    if reply.get("id") == message_id:
                        return reply.get("result", {})

            async def go(path: str, wait: float) -> None:
                await send("Page.navigate", url=f"http://127.0.0.1:{port}{path}")
                await asyncio.sleep(wait)

            await send("Page.enable")
            await send(
                "Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False
            )
            await go("/auth/login/", 3)
            fill = (
                f"document.querySelector('#username').value = {json.dumps(user)};"
                f"document.querySelector('#password').value = {json.dumps(password)};"
                "document.querySelector('#password').form.querySelector('[type=submit]').click();"
            )
            await send("Runtime.evaluate", expression=fill)
            await asyncio.sleep(5)
            where = await send("Runtime.evaluate", expression="document.location.pathname", returnByValue=True)
            if "/auth/login" in where["result"]["value"]:
                raise SystemExit("the FAB login form did not log the steward in")
            for path, name, wait in pages:
                await go(path, wait)
                shot = await send("Page.captureScreenshot", format="png")
                (OUT / name).write_bytes(base64.b64decode(shot["data"]))
                print(f"wrote {OUT / name}")
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(what: str, check, seconds: float = 240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(2)
    raise SystemExit(f"gave up waiting for {what}")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="approval-walkthrough-"))
    data = {
        "SHARED_DIR": str(work / "shared"),
        "WAREHOUSE_URL": f"sqlite:///{work}/warehouse.sqlite",
        "PUBLISH_UNAPPROVED": "0",
        "GX_ANALYTICS_ENABLED": "false",
    }
    os.environ.update(data)  # prepare_data runs here, on the same shared folder and warehouse
    prepare_data()
    airflow = ThrowawayAirflow(work / "airflow", work / "airflow.log", data).start()
    port, base = airflow.port, airflow.base
    try:
        airflow.wait_until_up()
        user, password = airflow.logins()["STEWARD_USERS"].split(",")[0].split(":", 1)
        token = airflow.token(user, password)
        dag = f"{base}/api/v2/dags/district_approval"
        wait_for("the DAG to be parsed", lambda: call(dag, token=token)[0] == 200)
        run = call(f"{dag}/dagRuns", {"logical_date": None}, token)[1]["dag_run_id"]
        details = wait_for(
            "the approval tasks",
            lambda: [
                d
                for d in (call(f"{dag}/dagRuns/{run}/hitlDetails", token=token)[1] or {"hitl_details": []})[
                    "hitl_details"
                ]
                if d["task_instance"]["state"] == "awaiting_input"
            ],
        )
        held = next((d for d in details if d["subject"].startswith("替换")), details[0])
        ti = held["task_instance"]
        form = f"/dags/district_approval/runs/{run}/tasks/steward_decides/mapped/{ti['map_index']}/required_actions"
        unapprove = f"{base}/api/v2/dags/district_unapprove"
        wait_for("the withdrawal DAG", lambda: call(unapprove, token=token)[0] == 200)
        withdrawal = call(f"{unapprove}/dagRuns", {"logical_date": None, "conf": {"district_code": "210504"}}, token)[1]
        wait_for(
            "the withdrawal task",
            lambda: any(
                d["task_instance"]["state"] == "awaiting_input"
                for d in (
                    call(f"{unapprove}/dagRuns/{withdrawal['dag_run_id']}/hitlDetails", token=token)[1]
                    or {"hitl_details": []}
                )["hitl_details"]
            ),
        )
        withdraw = f"/dags/district_unapprove/runs/{withdrawal['dag_run_id']}/tasks/choose_and_withdraw/mapped/0/required_actions"
        asyncio.run(
            shoot(
                port,
                user,
                password,
                [
                    ("/required_actions", "required-actions.png", 6),
                    (form, "decision-form.png", 6),
                    (withdraw, "withdraw.png", 6),
                ],
            )
        )
    finally:
        airflow.stop(timeout=90)
    print(f"work folder (logs, warehouse): {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
