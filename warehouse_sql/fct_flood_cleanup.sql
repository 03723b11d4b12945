-- 防汛救灾清理情况日报: one row per street per day.
CREATE TABLE IF NOT EXISTS fct_flood_cleanup (
    load_id                    BIGINT NOT NULL ${LOAD_REFERENCE},  -- its load in stg_file_load (schema.py LOAD_REFERENCE)
    source_sha256              CHAR(64) NOT NULL,
    source_sheet               VARCHAR(200),
    source_row                 INTEGER NOT NULL,
    date                       DATE NOT NULL,
    district                   VARCHAR(12),
    street                     VARCHAR(64) NOT NULL,
    personnel                  INTEGER,
    vehicles                   INTEGER,
    garbage_tons               DOUBLE PRECISION,
    garbage_trips              INTEGER,
    silt_m3                    DOUBLE PRECISION,
    water_pumped_m3            DOUBLE PRECISION,
    disinfected_streets        INTEGER,
    disinfected_toilets        INTEGER,
    disinfected_bins           INTEGER,
    power_restored_households  INTEGER,
    approximate_cols           VARCHAR(500),  -- columns written as 30余 / 700多: loaded as 30 and flagged
    PRIMARY KEY (load_id, date, street)
);
