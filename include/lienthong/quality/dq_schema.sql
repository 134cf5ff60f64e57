-- Every expectation result of every validation run, kept as history.
create schema if not exists dq;

create table if not exists dq.validation_results (
    run_id        text not null,
    suite         text not null,
    table_name    text not null,
    validated_at  timestamptz not null default now(),
    expectation   text not null,
    kwargs        jsonb not null,
    severity      text not null,
    success       boolean not null,
    observed      jsonb
);
-- Landed-batch validations say which batch; mart validations leave these null.
alter table dq.validation_results add column if not exists org_code text;
alter table dq.validation_results add column if not exists entity text;
alter table dq.validation_results add column if not exists batch_id bigint;
create index if not exists validation_results_run on dq.validation_results (run_id);
create index if not exists validation_results_batch on dq.validation_results (batch_id) where batch_id is not null;
