{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          indexes=[{'columns': ['org_code', 'month_start']}],
          pre_hook="{% if is_incremental() %}delete from {{ this }} where person_id in (select person_id from {{ ref('int_member_month__touched') }}) or org_code in ({{ member_month_replaced_orgs() }}){% endif %}",
          post_hook="delete from {{ this }} where month_start < (select min(month_start) from {{ ref('int_member_month__window') }})") }}
{#- Whether tonight's window gained a month (every person gets it) or not (only the touched people
    are built): decided before the query is planned, so the planner sees a small set of people. -#}
{%- set window_gained = true -%}
{%- if is_incremental() and execute -%}
    {%- set gained -%}
        select {{ member_month_window_gained() }}
    {%- endset -%}
    {%- set window_gained = run_query(gained).columns[0].values()[0] -%}
{%- endif %}
-- The monthly member snapshot the review reads: person × organisation × month, over the last
-- var('member_month_window') months: on the roll, dues paid, attended, eligible (five haves).
-- depends_on: {{ ref('int_member_month__touched') }} {{ ref('int_member_month__built') }} {{ ref('stg_landing__batches') }}
-- Incremental per person: a night deletes every row of the people it touched
-- (int_member_month__touched: new roster, dues or attendance rows, dropped by a new snapshot, re-keyed
-- by person linking) and every row of an organisation a rerun replaced a batch of (a person only the
-- replaced rows named is in no record any more: member_month_replaced_orgs), builds the touched
-- people's rows again in every month, and builds every person's rows of the months the window gained (int_member_month__built has the month it was built through); a
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

-- One row per record on the roll in a month, per dues row and per attendance row, aggregated once
-- by person × organisation × month: hash joins and one hash aggregate, no sort (a join of three
-- aggregates on md5 text keys sorted each of them). In a nightly run every branch is cut to the
-- touched people and the new months before it is aggregated.
member_person as (

    select distinct org_code, member_key, person_id from records

),

activity as (

    select r.org_code, r.person_id, m.month_start,
           1 as roll_record, null::numeric as amount_vnd, 0 as dues_row, 0 as session_row
    from records as r
    join months as m
      on coalesce(r.started_on, r.joined_on) <= m.month_end
     and (r.ended_on is null or r.ended_on >= m.month_start)
    {{ member_month_touched_only('r.person_id', 'm.month_start', window_gained) }}

    union all

    select mp.org_code, mp.person_id, d.dues_month, 0, d.amount_vnd, 1, 0
    from {{ ref('fct_dues_payment') }} as d
    join months as m on m.month_start = d.dues_month
    join member_person as mp using (org_code, member_key)
    {{ member_month_touched_only('mp.person_id', 'd.dues_month', window_gained) }}

    union all

    select mp.org_code, mp.person_id, a.session_month, 0, null, 0, 1
    from {{ ref('fct_activity_attendance') }} as a
    join months as m on m.month_start = a.session_month
    join member_person as mp using (org_code, member_key)
    {{ member_month_touched_only('mp.person_id', 'a.session_month', window_gained) }}

),

person_months as (

    select org_code, person_id, month_start,
           sum(roll_record)::int               as records_on_roll,
           coalesce(sum(amount_vnd), 0)        as dues_paid_vnd,
           sum(dues_row) > 0                   as dues_paid,
           sum(session_row)::int                  as sessions_attended
    from activity
    group by org_code, person_id, month_start

),

people as (

    select person_id, min(birth_year) as birth_year, min(sex) as sex
    from records group by person_id

)

select
    pm.org_code,
    pm.person_id,
    pm.month_start,
    pm.records_on_roll,
    pm.records_on_roll > 0                              as on_roll,
    pm.dues_paid_vnd,
    pm.dues_paid,
    pm.sessions_attended,
    pm.sessions_attended > 0                            as attended,
    {{ member_eligible('pm.org_code', 'p.birth_year', 'p.sex', 'pm.month_start') }} as eligible,
    {{ live_batch_watermark() }}                        as built_through_batch_id,
    {{ identity_watermark() }}                          as built_through_identity_run
from person_months as pm
left join people as p using (person_id)
