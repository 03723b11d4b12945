-- Alerts already sent, so that a report missing past its deadline is announced once, not every run.
CREATE TABLE IF NOT EXISTS stg_alert_sent (
    kind       VARCHAR(32) NOT NULL,
    alert_key  VARCHAR(200) NOT NULL,
    sent_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, alert_key)
);
