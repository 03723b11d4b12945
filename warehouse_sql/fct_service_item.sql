-- 政务服务事项清单: one row per service item per register snapshot (load).
CREATE TABLE IF NOT EXISTS fct_service_item (
    load_id             BIGINT NOT NULL ${LOAD_REFERENCE},  -- its load in stg_file_load (schema.py LOAD_REFERENCE)
    source_sha256       CHAR(64) NOT NULL,
    source_sheet        VARCHAR(200),
    source_row          INTEGER NOT NULL,
    item_code           VARCHAR(64) NOT NULL,
    item_name           VARCHAR(500),
    department          VARCHAR(200),
    district            VARCHAR(12),          -- GB/T 2260 code; 210500 = 市本级
    item_type           VARCHAR(32),
    is_application      BOOLEAN,
    in_service_hall     BOOLEAN,
    not_in_hall_reason  VARCHAR(200),
    online              BOOLEAN,
    legal_days          INTEGER,
    promised_days       INTEGER,
    max_visits          INTEGER,
    approximate_cols    VARCHAR(500),
    PRIMARY KEY (load_id, item_code)
);
