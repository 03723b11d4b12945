-- Per load: how many fact rows it holds and the span of their source rows, written with the facts in the
-- load's transaction (etl.warehouse.summaries). mart_lineage reads it instead of counting millions of
-- fact rows on every query.
CREATE TABLE IF NOT EXISTS fct_load_summary (
    load_id    BIGINT PRIMARY KEY REFERENCES stg_file_load (load_id),
    fact_rows  INTEGER NOT NULL,
    first_row  INTEGER,
    last_row   INTEGER
);
