-- Rows held back from the facts under a report type's quarantine policy (row_errors = quarantine_rows):
-- the rest of the file is loaded; these rows wait for the clerk's correction. row_json keeps the parsed values.
CREATE TABLE IF NOT EXISTS stg_quarantined_row (
    load_id       BIGINT NOT NULL REFERENCES stg_file_load (load_id),
    source_sheet  VARCHAR(200) NOT NULL,  -- a load read from several sheets has a row 5 on each
    source_row    INTEGER NOT NULL,
    reason_zh     TEXT NOT NULL,
    row_json      TEXT NOT NULL,
    PRIMARY KEY (load_id, source_sheet, source_row)
);
