-- Reporting completeness and timeliness per district and report type (DOMAIN.md):
-- completeness_pct = reports received ÷ reports expected; timeliness_pct = received by the deadline ÷ expected.
CREATE VIEW mart_completeness_by_district AS
SELECT report_type,
       MAX(report_title)                                        AS report_title,
       district_code,
       MAX(district_name)                                       AS district_name,
       COUNT(*)                                                 AS expected,
       SUM(received)                                            AS received,
       SUM(on_time)                                             AS on_time,
       ROUND(100.0 * SUM(received) / COUNT(*), 2)               AS completeness_pct,
       ROUND(100.0 * SUM(on_time) / COUNT(*), 2)                AS timeliness_pct
FROM mart_reporting_completeness
GROUP BY report_type, district_code;
