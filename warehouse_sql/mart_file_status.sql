-- Stewards' view: every file received and what happened to it, newest first.
CREATE VIEW mart_file_status AS
SELECT l.load_id,
       l.received_at,        -- when the pipeline first saw the file (timeliness is judged on it)
       l.file_modified_at,   -- the file's own mtime, for information (copies preserve it)
       l.finished_at,
       l.folder,
       p.place_name          AS district_name,
       l.district_code,
       l.report_type,
       r.title_zh            AS report_title,
       l.period,
       l.file_name,
       l.status,
       ${STATUS_ZH(l.status)} AS status_zh,  -- the labels of etl.statuses
       l.is_current,
       l.superseded_by,
       l.rows_read,
       l.rows_loaded,
       l.findings_critical,
       l.findings_error,
       l.findings_warning,
       l.reason_zh,
       l.sha256,
       l.archive_path,
       l.moved_to,
       l.receipt_path,
       l.docs_page,
       l.run_id
FROM stg_file_load l
LEFT JOIN dim_place p ON p.place_code = l.district_code
LEFT JOIN dim_report_type r ON r.report_type = l.report_type;
