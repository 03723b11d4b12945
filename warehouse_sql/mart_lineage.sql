-- Lineage: for any district × report type × period, the files behind its figures — current version and
-- history — with content hash, sheet, received time, archive path and the span of source rows loaded.
-- Each fact row carries load_id, source_sha256, source_sheet and source_row, so the exact Excel rows
-- behind a number are one join away: fct_… f WHERE f.load_id = <load_id>.
-- The rows per load come from fct_load_summary, written with the facts of every report type
-- (etl.warehouse.summaries), so a new report type is in lineage without an edit here.
CREATE VIEW mart_lineage AS
SELECT l.report_type,
       r.title_zh                                                     AS report_title,
       l.district_code,
       CASE WHEN p.level = 'city' THEN '市本级' ELSE p.place_name END AS district_name,
       l.period,
       l.is_current,
       l.superseded_by,
       l.load_id,
       l.file_name,
       l.sha256,
       l.sheet_name,
       l.received_at,
       l.archive_path,
       f.fact_rows,
       f.first_row,
       f.last_row
FROM stg_file_load l
JOIN fct_load_summary f ON f.load_id = l.load_id
LEFT JOIN dim_place p ON p.place_code = l.district_code
LEFT JOIN dim_report_type r ON r.report_type = l.report_type;
