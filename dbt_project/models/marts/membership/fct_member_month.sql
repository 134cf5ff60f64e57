{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          indexes=[{'columns': ['org_code', 'month_start']}],
          pre_hook="{% if is_incremental() %}delete from {{ this }} where person_id in (select person_id from {{ ref('int_member_month__touched') }}){% endif %}",
          post_hook="delete from {{ this }} where month_start < (select min(month_start) from {{ ref('int_member_month__window') }})") }}
{#- Whether tonight's window gained a month (every person gets it) or not (only the touched people
    are built): decided before the query is planned, so the planner sees a small set of people. -#}
{%- set window_gained = true -%}
{%- if is_incremental() and execute -%}
    {%- set gained -%}
        select coalesce((select max(month_start) from {{ ref('int_member_month__window') }})
                        > (select built_through_month from {{ ref('int_member_month__built') }}), true)
    {%- endset -%}
    {%- set window_gained = run_query(gained).columns[0].values()[0] -%}
{%- endif %}
-- The monthly member snapshot the review reads: person × organisation × month, over the last
-- var('member_month_window') months: on the roll, dues paid, attended, eligible (five haves).
-- depends_on: {{ ref('int_member_month__touched') }} {{ ref('int_member_month__built') }}
-- Incremental per person: a night deletes every row of the people it touched
-- (int_member_month__touched: new roster, dues or attendance rows, dropped by a new snapshot, re-keyed
-- by person linking) and builds their rows again in every month, and builds every person's rows of
-- the months the window gained (int_member_month__built has the month it was built through); a
-- full rebuild gives the same rows.
with months as (

    select month_start, month_end from {{ ref('int_member_month__window') }}

),

{% if is_incremental() %}
touched as (

    select person_id from {{ ref('int_member_month__touched') }}

),

built as (

    select built_through_month from {{ ref('int_member_month__built') }}

),
{% endif %}

records as (

    select * from {{ ref('int_membership__records') }}
    {% if is_incremental() and not window_gained %}
    -- Tonight's people (everyone when the window gained a month).
    where person_id in (select person_id from touched)
    {% endif %}

),

-- In a nightly run every part below is cut to the touched people and the new months before it is
-- aggregated.
roll as (

    select r.org_code, r.person_id, m.month_start, count(*)::int as records_on_roll
    from records as r
    join months as m
      on coalesce(r.started_on, r.joined_on) <= m.month_end
     and (r.ended_on is null or r.ended_on >= m.month_start)
    {{ member_month_touched_only('r.person_id', 'm.month_start', window_gained) }}
    group by 1, 2, 3

),

member_person as (

    select distinct org_code, member_key, person_id from records

),

dues as (

    select mp.org_code, mp.person_id, d.dues_month as month_start, sum(d.amount_vnd) as dues_paid_vnd
    from {{ ref('fct_dues_payment') }} as d
    join member_person as mp using (org_code, member_key)
    {{ member_month_touched_only('mp.person_id', 'd.dues_month', window_gained) }}
    group by 1, 2, 3

),

attendance as (

    select mp.org_code, mp.person_id, a.session_month as month_start, count(*)::int as sessions_attended
    from {{ ref('fct_activity_attendance') }} as a
    join member_person as mp using (org_code, member_key)
    {{ member_month_touched_only('mp.person_id', 'a.session_month', window_gained) }}
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
