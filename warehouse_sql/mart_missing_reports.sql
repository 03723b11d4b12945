-- Reports owed but not received (none accepted yet), oldest deadline first: who has not reported.
CREATE VIEW mart_missing_reports AS
SELECT report_type, report_title, district_code, district_name, period, deadline, files_rejected, state_zh
FROM mart_reporting_completeness
WHERE received = 0;
