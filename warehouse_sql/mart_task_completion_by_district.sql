-- 为群众办实事 completion per ledger month and district (current ledgers only), with the city total
-- (district_code NULL, 全市合计) and 市本级 (the city-level departments' own ledger).
--   tasks               tasks listed in the ledger
--   completed           tasks with status 已完成
--   completion_rate_pct completed ÷ tasks listed × 100, 2 decimals (DOMAIN.md: Task completion rate =
--                       tasks 已完成 ÷ tasks listed; 1,697 ÷ 1,735 = 97.81, published rounded as 97.8%)
--   in_progress / not_started / cross_year  tasks 推进中 / 未启动 / 跨年推进
--   overdue             not 已完成 and 计划完成时间 on or before the last day of the ledger month
--   completed_late      已完成 with 实际完成时间 after 计划完成时间
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_task_completion_by_district AS
WITH per_district AS (
    SELECT l.period,
           f.district                                                 AS district_code,
           COUNT(*)                                                   AS tasks,
           SUM(CASE WHEN f.status = '已完成' THEN 1 ELSE 0 END)        AS completed,
           SUM(CASE WHEN f.status = '推进中' THEN 1 ELSE 0 END)        AS in_progress,
           SUM(CASE WHEN f.status = '未启动' THEN 1 ELSE 0 END)        AS not_started,
           SUM(CASE WHEN f.status = '跨年推进' THEN 1 ELSE 0 END)      AS cross_year,
           SUM(CASE WHEN f.overdue THEN 1 ELSE 0 END)                 AS overdue,
           SUM(CASE WHEN f.completed_late THEN 1 ELSE 0 END)          AS completed_late,
           MIN(l.approved) AS approved
    FROM fct_task_ledger f
    JOIN mart_published_load l ON l.load_id = f.load_id
    GROUP BY l.period, f.district
), with_city AS (
    SELECT period, district_code, tasks, completed, in_progress, not_started, cross_year, overdue, completed_late, approved
    FROM per_district
    UNION ALL
    SELECT period, NULL, SUM(tasks), SUM(completed), SUM(in_progress), SUM(not_started), SUM(cross_year),
           SUM(overdue), SUM(completed_late), MIN(approved)
    FROM per_district
    GROUP BY period
)
SELECT w.period,
       w.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE COALESCE(p.place_name, '全市合计') END AS district_name,
       w.tasks,
       w.completed,
       ROUND(100.0 * w.completed / NULLIF(w.tasks, 0), 2)                                   AS completion_rate_pct,
       w.in_progress,
       w.not_started,
       w.cross_year,
       w.overdue,
       w.completed_late,
       w.approved
FROM with_city w
LEFT JOIN dim_place p ON p.place_code = w.district_code;
