{{ config(materialized='incremental', unique_key='batch_id', incremental_strategy='delete+insert', on_schema_change='fail',
          indexes=[{'columns': ['batch_id']}], post_hook="{{ delete_batches_not_live() }}") }}
-- depends_on: {{ ref('stg_landing__batches') }}
-- Activity attendance (sinh hoạt), one row per member present at a session. Incremental by batch.
select
    org_code,
    batch_id,
    source_row_number,
    member_key,
    record_key,
    unit_code,
    unit_name,
    session_on,
    date_trunc('month', session_on)::date     as session_month,
    session_title,
    delivery_date
from {{ ref('int_activities__attendance') }}
where session_on is not null
{% if is_incremental() %}
  and batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
{% endif %}
