-- The raw schema's bookkeeping; per-organisation row tables are created from the configs.
create schema if not exists raw;

-- A batch's status: loaded (live, what staging reads), held (landed but not live: the delivery
-- looks incomplete or shrank; an operator releases or rejects it), rejected (failed its quality gate
-- or rejected by an operator; never read), replaced (a later delivery of the day took its place; its
-- rows are gone), duplicate (the same content as another day's batch, duplicate_of; no rows of its own).
create table if not exists raw.batches (
    batch_id          bigint generated always as identity primary key,
    org_code          text not null,
    entity            text not null,
    delivery_date     date not null,
    source            text not null,
    checksum          text not null,
    row_count         integer not null default 0,
    quarantined_count integer not null default 0,
    status            text not null,
    note              text,
    loaded_at         timestamptz not null default now()
);
-- Databases created before held/rejected and duplicate_of existed get the same shape. Only when
-- needed: ALTER TABLE locks the table even when it changes nothing, and readers of raw.batches
-- would wait behind every landing.
do $$
begin
    if not exists (select from information_schema.columns
                   where table_schema = 'raw' and table_name = 'batches' and column_name = 'duplicate_of') then
        alter table raw.batches add column duplicate_of bigint;
    end if;
    if not exists (select from pg_constraint where conrelid = 'raw.batches'::regclass
                   and conname = 'batches_status_check' and pg_get_constraintdef(oid) like '%held%') then
        alter table raw.batches drop constraint if exists batches_status_check;
        alter table raw.batches add constraint batches_status_check
            check (status in ('loaded', 'held', 'rejected', 'replaced', 'duplicate'));
    end if;
end
$$;
-- One live batch per organisation, entity and day: a rerun replaces, never appends.
create unique index if not exists batches_one_loaded
    on raw.batches (org_code, entity, delivery_date) where status = 'loaded';

create table if not exists raw.quarantine (
    batch_id    bigint not null references raw.batches (batch_id),
    org_code    text not null,
    entity      text not null,
    row_number  integer not null,
    reason_code text not null,
    reason      text not null,
    original    jsonb not null
);
create index if not exists quarantine_batch on raw.quarantine (batch_id);
