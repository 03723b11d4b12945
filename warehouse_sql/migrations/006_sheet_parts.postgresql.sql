-- A workbook's data sheets are all read (etl.parse): a load per period, and a load of several sheets has a
-- row 5 on each. The loaded-once index takes the period; quarantined rows and volunteer activities are
-- keyed by their sheet too. Rows are kept; their sheet is the load's.
DROP INDEX IF EXISTS staging.ux_stg_file_load_loaded_sha;
CREATE TABLE IF NOT EXISTS staging.stg_quarantined_row (
    load_id BIGINT NOT NULL REFERENCES staging.stg_file_load (load_id), source_row INTEGER NOT NULL,
    reason_zh TEXT NOT NULL, row_json TEXT NOT NULL, PRIMARY KEY (load_id, source_row)
);
ALTER TABLE staging.stg_quarantined_row ADD COLUMN IF NOT EXISTS source_sheet VARCHAR(200);
UPDATE staging.stg_quarantined_row q SET source_sheet = COALESCE(l.sheet_name, '')
    FROM staging.stg_file_load l WHERE l.load_id = q.load_id AND q.source_sheet IS NULL;
UPDATE staging.stg_quarantined_row SET source_sheet = '' WHERE source_sheet IS NULL;
ALTER TABLE staging.stg_quarantined_row ALTER COLUMN source_sheet SET NOT NULL,
    DROP CONSTRAINT stg_quarantined_row_pkey, ADD PRIMARY KEY (load_id, source_sheet, source_row);
UPDATE core.fct_volunteer_activity SET source_sheet = '' WHERE source_sheet IS NULL;
ALTER TABLE core.fct_volunteer_activity ALTER COLUMN source_sheet SET NOT NULL,
    DROP CONSTRAINT fct_volunteer_activity_pkey, ADD PRIMARY KEY (load_id, source_sheet, source_row);
