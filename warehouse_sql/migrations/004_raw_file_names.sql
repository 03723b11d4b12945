-- A file name that is not UTF-8 text (GBK bytes from a Windows copy): its raw bytes, in hex, beside the
-- displayed form in file_name/source_path.
ALTER TABLE stg_file_load ADD COLUMN source_path_bytes VARCHAR(2000);
