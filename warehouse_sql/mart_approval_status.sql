-- Approval units (report type × district × period) that have a current version, with the steward's
-- decision on that version (etl.approval). approval_state:
--   awaiting_approval  no decision on the current version yet (or its approval was withdrawn)
--   approved           approved: the figures are published and the unit is locked
--   rejected           returned to the clerk for a corrected file
-- held_load_id: a replacement received while the unit was locked, waiting for the steward (NULL: none).
-- published: 1 when leaders' views show this version's figures (dim_publish_policy).
CREATE VIEW mart_approval_status AS
WITH ranked AS (
    SELECT a.load_id, a.decision, a.decided_by, a.decided_at, a.comment,
           ROW_NUMBER() OVER (PARTITION BY a.load_id ORDER BY a.approval_id DESC) AS nth
    FROM stg_approval a
), latest AS (
    SELECT load_id, decision, decided_by, decided_at, comment FROM ranked WHERE nth = 1
), held AS (
    SELECT report_type, district_code, period, MAX(load_id) AS held_load_id
    FROM stg_file_load
    WHERE status = 'held_for_approval' AND superseded_by IS NULL
    GROUP BY report_type, district_code, period
), units AS (
    SELECT l.report_type, l.district_code, l.period, l.load_id, l.file_name, l.received_at, l.rows_loaded,
           l.findings_error, l.findings_warning, l.receipt_path, l.docs_page,
           CASE d.decision WHEN 'approved' THEN 'approved' WHEN 'rejected' THEN 'rejected'
                ELSE 'awaiting_approval' END AS approval_state,
           d.decided_by, d.decided_at, d.comment
    FROM stg_file_load l
    LEFT JOIN latest d ON d.load_id = l.load_id
    WHERE l.is_current = 1
)
SELECT u.report_type,
       r.title_zh                                        AS report_title,
       u.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE p.place_name END AS district_name,
       u.period,
       u.load_id,
       u.file_name,
       u.received_at,
       u.rows_loaded,
       u.findings_error,
       u.findings_warning,
       u.approval_state,
       CASE u.approval_state WHEN 'approved' THEN '已审核' WHEN 'rejected' THEN '已退回修改'
            ELSE '待审核' END                            AS approval_state_zh,
       u.decided_by,
       u.decided_at,
       u.comment,
       h.held_load_id,
       CASE WHEN u.approval_state = 'approved'
                 OR (u.approval_state = 'awaiting_approval'
                     AND COALESCE((SELECT MAX(publish_unapproved) FROM dim_publish_policy), 0) = 1)
            THEN 1 ELSE 0 END                            AS published,
       u.receipt_path,
       u.docs_page
FROM units u
LEFT JOIN held h ON h.report_type = u.report_type AND h.period = u.period
                AND (h.district_code = u.district_code OR (h.district_code IS NULL AND u.district_code IS NULL))
LEFT JOIN dim_place p ON p.place_code = u.district_code
LEFT JOIN dim_report_type r ON r.report_type = u.report_type;
