-- 志愿服务活动统计: one row per volunteer activity.
CREATE TABLE IF NOT EXISTS fct_volunteer_activity (
    load_id           BIGINT NOT NULL ${LOAD_REFERENCE},  -- its load in stg_file_load (schema.py LOAD_REFERENCE)
    source_sha256     CHAR(64) NOT NULL,
    source_sheet      VARCHAR(200) NOT NULL,
    source_row        INTEGER NOT NULL,
    date              DATE NOT NULL,
    district          VARCHAR(12),
    unit              VARCHAR(200) NOT NULL,
    team              VARCHAR(200) NOT NULL,
    activity_type     VARCHAR(32),
    volunteers        INTEGER,
    hours             DOUBLE PRECISION,
    place             VARCHAR(200),
    approximate_cols  VARCHAR(500),
    PRIMARY KEY (load_id, source_sheet, source_row)  -- a load read from several sheets has a row 5 on each
);
