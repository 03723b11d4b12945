-- Load audit: one row per file seen, whatever its fate — a row per period of a workbook whose data sheets
-- hold several periods (etl.parse: one load per district × period). status:
--   accepted  loaded, no findings      flagged    loaded, with warnings
--   rejected  not loaded (see stg_finding)   duplicate  byte-identical to a file already received
--   held_for_approval  loaded but not current: its district × type × period was approved and is locked
--              until a steward approves this replacement (etl.approval); checked_status keeps what
--              validation said (accepted | flagged), the status it takes when approved
-- is_current marks the version of (report_type, district_code, period) that the mart shows; earlier
-- accepted versions stay as history with superseded_by pointing at their replacement.
-- An entry that was never read (a link, FIFO or device; a file over Limits.max_file_bytes) has no archive
-- copy: archive_path is NULL and sha256 is the hash of a description of the entry, not of content.
CREATE TABLE IF NOT EXISTS stg_file_load (
    load_id            ${AUTO_ID},
    run_id             VARCHAR(250),
    file_name          VARCHAR(500) NOT NULL,
    folder             VARCHAR(100),
    source_path        VARCHAR(1000),          -- as displayed (etl.names.display_path)
    source_path_bytes  VARCHAR(2000),          -- hex of the raw name when it is not plain UTF-8 text
    archive_path       VARCHAR(1000),
    moved_to           VARCHAR(1000),
    receipt_path       VARCHAR(1000),
    docs_page          VARCHAR(1000),          -- the file's Great Expectations Data Docs page
    sha256             CHAR(64) NOT NULL,
    size_bytes         BIGINT,
    report_type        VARCHAR(32),
    district_code      VARCHAR(12),
    period             VARCHAR(16),
    sheet_name         VARCHAR(200),
    rows_read          INTEGER,
    rows_loaded        INTEGER NOT NULL DEFAULT 0,
    findings_critical  INTEGER NOT NULL DEFAULT 0,
    findings_error     INTEGER NOT NULL DEFAULT 0,
    findings_warning   INTEGER NOT NULL DEFAULT 0,
    status             VARCHAR(20) NOT NULL,
    checked_status     VARCHAR(16),            -- a held load's validation outcome (accepted | flagged)
    reason_zh          TEXT,
    reason_en          TEXT,
    is_current         SMALLINT NOT NULL DEFAULT 0,
    superseded_by      BIGINT,
    received_at        TIMESTAMP,              -- when the pipeline first saw the file (stg_inbox_sighting)
    file_modified_at   TIMESTAMP,              -- the file's own mtime: information only, copies preserve it
    started_at         TIMESTAMP,
    finished_at        TIMESTAMP
);
-- A file's content is loaded at most once, even by two overlapping runs: once per period of its data
-- sheets (a workbook with a sheet per day is a load per day, each replaced on its own by a later file).
CREATE UNIQUE INDEX IF NOT EXISTS ux_stg_file_load_loaded_part
    ON stg_file_load (sha256, report_type, period) WHERE status IN ('accepted', 'flagged', 'held_for_approval');
-- At most one current version per district × report type × period.
CREATE UNIQUE INDEX IF NOT EXISTS ux_stg_file_load_current
    ON stg_file_load (report_type, district_code, period) WHERE is_current = 1;
CREATE INDEX IF NOT EXISTS ix_stg_file_load_sha ON stg_file_load (sha256);
