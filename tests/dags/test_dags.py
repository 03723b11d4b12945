"""DAG integrity: every DAG imports cleanly, quickly and without heavy libraries at top level."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from conftest import REPO

DAGS = sorted((REPO / "dags").glob("*.py"))


def test_dagbag_has_no_import_errors(airflow_db):
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS[0].parent))
    assert bag.import_errors == {}
    assert {"district_ingest", "city_review_publish", "district_approval", "district_unapprove"} <= set(bag.dags)


@pytest.mark.parametrize("dag_file", DAGS, ids=lambda p: p.name)
def test_dag_file_imports_no_pandas_or_great_expectations(dag_file):
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('dag_under_test', {str(dag_file)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "heavy = [m for m in ('pandas', 'great_expectations', 'openpyxl', 'python_calamine') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_ingest_dag_shape(airflow_db):
    from airflow.models.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS[0].parent)).get_dag("district_ingest")
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.timetable.delta == timedelta(minutes=5)  # scheduled; also triggerable by hand
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks) == {"prepare_warehouse", "discover_files", "process_files", "summarise_run", "announce_update"}
    assert tasks["process_files"].retries >= 1
    assert tasks["summarise_run"].trigger_rule == "all_done"
    assert {t.task_id for t in tasks["process_files"].upstream_list} == {"discover_files"}


def test_publish_dag_is_scheduled_on_the_asset_ingest_updates(airflow_db):
    from airflow.models.dagbag import DagBag
    from airflow.sdk import Asset, AssetOrTimeSchedule

    from etl.config import APPROVAL_ASSET, WAREHOUSE_ASSET

    bag = DagBag(dag_folder=str(DAGS[0].parent))
    ingest, publish = bag.get_dag("district_ingest"), bag.get_dag("city_review_publish")
    approval, unapprove = bag.get_dag("district_approval"), bag.get_dag("district_unapprove")
    announce = next(t for t in ingest.tasks if t.task_id == "announce_update")
    assert announce.outlets == [Asset(WAREHOUSE_ASSET)]
    assert isinstance(publish.timetable, AssetOrTimeSchedule)
    # a load or a steward's decision: either asset starts a publish run
    assert list(publish.timetable.asset_condition.objects) == [Asset(WAREHOUSE_ASSET), Asset(APPROVAL_ASSET)]
    assert type(publish.timetable.asset_condition).__name__ == "AssetAny"
    assert list(approval.timetable.asset_condition.objects) == [Asset(WAREHOUSE_ASSET)]
    for dag, task_id in ((approval, "steward_decides"), (unapprove, "choose_and_withdraw")):
        assert dag.get_task(task_id).outlets == [Asset(APPROVAL_ASSET)]
    assert {t.task_id for t in publish.tasks} == {"refresh_mart", "build_review_pack", "alert_missing_reports"}
    for dag in (ingest, publish, approval, unapprove):
        assert all(t.on_failure_callback for t in dag.tasks)  # task-level: DAG-level callbacks are unreliable in 3.x


def test_both_dags_run_from_the_first_deploy_and_publishing_waits_for_the_next_0800():
    """Neither DAG starts paused; the publish DAG's first timed run is the next 08:00 in the city, not
    today's slot already past when the DAG first appears."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables.base import TimeRestriction

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors
    for dag_id in ("district_ingest", "city_review_publish"):
        assert bag.dags[dag_id].is_paused_upon_creation is False
    publish = bag.dags["city_review_publish"]
    now = pendulum.now("UTC")
    timetable = decode_timetable(encode_timetable(publish.timetable))  # as the scheduler has it
    first = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=publish.start_date, latest=None, catchup=False),
    )
    assert first is not None and first.run_after >= now.subtract(seconds=5)
    local = first.run_after.in_timezone("Asia/Shanghai")
    assert (local.hour, local.minute) == (8, 0) and first.run_after <= now.add(days=1)
