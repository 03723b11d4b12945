-- 为群众办实事项目台账: one row per task per monthly ledger (load). The ledger is a month-end snapshot,
-- so the period is stg_file_load.period, not a column here. Key: the task name within a load.
-- overdue / completed_late are derived at parse time (etl/contracts/task_ledger.py):
--   overdue         status <> 已完成 AND due_date <= last day of the ledger month
--   completed_late  status = 已完成 AND done_date > due_date
CREATE TABLE IF NOT EXISTS fct_task_ledger (
    load_id           BIGINT NOT NULL ${LOAD_REFERENCE},  -- its load in stg_file_load (schema.py LOAD_REFERENCE)
    source_sha256     CHAR(64) NOT NULL,    -- lineage: the raw file (archive/<sha256>) and sheet
    source_sheet      VARCHAR(200),
    source_row        INTEGER NOT NULL,
    seq               INTEGER,
    task              VARCHAR(500) NOT NULL,
    district          VARCHAR(12),          -- GB/T 2260 code; 210500 = 市本级
    lead_unit         VARCHAR(200),
    category          VARCHAR(32),
    due_date          DATE,
    status            VARCHAR(32),
    done_date         DATE,
    overdue           BOOLEAN,
    completed_late    BOOLEAN,
    approximate_cols  VARCHAR(500),
    PRIMARY KEY (load_id, task)
);
