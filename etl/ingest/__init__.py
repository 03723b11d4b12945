"""The flow of one district file: inbox → read → parse → validate → load → receipts.

``etl.ingest.pipeline`` is the per-file job the ingest DAG maps over; each sub-package is one step."""
