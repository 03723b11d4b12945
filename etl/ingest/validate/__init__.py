"""The report type's Great Expectations suite, the rules that need history, and Data Docs."""

import logging

# GX logs a line at INFO for every function of its own it skips registering in its API docs registry (about
# 200 at import): in a file's task log they buried the file's outcome. Its warnings still come through.
logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
