{{ config(materialized='incremental', unique_key='batch_id', incremental_strategy='delete+insert', on_schema_change='fail',
          indexes=[{'columns': ['batch_id']}], post_hook="{{ delete_batches_not_live() }}") }}
-- depends_on: {{ ref('stg_landing__batches') }}
-- Every live dues and attendance row, null days included (the facts leave them out): its member and
-- its day, what rpt_unmatched_activity counts. Incremental by batch, as the facts: a night parses only
-- its own batches through the staging views, not every row ever delivered.
with delivered as (

    -- The row's day: when paid, else the last day of the period paid for; the session's day.
    select org_code, batch_id, 'dues' as entity, member_key, delivery_date,
           coalesce(paid_on, (period_start + make_interval(months => period_months) - interval '1 day')::date) as row_on
    from {{ ref('int_dues__payments') }}
    union all
    select org_code, batch_id, 'activities', member_key, delivery_date, session_on
    from {{ ref('int_activities__attendance') }}

)

select * from delivered
{% if is_incremental() %}
where batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
{% endif %}
