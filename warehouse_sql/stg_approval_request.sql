-- Approval requests raised in Airflow (district_approval): one per load put before the stewards, so a
-- later run does not ask again while the task waits. A request older than the response timeout
-- (APPROVAL_RESPONSE_DAYS) has timed out in Airflow and is asked again.
CREATE TABLE IF NOT EXISTS stg_approval_request (
    load_id       BIGINT PRIMARY KEY,     -- stg_file_load (created after this file: no REFERENCES)
    run_id        VARCHAR(250) NOT NULL,
    requested_at  TIMESTAMP NOT NULL
);
