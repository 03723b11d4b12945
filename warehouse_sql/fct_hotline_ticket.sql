-- 12345便民服务热线工单: one row per ticket per monthly export (load). The last four columns are derived
-- when the file is parsed (etl/contracts/hotline_tickets.py, etl/workdays.py), never read from the file:
--   reply_minutes      (first_reply_at - received_at) in minutes; NULL without a reply
--   replied_within_2h  first_reply_at - received_at <= 2 h, clock time; NULL without a reply
--   closure_deadline   24:00 of the 3rd Chinese working day strictly after the day of receipt (调休 included),
--                      stored as the following midnight
--   closed_within_3wd  closed_at IS NOT NULL AND closed_at <= closure_deadline (an open ticket is FALSE)
CREATE TABLE IF NOT EXISTS fct_hotline_ticket (
    load_id            BIGINT NOT NULL ${LOAD_REFERENCE},  -- its load in stg_file_load (schema.py LOAD_REFERENCE)
    source_sha256      CHAR(64) NOT NULL,    -- lineage: the raw file (archive/<sha256>) and sheet
    source_sheet       VARCHAR(200),
    source_row         INTEGER NOT NULL,
    ticket_id          VARCHAR(64) NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    district           VARCHAR(12),          -- GB/T 2260 code
    street             VARCHAR(64),
    category           VARCHAR(100),
    first_reply_at     TIMESTAMP,
    closed_at          TIMESTAMP,
    satisfaction       VARCHAR(16),          -- 满意 | 基本满意 | 不满意 | 未评价 | NULL (not yet surveyed)
    reply_minutes      DOUBLE PRECISION,
    replied_within_2h  BOOLEAN,
    closure_deadline   TIMESTAMP,
    closed_within_3wd  BOOLEAN,
    approximate_cols   VARCHAR(500),
    PRIMARY KEY (load_id, ticket_id)
);
-- The tickets whose deadline waits for the working-day calendar (期限待定): found without a scan of the year.
CREATE INDEX IF NOT EXISTS ix_fct_hotline_ticket_pending ON fct_hotline_ticket (received_at) WHERE closure_deadline IS NULL;
