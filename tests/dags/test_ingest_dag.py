"""The ingest DAG end to end with dag.test(): demo district files → Airflow → GX → warehouse → views,
on SQLite and on the real PostgreSQL. The seed figures of DOMAIN.md must come out of the views."""

from __future__ import annotations

import sqlalchemy as sa

from demo import write_demo_files
from etl.warehouse.engine import get_engine

# registers, volunteer months, flood days, ledgers, 12345 exports, the renovation ledger
DEMO_FILES = 7 + 6 + 21 + 14 + 4 + 1


def run_ingest_dag():
    from airflow.models.dagbag import DagBag

    dag = DagBag(dag_folder=str(__import__("conftest").REPO / "dags")).get_dag("district_ingest")
    return dag.test()


def task_states(dag_run) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for ti in dag_run.get_task_instances():
        states.setdefault(ti.task_id, []).append(str(ti.state))
    return states


def one(conn, sql: str, **params):
    return conn.execute(sa.text(sql), params).mappings().one()


def test_demo_files_through_the_dag_reproduce_the_seed_figures(airflow_db, settings):
    write_demo_files(settings.shared_dir)
    broken = settings.inbox / "明山区" / "明山区_损坏的文件.xlsx"
    broken.write_bytes(b"PK\x03\x04 truncated upload")
    (settings.inbox / "明山区" / "~$明山区_政务服务事项清单_2021Q4.xlsx").write_bytes(b"lock")

    dag_run = run_ingest_dag()

    assert str(dag_run.state) == "success"
    states = task_states(dag_run)
    # a task per district folder (none holds more than FILES_PER_TASK files); the lock file is not picked up
    assert states["process_files"] == ["success"] * 7
    assert states["summarise_run"] == ["success"]
    engine = get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        city = one(
            conn, "SELECT * FROM mart_service_items_by_district WHERE district_code IS NULL AND period = '2021Q4'"
        )
        assert (city["items"], city["application_items"], city["application_items_in_hall"]) == (24671, 6861, 6813)
        assert float(city["in_hall_rate_pct"]) == 99.30
        drive = one(conn, "SELECT * FROM mart_volunteer_daily WHERE district_code IS NULL AND date = '2022-03-04'")
        assert (drive["units"], drive["teams"], drive["participations"]) == (314, 365, 11302)
        flood = one(
            conn,
            "SELECT COUNT(*) AS n, MIN(streets_reported) AS lo, MAX(streets_reported) AS hi "
            "FROM mart_flood_cleanup_daily",
        )
        assert (flood["n"], flood["lo"], flood["hi"]) == (21, 7, 7)
        tasks = one(conn, "SELECT * FROM mart_task_completion_by_district WHERE district_code IS NULL")
        assert (tasks["tasks"], tasks["completed"], float(tasks["completion_rate_pct"])) == (1735, 1697, 97.81)
        rect = one(conn, "SELECT * FROM mart_rectification_by_district WHERE district_code IS NULL")
        assert (rect["problems"], rect["with_deadline"], rect["rectified"]) == (357, 293, 203)
        assert float(rect["rectification_rate_pct"]) == 69.28
        hotline = one(conn, "SELECT * FROM mart_hotline_by_district WHERE district_code IS NULL")
        assert hotline["tickets"] == 186
        missing = conn.execute(
            sa.text("SELECT report_type, district_name FROM mart_missing_reports ORDER BY district_code")
        ).all()
        assert [tuple(r) for r in missing] == [
            ("hotline_tickets", "本溪满族自治县"),
            ("hotline_tickets", "桓仁满族自治县"),
        ]
        runs = conn.execute(sa.text("SELECT files, accepted, flagged, rejected FROM stg_ingest_run")).all()
        assert [tuple(r) for r in runs] == [(DEMO_FILES + 1, DEMO_FILES - 2, 2, 1)]
        statuses = dict(conn.execute(sa.text("SELECT status, COUNT(*) FROM mart_file_status GROUP BY status")).all())
        assert statuses == {"accepted": DEMO_FILES - 2, "flagged": 2, "rejected": 1}
        rejected = one(conn, "SELECT * FROM mart_file_status WHERE status = 'rejected'")
        assert rejected["file_name"] == broken.name and "文件不完整" in rejected["reason_zh"]
    assert (settings.rejected / "明山区").exists() and not broken.exists()
    assert len(list(settings.archive.rglob("*.*"))) == DEMO_FILES + 1

    # A second drop of the very same files changes nothing in the facts.
    write_demo_files(settings.shared_dir)
    counts_before = _fact_counts(engine)
    dag_run = run_ingest_dag()
    assert str(dag_run.state) == "success"
    assert _fact_counts(engine) == counts_before
    with engine.connect() as conn:
        duplicates = conn.execute(sa.text("SELECT COUNT(*) FROM stg_file_load WHERE status = 'duplicate'")).scalar()
    assert duplicates == DEMO_FILES


def _fact_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar()
            for t in (
                "fct_service_item",
                "fct_flood_cleanup",
                "fct_volunteer_activity",
                "fct_task_ledger",
                "fct_rectification_issue",
                "fct_hotline_ticket",
            )
        }


def test_hostile_entries_through_the_dag_each_get_a_status_and_the_good_file_loads(airflow_db, sqlite_settings):
    """Through the real DAG: a name in GBK bytes (its XCom must carry it), a 240-byte name, a link to
    /etc/passwd, a FIFO, a sparse sheet reaching XFD1048576 and a 3 MB zip bomb, beside a good file."""
    import os

    from hostile import row_bomb_xlsx, sparse_xlsx, volunteer_csv

    settings = sqlite_settings
    folder = settings.inbox / "南芬区"
    good = volunteer_csv(folder / "南芬区_志愿服务_2022-03.csv")
    gbk = os.path.join(os.fsencode(folder), "南芬区_志愿服务_2022-04.csv".encode("gbk"))
    with open(gbk, "wb") as handle:
        handle.write(
            volunteer_csv(settings.shared_dir / "src.csv", rows=2).read_bytes().replace(b"2022-03-04", b"2022-04-04")
        )
    volunteer_csv(folder / ("南芬区_志愿服务_2022-03_" + "长" * 70 + ".csv"), rows=4)
    os.symlink("/etc/passwd", folder / "通讯录.csv")
    os.mkfifo(folder / "管道.csv")
    sparse_xlsx(folder / "稀疏.xlsx", "XFD1048576")
    row_bomb_xlsx(folder / "炸弹.xlsx", 2 << 30)

    dag_run = run_ingest_dag()

    assert str(dag_run.state) == "success"
    assert task_states(dag_run)["process_files"] == ["success"]  # one folder, one batch of 7 entries
    engine = get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        rows = {
            r["file_name"]: r
            for r in conn.execute(
                sa.text(
                    "SELECT file_name, status, reason_zh, moved_to, receipt_path, source_path_bytes FROM stg_file_load"
                )
            ).mappings()
        }
    assert len(rows) == 7 and all(r["moved_to"] and r["receipt_path"] for r in rows.values())
    assert rows[good.name]["status"] == "accepted"
    assert rows["南芬区_志愿服务_2022-04.csv"]["status"] == "accepted"
    assert bytes.fromhex(
        rows["南芬区_志愿服务_2022-04.csv"]["source_path_bytes"]
    ) == "南芬区/".encode() + "南芬区_志愿服务_2022-04.csv".encode("gbk")  # the folder in UTF-8, the name in GBK
    for name in ("通讯录.csv", "管道.csv", "稀疏.xlsx", "炸弹.xlsx"):
        assert rows[name]["status"] == "rejected" and rows[name]["reason_zh"], name
    assert [p for p in folder.iterdir()] == []


def test_a_backlog_beyond_airflows_map_limit_is_taken_a_batch_a_run_oldest_first(
    airflow_db, sqlite_settings, monkeypatch
):
    """1,100 files (more than core.max_map_length, 1,024): a run takes MAX_FILES_PER_RUN of them, oldest
    first, succeeds, and says how many wait; the next run takes the next ones."""
    import os

    from airflow.configuration import conf

    from etl.config import Settings
    from etl.ingest.pipeline import waiting

    assert Settings(sqlite_settings.shared_dir, "sqlite://").max_files_per_run < conf.getint("core", "max_map_length")
    monkeypatch.setenv("MAX_FILES_PER_RUN", "30")
    folder = sqlite_settings.inbox / "南芬区"
    folder.mkdir(parents=True)
    for i in range(1100):
        path = folder / f"积压_{i:04d}.txt"
        path.write_bytes(b"not a report")
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))  # 积压_0000 is the oldest

    first = run_ingest_dag()

    assert str(first.state) == "success"
    assert task_states(first)["process_files"] == ["success"] * 2  # 30 files, FILES_PER_TASK (20) a task
    engine = get_engine(sqlite_settings.warehouse_url)
    with engine.connect() as conn:
        names = sorted(conn.execute(sa.text("SELECT file_name FROM stg_file_load")).scalars())
    assert names == [f"积压_{i:04d}.txt" for i in range(30)]
    left = waiting(sqlite_settings)
    assert len(left) == 1070 and all(w["reason_zh"] for w in left)
    summary = next(ti for ti in first.get_task_instances() if ti.task_id == "summarise_run")
    assert str(summary.state) == "success"

    second = run_ingest_dag()
    assert str(second.state) == "success"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stg_file_load")).scalar() == 60
        assert conn.execute(sa.text("SELECT MAX(file_name) FROM stg_file_load")).scalar() == "积压_0059.txt"


def test_a_workbook_with_a_sheet_per_day_through_the_dag_is_a_load_per_day(airflow_db, settings):
    """Through the real DAG, on both warehouses: a flood workbook with a sheet per day and a volunteer sheet
    in it, and a volunteer workbook with two sheets of one month."""
    import datetime as dt

    from workbooks import write_workbook

    flood = ["日期", "区县", "街道（乡镇）", "出动人员（人次）"]
    volunteer = ["活动日期", "区县", "组织单位", "志愿服务队", "活动类型", "参与志愿者（人）"]
    days = [dt.date(2021, 7, 29) + dt.timedelta(days=i) for i in range(3)]
    write_workbook(
        settings.inbox / "溪湖区" / "溪湖区_防汛日报_七月底.xlsx",
        [
            (
                f"{d.month}月{d.day}日",
                [flood, [d.isoformat(), "溪湖区", "河西街道", 10 + i], [d.isoformat(), "溪湖区", "彩屯街道", 20 + i]],
                True,
            )
            for i, d in enumerate(days)
        ]
        + [("志愿者", [volunteer, ["2021-07-30", "溪湖区", "溪湖区文明办", "溪湖区1队", "防汛", 9]], True)],
    )
    write_workbook(
        settings.inbox / "平山区" / "平山区_志愿服务_2022-03.xlsx",
        [
            (name, [volunteer, [f"2022-03-{day:02d}", "平山区", "平山区文明办", "平山区1队", "创城", day]], True)
            for name, day in (("上旬", 4), ("下旬", 24))
        ],
    )

    dag_run = run_ingest_dag()

    assert str(dag_run.state) == "success"
    assert task_states(dag_run)["process_files"] == ["success"] * 2  # two folders
    engine = get_engine(settings.warehouse_url)
    with engine.connect() as conn:
        loads = [
            dict(r)
            for r in conn.execute(
                sa.text(
                    "SELECT file_name, report_type, period, status, rows_loaded, is_current, receipt_path, moved_to "
                    "FROM stg_file_load ORDER BY report_type, period"
                )
            ).mappings()
        ]
        lineage = conn.execute(
            sa.text("SELECT source_sheet, source_row, personnel FROM fct_flood_cleanup ORDER BY personnel")
        ).all()
        run = one(conn, "SELECT files, flagged, accepted, rows_loaded FROM stg_ingest_run")
        warning = one(conn, "SELECT rule, sheet_name FROM stg_finding")
    assert [(r["report_type"], r["period"], r["status"], r["rows_loaded"], r["is_current"]) for r in loads] == [
        ("flood_cleanup", "2021-07-29", "flagged", 2, 1),
        ("flood_cleanup", "2021-07-30", "accepted", 2, 1),
        ("flood_cleanup", "2021-07-31", "accepted", 2, 1),
        ("volunteer_activity", "2022-03", "accepted", 2, 1),
    ]
    assert all(r["receipt_path"] and r["moved_to"] for r in loads)
    assert [tuple(r) for r in lineage] == [
        ("7月29日", 2, 10),
        ("7月30日", 2, 11),
        ("7月31日", 2, 12),
        ("7月29日", 3, 20),
        ("7月30日", 3, 21),
        ("7月31日", 3, 22),
    ]
    assert dict(warning) == {"rule": "other_report_sheet", "sheet_name": "志愿者"}  # on the file's first load
    assert dict(run) == {"files": 2, "flagged": 1, "accepted": 1, "rows_loaded": 8}
