-- A workbook's data sheets are all read (etl.parse): a load per period, and a load of several sheets has a
-- row 5 on each. The loaded-once index takes the period; quarantined rows and volunteer activities are
-- keyed by their sheet too. SQLite cannot change a primary key: the two tables are rebuilt, rows kept.
DROP INDEX IF EXISTS ux_stg_file_load_loaded_sha;
CREATE TABLE IF NOT EXISTS stg_quarantined_row (
    load_id BIGINT NOT NULL REFERENCES stg_file_load (load_id), source_row INTEGER NOT NULL,
    reason_zh TEXT NOT NULL, row_json TEXT NOT NULL, PRIMARY KEY (load_id, source_row)
);
CREATE TABLE stg_quarantined_row_006 (
    load_id       BIGINT NOT NULL REFERENCES stg_file_load (load_id),
    source_sheet  VARCHAR(200) NOT NULL,
    source_row    INTEGER NOT NULL,
    reason_zh     TEXT NOT NULL,
    row_json      TEXT NOT NULL,
    PRIMARY KEY (load_id, source_sheet, source_row)
);
INSERT INTO stg_quarantined_row_006 (load_id, source_sheet, source_row, reason_zh, row_json)
    SELECT q.load_id, COALESCE(l.sheet_name, ''), q.source_row, q.reason_zh, q.row_json
    FROM stg_quarantined_row q LEFT JOIN stg_file_load l ON l.load_id = q.load_id;
DROP TABLE stg_quarantined_row;
ALTER TABLE stg_quarantined_row_006 RENAME TO stg_quarantined_row;
CREATE TABLE fct_volunteer_activity_006 (
    load_id           BIGINT NOT NULL REFERENCES stg_file_load (load_id),
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
    PRIMARY KEY (load_id, source_sheet, source_row)
);
INSERT INTO fct_volunteer_activity_006 (load_id, source_sha256, source_sheet, source_row, date, district, unit, team,
                                        activity_type, volunteers, hours, place, approximate_cols)
    SELECT load_id, source_sha256, COALESCE(source_sheet, ''), source_row, date, district, unit, team,
           activity_type, volunteers, hours, place, approximate_cols
    FROM fct_volunteer_activity;
DROP TABLE fct_volunteer_activity;
ALTER TABLE fct_volunteer_activity_006 RENAME TO fct_volunteer_activity;
