-- Flood clean-up per district and day (current versions only; each street's day once, from its latest
-- load). approximate_values counts cells written as 30余 / 60多, loaded as their number and flagged.
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_flood_cleanup_daily AS
SELECT f.date,
       f.district                         AS district_code,
       p.place_name                       AS district_name,
       COUNT(*)                           AS streets_reported,
       SUM(f.personnel)                   AS personnel,
       SUM(f.vehicles)                    AS vehicles,
       ROUND(CAST(SUM(f.garbage_tons) AS NUMERIC), 2) AS garbage_tons,
       SUM(f.garbage_trips)               AS garbage_trips,
       ROUND(CAST(SUM(f.silt_m3) AS NUMERIC), 2) AS silt_m3,
       ROUND(CAST(SUM(f.water_pumped_m3) AS NUMERIC), 2) AS water_pumped_m3,
       SUM(f.disinfected_streets)         AS disinfected_streets,
       SUM(f.disinfected_toilets)         AS disinfected_toilets,
       SUM(f.disinfected_bins)            AS disinfected_bins,
       SUM(f.power_restored_households)   AS power_restored_households,
       SUM(CASE WHEN f.approximate_cols IS NULL THEN 0 ELSE 1 END) AS rows_with_approximate_values,
       MIN(f.approved)                    AS approved
FROM (
    -- A street's day is counted once: a daily report may carry a late row of an earlier day, which another
    -- file reported too; the later submission's row is the street's figure for that day.
    SELECT c.*, l.approved,
           ROW_NUMBER() OVER (PARTITION BY c.date, c.district, c.street ORDER BY c.load_id DESC) AS newest
    FROM fct_flood_cleanup c
    JOIN mart_published_load l ON l.load_id = c.load_id
) f
LEFT JOIN dim_place p ON p.place_code = f.district
WHERE f.newest = 1
GROUP BY f.date, f.district, p.place_name;
