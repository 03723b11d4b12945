-- Volunteer activity per district and day, plus the city-wide row (district_code NULL, 全市合计).
-- participations = sum of volunteers over activities; teams and units are distinct counts, so the city
-- row counts a unit once even if it organised activities in several districts.
CREATE VIEW mart_volunteer_daily AS
WITH cur AS (
    SELECT f.*
    FROM fct_volunteer_activity f
    JOIN stg_file_load l ON l.load_id = f.load_id AND l.is_current = 1
), grouped AS (
    SELECT date, district AS district_code, COUNT(*) AS activities, SUM(volunteers) AS participations,
           COUNT(DISTINCT team) AS teams, COUNT(DISTINCT unit) AS units, SUM(hours) AS service_hours
    FROM cur GROUP BY date, district
    UNION ALL
    SELECT date, NULL, COUNT(*), SUM(volunteers), COUNT(DISTINCT team), COUNT(DISTINCT unit), SUM(hours)
    FROM cur GROUP BY date
)
SELECT g.date,
       g.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE COALESCE(p.place_name, '全市合计') END AS district_name,
       g.activities,
       g.participations,
       g.teams,
       g.units,
       ROUND(CAST(g.service_hours AS NUMERIC), 1) AS service_hours
FROM grouped g
LEFT JOIN dim_place p ON p.place_code = g.district_code;
