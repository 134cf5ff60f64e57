{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          indexes=[{'columns': ['source_record_key'], 'unique': true}, {'columns': ['member_key']}],
          pre_hook="{% if is_incremental() %}delete from {{ this }} where source_record_key in (select source_record_key from {{ ref('int_membership__touched') }}){% endif %}") }}
-- One row per membership record ever seen on a roll, in its latest state (no person key: person
-- linking reads the current roll from here, so this must not depend on linking's output). The current roll is the
-- organisation's latest full snapshot plus the changes delivered after it: a record is on it when
-- it is in that snapshot or joined/was transferred since, and has not left since. A transfer in an
-- organisation without member codes arrives as a record in the new unit (a new key): the record of
-- the same member (name, birth date) in another unit ends with it.
-- Incremental per record: a night deletes the records int_membership__touched lists and builds them
-- again from all their events (index probes on source_record_key); a full rebuild gives the same rows.
-- depends_on: {{ ref('int_membership__touched') }}
with events as (

    select * from {{ ref('int_roster__events') }}
    {% if is_incremental() %}
    where source_record_key in (select source_record_key from {{ ref('int_membership__touched') }})
    {% endif %}

),

latest_snapshot as (

    -- The latest live batch holding snapshot rows, per organisation: a probe of the events' batch
    -- index per batch, not a scan of every event (a night reads only the touched records' events).
    select b.org_code, max(s.delivery_date) as snapshot_date
    from {{ ref('stg_landing__batches') }} as b
    cross join lateral (
        select e.delivery_date from {{ ref('int_roster__events') }} as e
        where e.batch_id = b.batch_id and e.change_kind = 'snapshot' limit 1
    ) as s
    where b.status = 'loaded'
    group by b.org_code

),

last_state as (

    select *
    from (
        select
            e.*,
            row_number() over (partition by e.source_record_key
                               order by e.delivery_date desc, e.source_row_number desc) as recency,
            min(coalesce(e.joined_on, e.changed_on, e.delivery_date))
                over (partition by e.source_record_key) as started_on,
            max(e.delivery_date) over (partition by e.source_record_key) as last_seen_on
        from events as e
    ) as ranked
    where recency = 1

),

transfers as (

    select t.org_code, t.member_key, t.source_record_key as new_record_key, t.delivery_date
    from {{ ref('int_roster__events') }} as t
    where t.change_kind = 'transfer'
    {% if is_incremental() %}
    -- Only the touched records' members (the events' partial index on transfers).
      and (t.org_code, t.member_key) in (select org_code, member_key from events)
    {% endif %}

),

superseded as (

    -- Records left behind by a transfer in an organisation without member codes (the transfer
    -- created a new record key for the same member). A join, not a correlated subquery: it stays
    -- linear at province scale.
    select distinct s.source_record_key
    from last_state as s
    join transfers as t
      on t.org_code = s.org_code and t.member_key = s.member_key
     and t.new_record_key <> s.source_record_key and t.delivery_date > s.delivery_date

),

states as (

    select
        s.*,
        ls.snapshot_date,
        (
            (s.change_kind = 'snapshot' and s.delivery_date = ls.snapshot_date)
            or (s.change_kind in ('join', 'transfer') and s.delivery_date > ls.snapshot_date)
        ) and sup.source_record_key is null as on_current_roll
    from last_state as s
    join latest_snapshot as ls using (org_code)
    left join superseded as sup using (source_record_key)

)

select
    s.org_code,
    s.source_record_key,
    s.member_key,
    s.member_code,
    s.full_name_raw, s.full_name, s.name_key,
    s.birth_date_raw, s.birth_date, s.birth_year,
    s.sex_raw, s.sex,
    s.id_number_raw, s.id_number,
    s.phone_raw, s.phone,
    s.hamlet_raw, s.hamlet_name,
    s.commune_raw, s.commune_name,
    ac.admin_unit_key                                                  as written_admin_unit_key,
    ac.new_admin_unit_key,
    ac.resolution                                                      as commune_resolution,
    {{ unit_key('s.org_code', 's.unit_code', 'ac.new_admin_unit_key', 's.commune_name', 's.unit_name') }}
                                                                       as unit_key,
    s.unit_code, s.unit_name, s.employer,
    s.joined_on,
    s.started_on,
    s.on_current_roll,
    case when not s.on_current_roll
         then coalesce(case when s.change_kind = 'leave' then s.changed_on end, s.last_seen_on) end
                                                                       as ended_on,
    case when not s.on_current_roll then s.end_reason end              as end_reason,
    s.change_kind                                                      as last_change_kind,
    s.delivery_date                                                    as last_delivery_date,
    s.batch_id                                                         as last_batch_id
from states as s
left join {{ ref('int_admin__communes') }} as ac
    on ac.commune_raw = s.commune_raw and ac.roll_province = {{ roll_province('s.org_code') }}
