{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
-- The five haves per unit (chi đoàn, chi hội, công đoàn cơ sở) and review period: counted per review
-- month, then given to every period that month ends.
with months as (

    select
        period_key                            as month_key,
        org_code,
        unit_key,
        min(unit_name)                        as unit_name,
        min(commune_name)                     as commune_name,
        min(new_admin_unit_key)               as new_admin_unit_key,
        {{ five_haves_counts() }}
    from (select * from {{ ref('int_review__record_flags') }}{{ review_periods_rebuilt() }}) as f
    group by period_key, org_code, unit_key

)

select pm.period_key, m.org_code, m.unit_key, m.unit_name, m.commune_name, m.new_admin_unit_key,
       {{ five_haves_columns('m') }}
from months as m
join {{ review_period_months() }} as pm using (month_key)
