#!/usr/bin/env bash
# First start of the compose PostgreSQL: a database for Airflow's metadata and one for the
# warehouse, each with its own owner; passwords come from the container's environment.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres \
     -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v warehouse_pw="$WAREHOUSE_PASSWORD" <<'SQL'
create role airflow login password :'airflow_pw';
create database airflow owner airflow;
-- Only its owner connects to Airflow's metadata (the embedded set-up does the same; `lienthong access
-- sync` closes the warehouse to every role it does not name, airflow included).
revoke connect, temporary on database airflow from public;
create role lienthong login createrole password :'warehouse_pw';
create database lienthong owner lienthong;
\connect lienthong
create extension if not exists pg_trgm;
create extension if not exists unaccent;
create extension if not exists fuzzystrmatch;
SQL
