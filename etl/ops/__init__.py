"""Running it as a city does: Airflow on this machine with real logins, and the production topology started
as processes (make prod-smoke)."""
