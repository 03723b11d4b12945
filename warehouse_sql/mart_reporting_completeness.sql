-- Every report owed, and whether and when it arrived. A report counts as received when a file for it was
-- accepted (or accepted with warnings); received_at is the first such file's time in the shared folder
-- (its modification time). on_time = received by the deadline. Rejected files do not count as received.
CREATE VIEW mart_reporting_completeness AS
WITH arrivals AS (
    SELECT report_type, district_code, period,
           MIN(CASE WHEN status IN ('accepted', 'flagged') THEN received_at END) AS first_accepted_at,
           SUM(CASE WHEN status = 'rejected' THEN 1 ELSE 0 END)                   AS files_rejected
    FROM stg_file_load
    WHERE status <> 'duplicate'
    GROUP BY report_type, district_code, period
)
SELECT e.report_type,
       r.title_zh                                                   AS report_title,
       e.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE p.place_name END AS district_name,
       e.period,
       e.deadline,
       a.first_accepted_at                                          AS received_at,
       CASE WHEN a.first_accepted_at IS NULL THEN 0 ELSE 1 END      AS received,
       CASE WHEN a.first_accepted_at <= e.deadline THEN 1 ELSE 0 END AS on_time,
       COALESCE(a.files_rejected, 0)                                AS files_rejected,
       CASE WHEN a.first_accepted_at IS NULL AND COALESCE(a.files_rejected, 0) > 0 THEN '已报送但被退回'
            WHEN a.first_accepted_at IS NULL THEN '未报送'
            WHEN a.first_accepted_at <= e.deadline THEN '按时报送'
            ELSE '逾期报送' END                                      AS state_zh
FROM dim_expected_report e
LEFT JOIN arrivals a ON a.report_type = e.report_type AND a.district_code = e.district_code AND a.period = e.period
LEFT JOIN dim_place p ON p.place_code = e.district_code
LEFT JOIN dim_report_type r ON r.report_type = e.report_type;
