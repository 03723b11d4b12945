-- 创城督查整改 per ledger month and district (current ledgers only), with the city total
-- (district_code NULL, 全市合计) and 市本级.
--   problems                problems assigned (交办整改问题), every row of the cumulative ledger
--   with_deadline           problems with an 整改期限 (设定整改期限的问题)
--   rectified               problems with status 已整改, whether or not they had a deadline
--   rectification_rate_pct  rectified ÷ with_deadline × 100, 2 decimals — literally as DOMAIN.md says
--                           ("problems 已整改 ÷ problems that have a deadline"; Benxi: 203 ÷ 293 = 69.28).
--                           A problem rectified without a deadline counts in the numerator only, so the
--                           rate can exceed 100; compare with rectified_with_deadline to see whether the
--                           two readings of the rule differ.
--   rectified_with_deadline problems 已整改 that have a deadline
--   in_progress             problems with status 整改中
--   overdue                 整改中 with 整改期限 on or before the last day of the ledger month
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_rectification_by_district AS
WITH per_district AS (
    SELECT l.period,
           f.district                                                                  AS district_code,
           COUNT(*)                                                                    AS problems,
           SUM(CASE WHEN f.deadline IS NOT NULL THEN 1 ELSE 0 END)                     AS with_deadline,
           SUM(CASE WHEN f.status = '已整改' THEN 1 ELSE 0 END)                         AS rectified,
           SUM(CASE WHEN f.status = '已整改' AND f.deadline IS NOT NULL THEN 1 ELSE 0 END) AS rectified_with_deadline,
           SUM(CASE WHEN f.status = '整改中' THEN 1 ELSE 0 END)                         AS in_progress,
           SUM(CASE WHEN f.overdue THEN 1 ELSE 0 END)                                  AS overdue,
           MIN(l.approved) AS approved
    FROM fct_rectification_issue f
    JOIN mart_published_load l ON l.load_id = f.load_id
    GROUP BY l.period, f.district
), with_city AS (
    SELECT period, district_code, problems, with_deadline, rectified, rectified_with_deadline, in_progress, overdue, approved
    FROM per_district
    UNION ALL
    SELECT period, NULL, SUM(problems), SUM(with_deadline), SUM(rectified), SUM(rectified_with_deadline),
           SUM(in_progress), SUM(overdue), MIN(approved)
    FROM per_district
    GROUP BY period
)
SELECT w.period,
       w.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE COALESCE(p.place_name, '全市合计') END AS district_name,
       w.problems,
       w.with_deadline,
       w.rectified,
       ROUND(100.0 * w.rectified / NULLIF(w.with_deadline, 0), 2)                          AS rectification_rate_pct,
       w.rectified_with_deadline,
       w.in_progress,
       w.overdue,
       w.approved
FROM with_city w
LEFT JOIN dim_place p ON p.place_code = w.district_code;
