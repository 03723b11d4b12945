-- Working-day calendar (工作日历) of the 12345 closure deadline: one row per day of every configured year.
-- Filled on every warehouse setup from etl/reference/workdays.yaml over the chinese-calendar package's
-- years (etl/workdays.py). A day absent from this table is in a year not configured yet: a deadline that
-- needs it is pending (fct_hotline_ticket.closure_deadline NULL, 期限待定).
--   day_kind  workday | weekend | holiday (放假) | adjusted_workday (调休上班)
--   source    package (chinese-calendar) | reference (the steward's file)
CREATE TABLE IF NOT EXISTS dim_workday (
    day         DATE PRIMARY KEY,
    year        INTEGER NOT NULL,
    is_workday  SMALLINT NOT NULL,
    day_kind    VARCHAR(20) NOT NULL,
    source      VARCHAR(16) NOT NULL
);
