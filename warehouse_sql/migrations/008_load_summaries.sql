-- Summaries beside the facts (etl.warehouse.summaries): rows per load for mart_lineage, 12345 counts per
-- load and district for mart_hotline_by_district. The tables are created by their files
-- (fct_load_summary.sql, fct_hotline_load_summary.sql); once they exist, etl.warehouse.schema fills them
-- from the facts already loaded (AFTER_MIGRATION), which an older warehouse may keep in tables that did
-- not exist when it was made.
SELECT 1;
