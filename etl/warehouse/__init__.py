"""The warehouse: engines, the schema built from ``warehouse_sql/``, and the leaders' read-only role."""
