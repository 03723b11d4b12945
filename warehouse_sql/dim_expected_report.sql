-- Reports owed: one row per reporting unit × report type × period, with its deadline. Filled from
-- etl/reference/calendar.yaml on every warehouse setup.
CREATE TABLE IF NOT EXISTS dim_expected_report (
    report_type    VARCHAR(32) NOT NULL,
    district_code  VARCHAR(12) NOT NULL,
    period         VARCHAR(16) NOT NULL,
    deadline       TIMESTAMP NOT NULL,
    PRIMARY KEY (report_type, district_code, period)
);
