-- The raw schema's bookkeeping; per-organisation row tables are created from the configs.
create schema if not exists raw;

create table if not exists raw.batches (
    batch_id          bigint generated always as identity primary key,
    org_code          text not null,
    entity            text not null,
    delivery_date     date not null,
    source            text not null,
    checksum          text not null,
    row_count         integer not null default 0,
    quarantined_count integer not null default 0,
    status            text not null check (status in ('loaded', 'replaced', 'duplicate')),
    note              text,
    loaded_at         timestamptz not null default now()
);
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
