"""Read the indicator views back for people: the table `make run` ends with."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

SECTIONS = (
    ("政务服务事项（按区县）service items by district",
     "SELECT period, district_name, items, application_items, application_items_in_hall, "
     "in_hall_rate_pct, online_items, online_rate_pct FROM mart_service_items_by_district "
     "ORDER BY period, CASE WHEN district_code IS NULL THEN 1 ELSE 0 END, district_code"),
    ("志愿服务（2022-03-04 全市行动）volunteer drive",
     "SELECT date, district_name, activities, participations, teams, units FROM mart_volunteer_daily "
     "WHERE date = :drive_day ORDER BY CASE WHEN district_code IS NULL THEN 1 ELSE 0 END, district_code",
     ),
    ("为群众办实事（按区县）practical tasks",
     "SELECT period, district_name, tasks, completed, completion_rate_pct, overdue FROM "
     "mart_task_completion_by_district ORDER BY period, CASE WHEN district_code IS NULL THEN 1 ELSE 0 END, district_code"),
    ("创城督查整改（按区县）inspection problems",
     "SELECT period, district_name, problems, with_deadline, rectified, rectification_rate_pct FROM "
     "mart_rectification_by_district ORDER BY period, CASE WHEN district_code IS NULL THEN 1 ELSE 0 END, district_code"),
    ("12345 热线（按区县）hotline tickets",
     "SELECT period, district_name, tickets, reply_rate_pct, closure_rate_pct, satisfaction_rate_pct FROM "
     "mart_hotline_by_district ORDER BY period, CASE WHEN district_code IS NULL THEN 1 ELSE 0 END, district_code"),
    ("防汛清理（全市按日）flood clean-up by day",
     "SELECT date, COUNT(*) AS districts, SUM(streets_reported) AS streets, SUM(personnel) AS personnel, "
     "SUM(vehicles) AS vehicles, ROUND(CAST(SUM(garbage_tons) AS NUMERIC), 1) AS garbage_tons "
     "FROM mart_flood_cleanup_daily GROUP BY date ORDER BY date"),
    ("报送情况：未按时报送 late or missing reports",
     "SELECT report_title, district_name, period, deadline, received_at, state_zh FROM mart_reporting_completeness "
     "WHERE on_time = 0 ORDER BY report_type, period, district_code"),
    ("文件处理状态 file status",
     "SELECT status_zh, COUNT(*) AS files, SUM(rows_loaded) AS rows_loaded FROM mart_file_status "
     "GROUP BY status_zh ORDER BY status_zh"),
)


def indicator_tables(engine: Engine, drive_day: str = "2022-03-04") -> list[tuple[str, pd.DataFrame]]:
    with engine.connect() as conn:
        return [(title, pd.read_sql(sa.text(sql), conn, params={"drive_day": drive_day} if ":drive_day" in sql else None))
                for title, sql in SECTIONS]


def render(tables: list[tuple[str, pd.DataFrame]]) -> str:
    parts = []
    for title, frame in tables:
        body = frame.fillna("—").to_string(index=False) if len(frame) else "(无数据 no rows)"
        parts.append(f"\n== {title} ==\n{body}")
    return "\n".join(parts)
