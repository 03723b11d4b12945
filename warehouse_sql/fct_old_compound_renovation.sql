-- 老旧小区改造项目台账: one row per compound renovation project per monthly ledger (load). The ledger is a
-- month-end snapshot, so the period is stg_file_load.period, not a column here. Key: the project (compound)
-- name within a load. scope is 改造内容 in canonical form (kinds joined by 、); scope_* and overdue are
-- derived at parse time (etl/contracts/old_compound_renovation.py):
--   scope_building / scope_facilities / scope_gas  改造内容 includes 楼本体改造 / 基础配套设施改造 / 燃气管网改造
--   overdue  工程状态 <> 已完工 AND due_date <= last day of the ledger month
CREATE TABLE IF NOT EXISTS fct_old_compound_renovation (
    load_id              BIGINT NOT NULL ${LOAD_REFERENCE},  -- its load in stg_file_load (schema.py LOAD_REFERENCE)
    source_sha256        CHAR(64) NOT NULL,    -- lineage: the raw file (archive/<sha256>) and sheet
    source_sheet         VARCHAR(200),
    source_row           INTEGER NOT NULL,
    seq                  INTEGER,
    project              VARCHAR(500) NOT NULL,
    district             VARCHAR(12),          -- GB/T 2260 code
    street               VARCHAR(64),
    buildings            INTEGER,
    households           INTEGER,
    scope                VARCHAR(200),
    investment_10k_yuan  DOUBLE PRECISION,     -- 万元
    start_date           DATE,
    due_date             DATE,
    status               VARCHAR(32),
    cameras              INTEGER,
    access_doors         INTEGER,
    scope_building       BOOLEAN,
    scope_facilities     BOOLEAN,
    scope_gas            BOOLEAN,
    overdue              BOOLEAN,
    approximate_cols     VARCHAR(500),
    PRIMARY KEY (load_id, project)
);
