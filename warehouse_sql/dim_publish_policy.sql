-- What leaders' views publish (etl.approval, PUBLISH_UNAPPROVED): one row, refreshed with the reference data.
--   publish_unapproved 0  approved figures only (the default)
--                      1  also figures awaiting approval (small deployments, make run's demo);
--                         rejected figures are never published
CREATE TABLE IF NOT EXISTS dim_publish_policy (
    publish_unapproved  SMALLINT NOT NULL
);
