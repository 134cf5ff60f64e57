{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail',
          pre_hook="{% if is_incremental() %}{% if bi_member_months_rebuild_all() %}truncate {{ this }}{% else %}
                    delete from {{ this }} where person_id in (select person_id from {{ ref('int_member_month__touched') }})
                    {% endif %}{% endif %}") }}
{%- set everyone = bi_member_months_rebuild_all() %}
-- fct_member_month's rows with what a row needs of the person's other rows: how many organisations
-- have the person on the roll that month and whether this is the first of them (by code), and whether
-- the person was on this organisation's roll the month before and the month after. What the activity
-- aggregate (bi_agg_activity_by_commune) counts people in several organisations, joins and leaves by.
-- Computed here once per person rather than by that table's windows over every member-month each
-- night: the windows sort every member-month (400,000 people: 2.4M rows, 9 s of its 14 s).
-- Incremental per person, as fct_member_month: a night rebuilds the people fct_member_month rebuilt
-- (int_member_month__touched), all of each person's rows together, so the windows see every row of
-- theirs; every row when bi_member_months_rebuild_all() says (a new month, a replaced batch,
-- this table behind fct_member_month). A full rebuild gives the same rows.
-- depends_on: {{ ref('int_member_month__touched') }} {{ ref('int_member_month__built') }}
-- depends_on: {{ ref('int_member_month__window') }} {{ ref('stg_landing__batches') }}
with member_months as (

    select org_code, person_id, month_start, on_roll, dues_paid, attended, sessions_attended,
           built_through_batch_id, built_through_identity_run
    from {{ ref('fct_member_month') }}
    {%- if not everyone %}
    where person_id in (select person_id from {{ ref('int_member_month__touched') }})
    {%- endif %}

)

-- Both windows start with the person, so one sort of the member-months serves both (the second
-- re-sorts within each person only).
select
    org_code,
    person_id,
    month_start,
    on_roll,
    on_roll and (dues_paid or attended)                                           as active,
    sessions_attended,
    (count(*) filter (where on_roll) over person_month)::int                      as organisations_on_roll,
    coalesce(on_roll and org_code = min(org_code) filter (where on_roll) over person_month, false)
                                                                                  as first_organisation,
    coalesce(lag(month_start) over in_org = (month_start - interval '1 month')::date
             and lag(on_roll) over in_org, false)                                 as on_roll_before,
    coalesce(lead(month_start) over in_org = (month_start + interval '1 month')::date
             and lead(on_roll) over in_org, false)                                as on_roll_after,
    built_through_batch_id,
    built_through_identity_run
from member_months
window person_month as (partition by person_id, month_start),
       in_org as (partition by person_id, org_code order by month_start)
