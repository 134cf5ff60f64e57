{{ config(materialized='table') }}
-- The people whose member-months can differ from what fct_member_month holds (int_member_month__built):
-- a night recomputes only them, in every organisation and month. A person is touched when
--  - a new roster row (a batch above the watermark, a backfilled earlier day included) names one of
--    their records' members (org_code, member_key: a transfer without member codes supersedes the
--    member's other record), or a new dues or attendance row names such a member;
--  - a new snapshot dropped one of their records (off the roll now, on it at the previous snapshot);
--  - a rerun replaced a live batch of their organisation (the replaced rows are gone: whole organisation);
--  - person linking moved one of their records since the snapshot's linking watermark (the record's
--    new person, its provisional key, and both persons of a merge or split);
--  - their record's provisional key changed (every provisional key its live rows give, old and new).
-- Empty when fct_member_month does not exist yet or is rebuilt from scratch.
-- depends_on: {{ ref('int_member_month__built') }} {{ ref('int_membership__records') }} {{ ref('int_membership__states') }}
-- depends_on: {{ ref('int_roster__events') }} {{ ref('fct_dues_payment') }} {{ ref('fct_activity_attendance') }}
-- depends_on: {{ ref('stg_landing__batches') }} {{ ref('stg_identity__record_person') }} {{ ref('stg_identity__person_events') }}
{% if flags.FULL_REFRESH %}
select null::text as person_id where false
{% else %}
with built as (

    select * from {{ ref('int_member_month__built') }}

),

records as (

    select org_code, source_record_key, member_key, person_id, on_current_roll, ended_on
    from {{ ref('int_membership__records') }}

),

new_events as (

    select e.org_code, e.source_record_key, e.member_key, e.change_kind
    from {{ ref('int_roster__events') }} as e
    join built on e.batch_id > built.built_through_batch_id

),

new_members as (

    select org_code, member_key from new_events
    union
    select d.org_code, d.member_key from {{ ref('fct_dues_payment') }} as d
    join built on d.batch_id > built.built_through_batch_id
    union
    select a.org_code, a.member_key from {{ ref('fct_activity_attendance') }} as a
    join built on a.batch_id > built.built_through_batch_id

),

new_snapshots as (

    -- Organisations with a new full snapshot, and the date of their previous one.
    select n.org_code,
           (select max(e.delivery_date) from {{ ref('int_roster__events') }} as e, built
            where e.org_code = n.org_code and e.change_kind = 'snapshot'
              and e.batch_id <= built.built_through_batch_id) as previous_snapshot_on
    from (select distinct org_code from new_events where change_kind = 'snapshot') as n

),

replaced as (

    {{ member_month_replaced_orgs() }}

),

relinked as (

    select rp.org_code, rp.source_record_key, rp.person_id
    from {{ ref('stg_identity__record_person') }} as rp
    join built on rp.run_id > built.built_through_identity_run

),

touched as (

    select r.person_id from records as r join new_members using (org_code, member_key)
    union
    select {{ provisional_person_id('e.id_number', 'e.name_key', 'e.birth_year', 'e.commune_name') }}
    from {{ ref('int_roster__events') }} as e
    where e.source_record_key in (select source_record_key from new_events)
    union
    select r.person_id from records as r join new_snapshots as s using (org_code)
    where not r.on_current_roll and r.ended_on >= coalesce(s.previous_snapshot_on, '-infinity'::date)
    union
    select r.person_id from records as r where r.org_code in (select org_code from replaced)
    union
    select person_id from relinked
    union
    -- A record linked for the first time leaves its provisional key.
    select {{ provisional_person_id('s.id_number', 's.name_key', 's.birth_year', 's.commune_name') }}
    from {{ ref('int_membership__states') }} as s join relinked using (org_code, source_record_key)
    union
    select e.person_id from {{ ref('stg_identity__person_events') }} as e
    join built on e.run_id > built.built_through_identity_run
    union
    select e.other_person_id from {{ ref('stg_identity__person_events') }} as e
    join built on e.run_id > built.built_through_identity_run

)

select distinct person_id from touched where person_id is not null
{% endif %}
