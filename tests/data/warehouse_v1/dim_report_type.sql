-- The report types the pipeline knows, filled from etl/contracts.py.
CREATE TABLE IF NOT EXISTS dim_report_type (
    report_type   VARCHAR(32) PRIMARY KEY,
    title_zh      VARCHAR(64) NOT NULL,
    period_grain  VARCHAR(16) NOT NULL,  -- quarter | month | day
    fact_table    VARCHAR(64) NOT NULL
);
