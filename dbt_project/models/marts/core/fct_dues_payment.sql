{{ config(materialized='incremental', unique_key='batch_id', incremental_strategy='delete+insert', on_schema_change='fail',
          indexes=[{'columns': ['batch_id']}], post_hook="{{ delete_batches_not_live() }}") }}
-- depends_on: {{ ref('stg_landing__batches') }}
-- Dues payments, one row per paid month (yearly dues spread over their 12 months). Incremental:
-- only batches landed since the last build are read; rows of batches replaced since are removed.
select
    d.org_code,
    d.batch_id,
    d.source_row_number,
    d.member_key,
    d.record_key,
    (d.period_start + make_interval(months => m.n))::date  as dues_month,
    d.period_months,
    round(d.amount_vnd / d.period_months, 0)                as amount_vnd,
    d.paid_on,
    d.delivery_date
from {{ ref('int_dues__payments') }} as d
cross join lateral generate_series(0, d.period_months - 1) as m(n)
where d.period_start is not null
{% if is_incremental() %}
  and d.batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
{% endif %}
