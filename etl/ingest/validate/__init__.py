"""The report type's Great Expectations suite, the rules that need history, and Data Docs."""
