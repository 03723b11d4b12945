-- 创城督查整改问题台账: one row per assigned problem per monthly cumulative ledger (load). The period is
-- stg_file_load.period (the ledger's month), not a column here. Key: issue_code within a load.
-- has_deadline / overdue are derived at parse time (etl/contracts/rectification_ledger.py):
--   has_deadline  deadline IS NOT NULL
--   overdue       status = 整改中 AND deadline <= last day of the ledger month
CREATE TABLE IF NOT EXISTS fct_rectification_issue (
    load_id           BIGINT NOT NULL ${LOAD_REFERENCE},  -- its load in stg_file_load (schema.py LOAD_REFERENCE)
    source_sha256     CHAR(64) NOT NULL,    -- lineage: the raw file (archive/<sha256>) and sheet
    source_sheet      VARCHAR(200),
    source_row        INTEGER NOT NULL,
    issue_code        VARCHAR(64) NOT NULL,
    found_date        DATE,
    district          VARCHAR(12),          -- GB/T 2260 code; 210500 = 市本级
    unit              VARCHAR(200),
    category          VARCHAR(32),
    description       VARCHAR(1000),
    deadline          DATE,                 -- may be empty: not every problem gets a deadline
    status            VARCHAR(16),
    rectified_date    DATE,
    has_deadline      BOOLEAN,
    overdue           BOOLEAN,
    approximate_cols  VARCHAR(500),
    PRIMARY KEY (load_id, issue_code)
);
