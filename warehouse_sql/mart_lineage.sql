-- Lineage: for any district × report type × period, the files behind its figures — current version and
-- history — with content hash, sheet, received time, archive path and the span of source rows loaded.
-- Each fact row carries load_id, source_sha256, source_sheet and source_row, so the exact Excel rows
-- behind a number are one join away: fct_… f WHERE f.load_id = <load_id>.
-- ${FACT_ROWS_BY_LOAD} is filled in from the contracts (etl.schema.fact_rows_by_load): one
-- SELECT load_id, COUNT(*), MIN(source_row), MAX(source_row) … GROUP BY load_id per report type's fact table,
-- joined by UNION ALL, so a new report type is in lineage without an edit here.
CREATE VIEW mart_lineage AS
WITH rows_by_load AS (
    ${FACT_ROWS_BY_LOAD}
)
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
JOIN rows_by_load f ON f.load_id = l.load_id
LEFT JOIN dim_place p ON p.place_code = l.district_code
LEFT JOIN dim_report_type r ON r.report_type = l.report_type;
