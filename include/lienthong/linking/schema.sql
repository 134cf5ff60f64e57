-- The identity schema: conformed persons and how every source record links to one. Idempotent.
create schema if not exists identity;

create sequence if not exists identity.person_seq;

create table if not exists identity.runs (
    run_id bigserial primary key,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    incremental boolean not null,
    summary jsonb,
    policy jsonb  -- the LinkingPolicy the run decided by (lienthong.linking.policy)
);
alter table identity.runs add column if not exists policy jsonb;

-- The trained Splink model (settings with m and u) that incremental runs and explanations reuse.
create table if not exists identity.model (
    model_id bigserial primary key,
    run_id bigint not null references identity.runs,
    trained_at timestamptz not null default now(),
    settings jsonb not null
);

-- Matching features of every source record (see lienthong.linking.records).
create table if not exists identity.records (
    record_uid text primary key,
    org_code text not null,
    source_record_key text not null,
    content_hash text not null,
    name text, name_key text, family_key text, middle_key text, given_key text,
    birth_date text, birth_year integer, sex text,
    id_number text, id_kind text, id_consistent boolean,
    phone text, commune_code text, commune_candidates text, hamlet_key text,
    updated_at timestamptz not null default now(),
    unique (org_code, source_record_key)
);
-- Blocking's commune areas (lienthong.linking.blocking.commune_area_keys). Records stored before
-- them have none: the next run links in full, which fills them (lienthong.linking.run).
alter table identity.records add column if not exists commune_area text;
alter table identity.records add column if not exists commune_area_alt text;

create table if not exists identity.record_person (
    record_uid text primary key references identity.records,
    org_code text not null,
    source_record_key text not null,
    person_id text not null,
    linked_at timestamptz not null default now(),
    run_id bigint not null references identity.runs,
    unique (org_code, source_record_key)
);
create index if not exists record_person_person on identity.record_person (person_id);

create table if not exists identity.person (
    person_id text primary key,
    full_name text, family_name text, middle_name text, given_name text,
    birth_date date, birth_year integer, sex text,
    id_number text, id_kind text, phone text, commune_code text,
    n_records integer not null,
    organisations text[] not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table if not exists identity.person_events (
    event_id bigserial primary key,
    run_id bigint not null references identity.runs,
    event text not null check (event in ('created', 'merged', 'split')),
    person_id text not null,
    other_person_id text,
    record_uids text[] not null,
    reason text not null,
    at timestamptz not null default now()
);

-- Scored candidate pairs (uid_a < uid_b): the evidence behind every link and non-link.
create table if not exists identity.match_pairs (
    uid_a text not null,
    uid_b text not null,
    match_weight double precision not null,
    match_probability double precision not null,
    evidence jsonb not null,
    refused_reason text,
    run_id bigint not null references identity.runs,
    primary key (uid_a, uid_b)
);
create index if not exists match_pairs_b on identity.match_pairs (uid_b);

create table if not exists identity.review_decisions (
    record_key_a text not null,
    record_key_b text not null,
    decision text not null check (decision in ('same', 'different')),
    reviewer text not null,
    decided_at timestamptz not null default now(),
    note text,
    primary key (record_key_a, record_key_b),
    check (record_key_a < record_key_b)
);

create table if not exists identity.review_queue (
    uid_a text not null,
    uid_b text not null,
    match_probability double precision not null,
    reason text not null,
    person_a text,
    person_b text,
    queued_at timestamptz not null default now(),
    primary key (uid_a, uid_b)
);

-- Ghosts to flag: one person on the same organisation's roll more than once.
create or replace view identity.duplicate_memberships as
select rp.person_id, rp.org_code, count(*) as n_records,
       array_agg(rp.source_record_key order by rp.source_record_key) as source_record_keys
from identity.record_person rp
group by rp.person_id, rp.org_code
having count(*) > 1;

-- Partitioned linking (lienthong.linking.partitions): what a run's plan decided and what each
-- partition found, kept until the run's finish writes the identity tables from them (then deleted).
-- The partition of each commune (code, or first candidate code) of the run's records.
create table if not exists identity.partition_units (
    run_id bigint not null references identity.runs,
    unit text not null,
    partition text not null,
    primary key (run_id, unit)
);
-- The run's partitions with their records; summary once the partition is linked.
create table if not exists identity.staged_partitions (
    run_id bigint not null references identity.runs,
    partition text not null,
    records bigint not null,
    summary jsonb,
    primary key (run_id, partition)
);
-- Each partition's scored pairs (as identity.match_pairs) and clusters (record -> a record of its cluster).
create table if not exists identity.staged_pairs (like identity.match_pairs including defaults);
create index if not exists staged_pairs_run on identity.staged_pairs (run_id, uid_a);
create table if not exists identity.staged_clusters (
    run_id bigint not null,
    record_uid text not null,
    cluster_key text not null,
    primary key (run_id, record_uid)
);
