-- Steward approval (etl.approval): a held status (longer than the old 16 characters), the validation
-- outcome a held load keeps, held loads counted per run, and held loads in the loaded-once index.
ALTER TABLE staging.stg_file_load ALTER COLUMN status TYPE VARCHAR(20);
ALTER TABLE staging.stg_file_load ADD COLUMN IF NOT EXISTS checked_status VARCHAR(16);
-- a warehouse older than the run table gets it here, as it was, before the column is added
CREATE TABLE IF NOT EXISTS staging.stg_ingest_run (
    run_id VARCHAR(250) PRIMARY KEY, finished_at TIMESTAMP NOT NULL, files INTEGER NOT NULL,
    accepted INTEGER NOT NULL, flagged INTEGER NOT NULL, rejected INTEGER NOT NULL, duplicate INTEGER NOT NULL,
    rows_loaded INTEGER NOT NULL, findings INTEGER NOT NULL
);
ALTER TABLE staging.stg_ingest_run ADD COLUMN IF NOT EXISTS held_for_approval INTEGER NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS staging.ux_stg_file_load_loaded_part;
