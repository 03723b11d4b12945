-- Service item register per district and quarter, with the city total (district_code NULL, 全市合计).
-- in_hall_rate_pct = application-based items in the service hall ÷ application-based items (DOMAIN.md).
-- Published versions only (mart_published_load): steward-approved, or awaiting approval under
-- PUBLISH_UNAPPROVED. approved: 1 when every version behind the row is approved, 0 when any awaits.
CREATE VIEW mart_service_items_by_district AS
WITH per_district AS (
    SELECT l.period,
           f.district                                                          AS district_code,
           COUNT(*)                                                            AS items,
           SUM(CASE WHEN f.is_application THEN 1 ELSE 0 END)                   AS application_items,
           SUM(CASE WHEN f.is_application AND f.in_service_hall THEN 1 ELSE 0 END) AS application_items_in_hall,
           SUM(CASE WHEN f.online THEN 1 ELSE 0 END)                           AS online_items,
           MIN(l.approved) AS approved
    FROM fct_service_item f
    JOIN mart_published_load l ON l.load_id = f.load_id
    GROUP BY l.period, f.district
), with_city AS (
    SELECT period, district_code, items, application_items, application_items_in_hall, online_items, approved
    FROM per_district
    UNION ALL
    SELECT period, NULL, SUM(items), SUM(application_items), SUM(application_items_in_hall), SUM(online_items), MIN(approved)
    FROM per_district
    GROUP BY period
)
SELECT w.period,
       w.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE COALESCE(p.place_name, '全市合计') END                                      AS district_name,
       w.items,
       w.application_items,
       w.application_items_in_hall,
       w.application_items - w.application_items_in_hall                      AS application_items_not_in_hall,
       ROUND(100.0 * w.application_items_in_hall / NULLIF(w.application_items, 0), 2) AS in_hall_rate_pct,
       w.online_items,
       ROUND(100.0 * w.online_items / NULLIF(w.items, 0), 2)                  AS online_rate_pct,
       w.approved
FROM with_city w
LEFT JOIN dim_place p ON p.place_code = w.district_code;
