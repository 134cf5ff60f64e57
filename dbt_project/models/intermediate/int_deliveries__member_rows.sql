{{ config(materialized='incremental', unique_key='batch_id', incremental_strategy='delete+insert', on_schema_change='fail',
          indexes=[{'columns': ['batch_id']}, {'columns': ['member_on_a_roll']}],
          pre_hook=["{{ member_rows_roll_lost() }}", "{{ member_rows_roll_found() }}"],
          post_hook="{{ delete_batches_not_live() }}") }}
-- depends_on: {{ ref('stg_landing__batches') }}
-- Every live dues and attendance row, null days included (the facts leave them out): its member, its
-- day and whether its member is on a roll, what rpt_unmatched_activity counts. Incremental by batch, as
-- the facts: a night parses only its own batches through the staging views, not every row ever
-- delivered, and judges again only the rows whose member was on no roll or lost it (the pre-hooks,
-- macros/warehouse.sql). The index on member_on_a_roll finds those few.
with delivered as (

    -- The row's day: when paid, else the last day of the period paid for; the session's day.
    select org_code, batch_id, 'dues' as entity, member_key, delivery_date,
           coalesce(paid_on, (period_start + make_interval(months => period_months) - interval '1 day')::date) as row_on
    from {{ ref('int_dues__payments') }}
    union all
    select org_code, batch_id, 'activities', member_key, delivery_date, session_on
    from {{ ref('int_activities__attendance') }}

),

members as (

    -- Any record of the organisation's roll, now or before, owns the key: a member who left long ago
    -- still paid while on it.
    select distinct org_code, member_key from {{ ref('int_membership__records') }}

)

select d.*, m.member_key is not null as member_on_a_roll
from delivered as d
left join members as m using (org_code, member_key)
{% if is_incremental() %}
where d.batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
{% endif %}
