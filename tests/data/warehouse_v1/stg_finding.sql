-- Every problem found in a file, from parsing or Great Expectations, located as the clerk sees it in Excel.
CREATE TABLE IF NOT EXISTS stg_finding (
    finding_id     ${AUTO_ID},
    load_id        BIGINT NOT NULL REFERENCES stg_file_load (load_id),
    rule           VARCHAR(100) NOT NULL,
    severity       VARCHAR(16) NOT NULL,   -- critical | error | warning
    sheet_name     VARCHAR(200),
    row_number     INTEGER,
    column_header  VARCHAR(200),
    cell_ref       VARCHAR(16),
    value_text     TEXT,
    message_zh     TEXT NOT NULL,
    message_en     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_stg_finding_load ON stg_finding (load_id);
