-- From the first warehouse (no receipts, lineage by load_id only) to receipt paths and per-row lineage.
-- SQLite has no schemas: the layers stay as name prefixes. Existing rows are kept and backfilled.
ALTER TABLE stg_file_load ADD COLUMN receipt_path VARCHAR(1000);
ALTER TABLE fct_service_item ADD COLUMN source_sha256 CHAR(64);
ALTER TABLE fct_service_item ADD COLUMN source_sheet VARCHAR(200);
ALTER TABLE fct_flood_cleanup ADD COLUMN source_sha256 CHAR(64);
ALTER TABLE fct_flood_cleanup ADD COLUMN source_sheet VARCHAR(200);
ALTER TABLE fct_volunteer_activity ADD COLUMN source_sha256 CHAR(64);
ALTER TABLE fct_volunteer_activity ADD COLUMN source_sheet VARCHAR(200);
UPDATE fct_service_item SET source_sha256 = (SELECT sha256 FROM stg_file_load l WHERE l.load_id = fct_service_item.load_id), source_sheet = (SELECT sheet_name FROM stg_file_load l WHERE l.load_id = fct_service_item.load_id);
UPDATE fct_flood_cleanup SET source_sha256 = (SELECT sha256 FROM stg_file_load l WHERE l.load_id = fct_flood_cleanup.load_id), source_sheet = (SELECT sheet_name FROM stg_file_load l WHERE l.load_id = fct_flood_cleanup.load_id);
UPDATE fct_volunteer_activity SET source_sha256 = (SELECT sha256 FROM stg_file_load l WHERE l.load_id = fct_volunteer_activity.load_id), source_sheet = (SELECT sheet_name FROM stg_file_load l WHERE l.load_id = fct_volunteer_activity.load_id);
