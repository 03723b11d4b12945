-- 12345 tickets summed per load and district: the additive counts behind mart_hotline_by_district
-- (definitions there), written with the tickets in the load's transaction and refreshed when the pending
-- deadlines are filled (etl.warehouse.summaries). A year of a city's tickets is millions of rows; a
-- leader's query adds up a few hundred of these instead.
CREATE TABLE IF NOT EXISTS fct_hotline_load_summary (
    load_id            BIGINT NOT NULL REFERENCES stg_file_load (load_id),
    district           VARCHAR(12),
    tickets            INTEGER NOT NULL,
    replied_within_2h  INTEGER NOT NULL,
    closed             INTEGER NOT NULL,
    closed_within_3wd  INTEGER NOT NULL,
    deadline_pending   INTEGER NOT NULL,
    rated              INTEGER NOT NULL,
    satisfied          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_fct_hotline_load_summary_load ON fct_hotline_load_summary (load_id);
