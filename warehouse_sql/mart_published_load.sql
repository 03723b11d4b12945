-- The loads whose figures leaders' views show: the current version of each approval unit when it is
-- approved, or awaiting approval under PUBLISH_UNAPPROVED (dim_publish_policy). approved: 1 for an
-- approved version; every figure view carries it (MIN over the loads behind a row: 1 = all approved).
CREATE VIEW mart_published_load AS
SELECT load_id,
       report_type,
       district_code,
       period,
       approval_state,
       CASE WHEN approval_state = 'approved' THEN 1 ELSE 0 END AS approved
FROM mart_approval_status
WHERE published = 1;
