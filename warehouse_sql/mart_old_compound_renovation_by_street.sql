-- 老旧小区改造 per ledger month, district and street (current ledgers only): the street-level table the
-- district's leaders ask for (which compounds where). Projects without a street are under street NULL.
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_old_compound_renovation_by_street AS
SELECT l.period,
       f.district                                                 AS district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE p.place_name END AS district_name,
       f.street,
       COUNT(*)                                                   AS projects,
       SUM(f.buildings)                                           AS buildings,
       SUM(f.households)                                          AS households,
       ROUND(CAST(SUM(f.investment_10k_yuan) AS NUMERIC), 2)      AS investment_10k_yuan,
       SUM(CASE WHEN f.status = '已完工' THEN 1 ELSE 0 END)        AS completed,
       ROUND(100.0 * SUM(CASE WHEN f.status = '已完工' THEN 1 ELSE 0 END) / COUNT(*), 2) AS completed_share_pct,
       SUM(f.cameras)                                             AS cameras,
       SUM(f.access_doors)                                        AS access_doors,
       MIN(l.approved)                                            AS approved
FROM fct_old_compound_renovation f
JOIN mart_published_load l ON l.load_id = f.load_id
LEFT JOIN dim_place p ON p.place_code = f.district
GROUP BY l.period, f.district, p.level, p.place_name, f.street;
