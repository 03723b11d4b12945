-- Stewards' view of every finding with its file, most severe first within a file.
CREATE VIEW mart_finding AS
SELECT f.finding_id,
       l.load_id,
       l.file_name,
       l.folder,
       l.report_type,
       l.period,
       l.status        AS file_status,
       f.severity,
       f.rule,
       f.sheet_name,
       f.row_number,
       f.column_header,
       f.cell_ref,
       f.value_text,
       f.message_zh,
       f.message_en
FROM stg_finding f
JOIN stg_file_load l ON l.load_id = f.load_id;
