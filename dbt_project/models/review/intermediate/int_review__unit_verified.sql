{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail',
          pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
-- Each unit's records and verified people (an ID of a valid shape or found in another organisation)
-- per review period: what rpt_reported_vs_verified sets against the unit's reported total. Incremental
-- by period like int_review__records, which it counts (a closed period's as issued), so a night counts
-- the rebuilt months' records, not all 12 months'; each period is given the counts of the month that
-- ends it. In two hashed steps (per person, then per unit): a distinct count of the people sorted
-- every record. A person is verified in the unit when any of their records there is.
with unit_people as (

    select period_key, org_code, unit_key, person_id, count(*) as records, bool_or(has_person) as has_person
    from {{ ref('int_review__records') }}{{ review_periods_rebuilt() }}
    group by 1, 2, 3, 4

),

months as (

    select period_key as month_key, org_code, unit_key, sum(records)::bigint as roll_records,
           count(person_id) filter (where has_person) as verified_people
    from unit_people
    group by 1, 2, 3

)

select pm.period_key, m.org_code, m.unit_key, m.roll_records, m.verified_people
from months as m
join {{ review_period_months() }} as pm using (month_key)
