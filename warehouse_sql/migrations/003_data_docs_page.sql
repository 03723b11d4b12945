-- Each file's Great Expectations Data Docs page, for stewards.
ALTER TABLE stg_file_load ADD COLUMN docs_page VARCHAR(1000);
