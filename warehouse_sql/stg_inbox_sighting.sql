-- When the pipeline first saw each entry of the inbox (DOMAIN.md "Received time"): recorded by the scan
-- that finds it (etl.sightings), kept across runs while the entry waits or settles, read as the file's
-- received_at when it is processed and then removed. The file's own modification time is kept beside it
-- for information only: copies preserve it, so it says nothing about when the file arrived.
CREATE TABLE IF NOT EXISTS stg_inbox_sighting (
    key_sha256     CHAR(64) PRIMARY KEY,     -- sha256 of the entry key (etl.names.entry_key)
    entry_key      TEXT NOT NULL,
    first_seen_at  TIMESTAMP NOT NULL,       -- city local time, our clock
    last_seen_at   TIMESTAMP NOT NULL,
    file_modified_at TIMESTAMP,              -- the entry's mtime when first seen (information)
    origin         VARCHAR(16) NOT NULL      -- scan | reprocess (the archived file's original received time) | demo
);
