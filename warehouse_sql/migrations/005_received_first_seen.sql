-- received_at is now when the pipeline first saw the file (stg_inbox_sighting); the file's modification
-- time, which copies preserve, is kept beside it for information.
ALTER TABLE stg_file_load ADD COLUMN file_modified_at TIMESTAMP;
