-- From the first warehouse (everything in public, no receipts, lineage by load_id only) to layered
-- schemas, receipt paths and per-row lineage. Existing rows are kept and their lineage backfilled.
ALTER TABLE public.dim_place SET SCHEMA core;
ALTER TABLE public.dim_place_alias SET SCHEMA core;
ALTER TABLE public.dim_report_type SET SCHEMA core;
ALTER TABLE public.stg_file_load SET SCHEMA staging;
ALTER TABLE public.stg_finding SET SCHEMA staging;
ALTER TABLE public.fct_service_item SET SCHEMA core;
ALTER TABLE public.fct_flood_cleanup SET SCHEMA core;
ALTER TABLE public.fct_volunteer_activity SET SCHEMA core;
ALTER TABLE stg_file_load ADD COLUMN receipt_path VARCHAR(1000);
ALTER TABLE fct_service_item ADD COLUMN source_sha256 CHAR(64), ADD COLUMN source_sheet VARCHAR(200);
ALTER TABLE fct_flood_cleanup ADD COLUMN source_sha256 CHAR(64), ADD COLUMN source_sheet VARCHAR(200);
ALTER TABLE fct_volunteer_activity ADD COLUMN source_sha256 CHAR(64), ADD COLUMN source_sheet VARCHAR(200);
UPDATE fct_service_item f SET source_sha256 = l.sha256, source_sheet = l.sheet_name FROM stg_file_load l WHERE l.load_id = f.load_id;
UPDATE fct_flood_cleanup f SET source_sha256 = l.sha256, source_sheet = l.sheet_name FROM stg_file_load l WHERE l.load_id = f.load_id;
UPDATE fct_volunteer_activity f SET source_sha256 = l.sha256, source_sheet = l.sheet_name FROM stg_file_load l WHERE l.load_id = f.load_id;
ALTER TABLE fct_service_item ALTER COLUMN source_sha256 SET NOT NULL;
ALTER TABLE fct_flood_cleanup ALTER COLUMN source_sha256 SET NOT NULL;
ALTER TABLE fct_volunteer_activity ALTER COLUMN source_sha256 SET NOT NULL;
