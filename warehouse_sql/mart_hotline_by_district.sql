-- 12345 hotline tickets per month (period) and district, plus the city total (district_code NULL, 全市合计).
-- Current versions of each district's monthly export only. Definitions (DOMAIN.md "Exact rules"):
--   tickets                tickets received in the period
--   replied_within_2h      tickets whose first reply came within 2 hours of receipt (clock time, <= 2 h)
--   reply_rate_pct         replied_within_2h / tickets * 100 (a ticket without a reply counts as not in time)
--   closed                 tickets with a 办结时间 (closed_at IS NOT NULL)
--   closed_within_3wd      tickets closed by 24:00 of the 3rd working day strictly after the day of receipt
--   deadline_pending       期限待定: tickets whose deadline falls in a year the working-day calendar does not
--                          cover yet (closure_deadline NULL); counted neither in nor out of time
--   closure_rate_pct       closed_within_3wd / (tickets - deadline_pending) * 100 (an open ticket counts as
--                          not in time)
--   provisional            1 while any ticket of the period is pending: the closure figures will change
--                          when the calendar is extended (python -m etl workdays fill)
--   rated                  tickets with a satisfaction answer: satisfaction IS NOT NULL AND <> '未评价'
--   satisfied              tickets rated 满意 or 基本满意
--   satisfaction_rate_pct  satisfied / rated * 100 (NULL when nothing was rated)
-- Percentages are ROUND(..., 2); NULL when the denominator is 0.
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_hotline_by_district AS
WITH per_district AS (  -- from the per-load counts (fct_hotline_load_summary), not a scan of every ticket
    SELECT l.period,
           s.district                AS district_code,
           SUM(s.tickets)            AS tickets,
           SUM(s.replied_within_2h)  AS replied_within_2h,
           SUM(s.closed)             AS closed,
           SUM(s.closed_within_3wd)  AS closed_within_3wd,
           SUM(s.deadline_pending)   AS deadline_pending,
           SUM(s.rated)              AS rated,
           SUM(s.satisfied)          AS satisfied,
           MIN(l.approved)           AS approved
    FROM fct_hotline_load_summary s
    JOIN mart_published_load l ON l.load_id = s.load_id
    GROUP BY l.period, s.district
), with_city AS (
    SELECT period, district_code, tickets, replied_within_2h, closed, closed_within_3wd, deadline_pending,
           rated, satisfied, approved
    FROM per_district
    UNION ALL
    SELECT period, NULL, SUM(tickets), SUM(replied_within_2h), SUM(closed), SUM(closed_within_3wd),
           SUM(deadline_pending), SUM(rated), SUM(satisfied), MIN(approved)
    FROM per_district
    GROUP BY period
)
SELECT w.period,
       w.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE COALESCE(p.place_name, '全市合计') END AS district_name,
       w.tickets,
       w.replied_within_2h,
       ROUND(100.0 * w.replied_within_2h / NULLIF(w.tickets, 0), 2)          AS reply_rate_pct,
       w.closed,
       w.closed_within_3wd,
       w.deadline_pending,
       ROUND(100.0 * w.closed_within_3wd / NULLIF(w.tickets - w.deadline_pending, 0), 2) AS closure_rate_pct,
       CASE WHEN w.deadline_pending > 0 THEN 1 ELSE 0 END                    AS provisional,
       w.rated,
       w.satisfied,
       ROUND(100.0 * w.satisfied / NULLIF(w.rated, 0), 2)                    AS satisfaction_rate_pct,
       w.approved
FROM with_city w
LEFT JOIN dim_place p ON p.place_code = w.district_code;
