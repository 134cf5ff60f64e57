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
create index if not exists validation_results_run on dq.validation_results (run_id);
