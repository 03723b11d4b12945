-- Steward approval (etl.approval): the validation outcome a held load keeps, held loads counted per run,
-- and held loads in the loaded-once index (SQLite does not enforce VARCHAR lengths).
ALTER TABLE stg_file_load ADD COLUMN checked_status VARCHAR(16);
-- a warehouse older than the run table gets it here, as it was, before the column is added
CREATE TABLE IF NOT EXISTS stg_ingest_run (
    run_id VARCHAR(250) PRIMARY KEY, finished_at TIMESTAMP NOT NULL, files INTEGER NOT NULL,
    accepted INTEGER NOT NULL, flagged INTEGER NOT NULL, rejected INTEGER NOT NULL, duplicate INTEGER NOT NULL,
    rows_loaded INTEGER NOT NULL, findings INTEGER NOT NULL
);
ALTER TABLE stg_ingest_run ADD COLUMN held_for_approval INTEGER NOT NULL DEFAULT 0;
DROP INDEX IF EXISTS ux_stg_file_load_loaded_part;
