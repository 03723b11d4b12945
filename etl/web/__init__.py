"""The stewards' page, served inside the Airflow UI."""
