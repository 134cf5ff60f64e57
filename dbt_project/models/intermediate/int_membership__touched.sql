{{ config(materialized='table') }}
-- The membership records whose state (int_membership__states) can differ from what it holds: a night
-- deletes and rebuilds only them, from all their roster events. A record is touched when
--  - a roster row of a batch the states have not read names it (a backfilled earlier day and a
--    released held roll included: both land as batches above the watermark);
--  - a new transfer names its member (org_code, member_key): a transfer without member codes
--    creates a new record and supersedes the member's others;
--  - its organisation has a new full snapshot (on_current_roll of every record follows the latest
--    snapshot), or a delivery day of its organisation's roll was landed again (the replaced batch's
--    rows are gone, so whole organisation);
--  - its commune now resolves otherwise (int_admin__communes is rebuilt every night from the
--    reference seeds: a corrected crosswalk re-keys the records written with that commune).
-- The watermark is the highest batch a state was last changed by (last_batch_id): no batch above it
-- had been read, so reading again from there rebuilds at worst a little more than needed, never less.
-- Empty when int_membership__states does not exist yet or is rebuilt from scratch. Not a ref() of it:
-- it is the downstream model's previous state, read before it is rebuilt.
-- depends_on: {{ ref('int_roster__events') }} {{ ref('stg_landing__batches') }} {{ ref('int_admin__communes') }}
{% set states = adapter.get_relation(database=target.database, schema='intermediate', identifier='int_membership__states')
                if execute and not flags.FULL_REFRESH else none %}
{% if states is none %}
select null::text as org_code, null::text as source_record_key where false
{% else %}
with built as (

    select coalesce(max(last_batch_id), 0) as built_through_batch_id from {{ states }}

),

new_events as (

    select e.org_code, e.source_record_key, e.member_key, e.change_kind
    from {{ ref('int_roster__events') }} as e
    join built on e.batch_id > built.built_through_batch_id

),

whole_orgs as (

    select org_code from new_events where change_kind = 'snapshot'
    union
    -- A roll's day landed again: the day's earlier batch left the live set since the last build.
    select old.org_code
    from {{ ref('stg_landing__batches') }} as old
    join {{ ref('stg_landing__batches') }} as new
      on new.org_code = old.org_code and new.entity = old.entity and new.delivery_date = old.delivery_date
    join built on new.batch_id > built.built_through_batch_id
    where old.entity in ('roster', 'roster_changes') and old.status <> 'loaded' and old.batch_id < new.batch_id

),

touched as (

    select org_code, source_record_key from new_events
    union
    select s.org_code, s.source_record_key
    from {{ states }} as s join new_events as t using (org_code, member_key)
    where t.change_kind = 'transfer'
    union
    select s.org_code, s.source_record_key
    from {{ states }} as s where s.org_code in (select org_code from whole_orgs)
    union
    select s.org_code, s.source_record_key
    from {{ states }} as s left join {{ ref('int_admin__communes') }} as ac
        on ac.commune_raw = s.commune_raw and ac.roll_province = {{ roll_province('s.org_code') }}
    where (s.written_admin_unit_key, s.new_admin_unit_key, s.commune_resolution)
          is distinct from (ac.admin_unit_key, ac.new_admin_unit_key, ac.resolution)

)

select org_code, source_record_key from touched
{% endif %}
