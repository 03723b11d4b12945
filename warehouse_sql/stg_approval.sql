-- Steward decisions on district reports (etl.approval), the way DHIS2 approves data: one approval unit is
-- a report type × district × period, and a decision is taken on one load of it (the current version, or
-- a replacement held while the unit was locked). History only grows:
--   approved    the load's figures may be published; the unit is locked: a new file for it is held
--   rejected    returned to the clerk (a note beside the receipt, an alert); a held replacement is dropped
--   unapproved  an approval withdrawn, with its reason: the unit awaits approval again and is unlocked
-- decided_via: airflow (a human-in-the-loop task: run and task named in airflow_ref) | cli
CREATE TABLE IF NOT EXISTS stg_approval (
    approval_id    ${AUTO_ID},
    report_type    VARCHAR(32) NOT NULL,
    district_code  VARCHAR(12),
    period         VARCHAR(16),
    load_id        BIGINT NOT NULL,        -- stg_file_load (files are created in name order: no REFERENCES)
    decision       VARCHAR(16) NOT NULL,
    decided_by     VARCHAR(200) NOT NULL,
    decided_at     TIMESTAMP NOT NULL,
    comment        TEXT,
    decided_via    VARCHAR(16) NOT NULL,
    airflow_ref    VARCHAR(500)
);
CREATE INDEX IF NOT EXISTS ix_stg_approval_load ON stg_approval (load_id);
