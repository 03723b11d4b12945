-- One row per ingest run: what the steward reads in the last task's log, kept for history.
CREATE TABLE IF NOT EXISTS stg_ingest_run (
    run_id       VARCHAR(250) PRIMARY KEY,
    finished_at  TIMESTAMP NOT NULL,
    files        INTEGER NOT NULL,
    accepted     INTEGER NOT NULL,
    flagged      INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    duplicate    INTEGER NOT NULL,
    held_for_approval INTEGER NOT NULL DEFAULT 0,
    rows_loaded  INTEGER NOT NULL,
    findings     INTEGER NOT NULL
);
