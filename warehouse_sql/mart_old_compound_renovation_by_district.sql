-- 老旧小区改造 per ledger month and district (current ledgers only), with the city total (district_code
-- NULL, 全市合计).
--   projects             compounds (projects) listed in the ledger
--   streets              distinct streets with a project (the city row counts each district's streets)
--   buildings / households / investment_10k_yuan / cameras / access_doors   sums over the projects
--   completed / in_construction / not_started   projects 已完工 / 在建 / 未开工
--   completed_share_pct  completed ÷ projects × 100, 2 decimals
--   overdue              not 已完工 and 计划完工时间 on or before the last day of the ledger month
--   scope_building / scope_facilities / scope_gas   projects whose 改造内容 includes each kind of work
-- The seed (明山区, 2022): 13 compounds in 明山, 北地 and 高峪 streets, 85 buildings, 5,113 households,
-- 7,874.97 万元, 166 video points, 334 access-controlled doors.
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_old_compound_renovation_by_district AS
WITH per_district AS (
    SELECT l.period,
           f.district                                                   AS district_code,
           COUNT(*)                                                     AS projects,
           COUNT(DISTINCT f.street)                                     AS streets,
           SUM(f.buildings)                                             AS buildings,
           SUM(f.households)                                            AS households,
           SUM(f.investment_10k_yuan)                                   AS investment_10k_yuan,
           SUM(CASE WHEN f.status = '已完工' THEN 1 ELSE 0 END)          AS completed,
           SUM(CASE WHEN f.status = '在建' THEN 1 ELSE 0 END)            AS in_construction,
           SUM(CASE WHEN f.status = '未开工' THEN 1 ELSE 0 END)          AS not_started,
           SUM(CASE WHEN f.overdue THEN 1 ELSE 0 END)                   AS overdue,
           SUM(f.cameras)                                               AS cameras,
           SUM(f.access_doors)                                          AS access_doors,
           SUM(CASE WHEN f.scope_building THEN 1 ELSE 0 END)            AS scope_building,
           SUM(CASE WHEN f.scope_facilities THEN 1 ELSE 0 END)          AS scope_facilities,
           SUM(CASE WHEN f.scope_gas THEN 1 ELSE 0 END)                 AS scope_gas,
           MIN(l.approved) AS approved
    FROM fct_old_compound_renovation f
    JOIN mart_published_load l ON l.load_id = f.load_id
    GROUP BY l.period, f.district
), with_city AS (
    SELECT period, district_code, projects, streets, buildings, households, investment_10k_yuan, completed,
           in_construction, not_started, overdue, cameras, access_doors, scope_building, scope_facilities, scope_gas, approved
    FROM per_district
    UNION ALL
    SELECT period, NULL, SUM(projects), SUM(streets), SUM(buildings), SUM(households), SUM(investment_10k_yuan),
           SUM(completed), SUM(in_construction), SUM(not_started), SUM(overdue), SUM(cameras), SUM(access_doors),
           SUM(scope_building), SUM(scope_facilities), SUM(scope_gas), MIN(approved)
    FROM per_district
    GROUP BY period
)
SELECT w.period,
       w.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE COALESCE(p.place_name, '全市合计') END AS district_name,
       w.projects,
       w.streets,
       w.buildings,
       w.households,
       ROUND(CAST(w.investment_10k_yuan AS NUMERIC), 2)                                     AS investment_10k_yuan,
       w.completed,
       ROUND(100.0 * w.completed / NULLIF(w.projects, 0), 2)                               AS completed_share_pct,
       w.in_construction,
       w.not_started,
       w.overdue,
       w.cameras,
       w.access_doors,
       w.scope_building,
       w.scope_facilities,
       w.scope_gas,
       w.approved
FROM with_city w
LEFT JOIN dim_place p ON p.place_code = w.district_code;
