-- Volunteer activity per district and day, plus the city-wide row (district_code NULL, 全市合计).
-- participations = sum of volunteers over activities; teams and units are distinct counts, so the city
-- row counts a unit once even if it organised activities in several districts.
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_volunteer_daily AS
WITH cur AS (
    SELECT f.*, l.approved
    FROM fct_volunteer_activity f
    JOIN mart_published_load l ON l.load_id = f.load_id
), grouped AS (
    SELECT date, district AS district_code, COUNT(*) AS activities, SUM(volunteers) AS participations,
           COUNT(DISTINCT team) AS teams, COUNT(DISTINCT unit) AS units, SUM(hours) AS service_hours,
           MIN(approved) AS approved
    FROM cur GROUP BY date, district
    UNION ALL
    SELECT date, NULL, COUNT(*), SUM(volunteers), COUNT(DISTINCT team), COUNT(DISTINCT unit), SUM(hours),
           MIN(approved)
    FROM cur GROUP BY date
)
SELECT g.date,
       g.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE COALESCE(p.place_name, '全市合计') END AS district_name,
       g.activities,
       g.participations,
       g.teams,
       g.units,
       ROUND(CAST(g.service_hours AS NUMERIC), 1) AS service_hours,
       g.approved
FROM grouped g
LEFT JOIN dim_place p ON p.place_code = g.district_code;
