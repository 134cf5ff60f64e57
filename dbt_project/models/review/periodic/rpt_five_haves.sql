{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
-- The five haves per organisation and review period: how many on the roll meet each, and all five.
-- Counted per review month (int_review__record_flags), then given to every period that month ends.
-- The people are counted over their distinct rows, hashed, beforehand: a distinct count in the
-- aggregate sorted every record.
with people as (

    select period_key, org_code, count(person_id) as people
    from (select distinct period_key, org_code, person_id from {{ ref('int_review__record_flags') }}{{ review_periods_rebuilt() }}) as d
    group by period_key, org_code

),

months as (

    select
        period_key as month_key,
        org_code,
        {{ five_haves_counts(people='min(p.people)') }},
        round(count(*) filter (where has_dues)::numeric / nullif(count(has_dues), 0), 4)             as dues_rate,
        round(count(*) filter (where has_attendance)::numeric / nullif(count(has_attendance), 0), 4) as attendance_rate
    from (select * from {{ ref('int_review__record_flags') }}{{ review_periods_rebuilt() }}) as f
    join people as p using (period_key, org_code)
    group by period_key, org_code

)

select pm.period_key, m.org_code, {{ five_haves_columns('m') }}, m.dues_rate, m.attendance_rate
from months as m
join {{ review_period_months() }} as pm using (month_key)
