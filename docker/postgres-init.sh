#!/usr/bin/env bash
# First start of the compose PostgreSQL: a database for Airflow's metadata and one for the
# warehouse, each with its own owner; passwords come from the container's environment.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres \
     -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v warehouse_pw="$WAREHOUSE_PASSWORD" <<'SQL'
create role airflow login password :'airflow_pw';
create database airflow owner airflow;
create role lienthong login createrole password :'warehouse_pw';
create database lienthong owner lienthong;
\connect lienthong
create extension if not exists pg_trgm;
create extension if not exists unaccent;
create extension if not exists fuzzystrmatch;
SQL
