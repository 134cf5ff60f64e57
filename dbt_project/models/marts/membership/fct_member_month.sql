{{ config(materialized='incremental', unique_key=['org_code', 'month_start'], incremental_strategy='delete+insert', on_schema_change='fail',
          indexes=[{'columns': ['org_code', 'month_start']}],
          post_hook="delete from {{ this }} where month_start < (select min(month_start) from {{ ref('int_member_month__window') }})") }}
-- The monthly member snapshot the review reads: person × organisation × month, over the last
-- var('member_month_window') months: on the roll, dues paid, attended, eligible (five haves).
-- depends_on: {{ ref('int_roster__events') }}
-- Incremental: a night recomputes, per organisation that sent something, only the months its new
-- batches can change (from the earliest month they touch), the months the window gained for every
-- organisation, and whole organisations whose records the person linking re-keyed; a full rebuild
-- gives the same rows.
with months as (

    select month_start, month_end from {{ ref('int_member_month__window') }}

),

{% if is_incremental() %}
new_batches as (

    select batch_id, org_code from {{ source('landing', 'batches') }}
    where status = 'loaded' and batch_id > (select coalesce(max(built_through_batch_id), 0) from {{ this }})

),

touched as (

    -- The earliest month each organisation's new batches reach, through dues, attendance or roll changes.
    select org_code, date_trunc('month', min(touched_on))::date as from_month
    from (
        select d.org_code, d.dues_month as touched_on from {{ ref('fct_dues_payment') }} as d
        where d.batch_id in (select batch_id from new_batches)
        union all
        select a.org_code, a.session_on from {{ ref('fct_activity_attendance') }} as a
        where a.batch_id in (select batch_id from new_batches)
        union all
        select e.org_code, least(e.joined_on, e.changed_on, e.delivery_date) from {{ ref('int_roster__events') }} as e
        where e.batch_id in (select batch_id from new_batches)
        union all
        select org_code, (select min(month_start) from months) from new_batches
        where org_code not in (select org_code from {{ this }})
        union all
        -- A month the window gained (any organisation's delivery opened it): every organisation
        -- built so far gets it, whether or not it sent anything that night.
        select o.org_code, min(m.month_start)
        from (select distinct org_code from {{ this }}) as o
        cross join months as m
        where m.month_start > (select max(month_start) from {{ this }})
        group by o.org_code
        {% if identity_ready() %}
        union all
        -- Records the person linking moved to another person since the last build: every month of
        -- their organisation is re-keyed.
        select org_code, (select min(month_start) from months) from {{ source('identity', 'record_person') }}
        where run_id > (select coalesce(max(built_through_identity_run), 0) from {{ this }})
        {% endif %}
    ) as t
    group by org_code

),
{% endif %}

records as (

    select * from {{ ref('int_membership__records') }}

),

-- In a nightly run every part below is cut to the touched organisations and months before it is
-- aggregated (cutting only the final rows still aggregated every month of every organisation).
roll as (

    select r.org_code, r.person_id, m.month_start, count(*)::int as records_on_roll
    from records as r
    join months as m
      on coalesce(r.started_on, r.joined_on) <= m.month_end
     and (r.ended_on is null or r.ended_on >= m.month_start)
    {{ member_month_touched_only('r.org_code', 'm.month_start') }}
    group by 1, 2, 3

),

member_person as (

    select distinct org_code, member_key, person_id from records

),

dues as (

    select mp.org_code, mp.person_id, d.dues_month as month_start, sum(d.amount_vnd) as dues_paid_vnd
    from {{ ref('fct_dues_payment') }} as d
    join member_person as mp using (org_code, member_key)
    {{ member_month_touched_only('d.org_code', 'd.dues_month') }}
    group by 1, 2, 3

),

attendance as (

    select mp.org_code, mp.person_id, a.session_month as month_start, count(*)::int as sessions_attended
    from {{ ref('fct_activity_attendance') }} as a
    join member_person as mp using (org_code, member_key)
    {{ member_month_touched_only('a.org_code', 'a.session_month') }}
    group by 1, 2, 3

),

people as (

    select person_id, min(birth_year) as birth_year, min(sex) as sex
    from records group by person_id

),

person_months as (

    select org_code, person_id, month_start from roll
    union select org_code, person_id, month_start from dues
    union select org_code, person_id, month_start from attendance

)

select
    pm.org_code,
    pm.person_id,
    pm.month_start,
    coalesce(r.records_on_roll, 0)                      as records_on_roll,
    coalesce(r.records_on_roll, 0) > 0                  as on_roll,
    coalesce(d.dues_paid_vnd, 0)                        as dues_paid_vnd,
    d.person_id is not null                             as dues_paid,
    coalesce(a.sessions_attended, 0)                    as sessions_attended,
    a.person_id is not null                             as attended,
    {{ member_eligible('pm.org_code', 'p.birth_year', 'p.sex', 'pm.month_start') }} as eligible,
    {{ live_batch_watermark() }}                        as built_through_batch_id,
    {{ identity_watermark() }}                          as built_through_identity_run
from person_months as pm
join months as m using (month_start)
left join roll as r using (org_code, person_id, month_start)
left join dues as d using (org_code, person_id, month_start)
left join attendance as a using (org_code, person_id, month_start)
left join people as p using (person_id)
