#!/usr/bin/env bash
# Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d): one server, two
# databases, each owned by its own non-superuser role.
#   airflow    Airflow's metadata database (POSTGRES_DB, created by the image), owned by AIRFLOW_DB_USER
#   warehouse  the district reports warehouse (WAREHOUSE_DB_NAME), owned by WAREHOUSE_DB_USER; the ingest DAG
#              creates its schemas (staging, core, mart) on its first run
#   leader     the city leaders' login (LEADER_DB_USER): created here, by the superuser, because the warehouse
#              role may not create roles; `python -m etl create-leader-role` (run as the warehouse role) then
#              grants it SELECT on the mart views (etl/warehouse/roles.py)
# Changing the passwords in .env later does not change them here: use ALTER ROLE … PASSWORD.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set}"
: "${WAREHOUSE_DB_PASSWORD:?WAREHOUSE_DB_PASSWORD is not set}"
: "${LEADER_DB_PASSWORD:?LEADER_DB_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v airflow_db="$POSTGRES_DB" \
    -v airflow_user="${AIRFLOW_DB_USER:-airflow}" \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" \
    -v warehouse_db="${WAREHOUSE_DB_NAME:-warehouse}" \
    -v warehouse_user="${WAREHOUSE_DB_USER:-district}" \
    -v warehouse_password="$WAREHOUSE_DB_PASSWORD" \
    -v leader_user="${LEADER_DB_USER:-leader}" \
    -v leader_password="$LEADER_DB_PASSWORD" <<'EOSQL'
CREATE ROLE :"airflow_user" LOGIN PASSWORD :'airflow_password';
ALTER DATABASE :"airflow_db" OWNER TO :"airflow_user";
CREATE ROLE :"warehouse_user" LOGIN PASSWORD :'warehouse_password';
CREATE DATABASE :"warehouse_db" OWNER :"warehouse_user";
REVOKE ALL ON DATABASE :"warehouse_db" FROM PUBLIC;
REVOKE ALL ON DATABASE :"airflow_db" FROM PUBLIC;
CREATE ROLE :"leader_user" LOGIN PASSWORD :'leader_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
ALTER ROLE :"leader_user" SET search_path = mart;
ALTER ROLE :"leader_user" SET default_transaction_read_only = on;
EOSQL
