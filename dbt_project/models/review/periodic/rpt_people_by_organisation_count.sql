{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
-- How many people belong to 1, 2, or 3 or more organisations, per review period: counted per review
-- month, then given to every period that month ends.
-- Rows, not distinct organisations: the member status has one row per month, organisation and
-- person (its unique index), and a plain count hashes where a distinct one sorts.
with per_person as (

    select period_key, person_id, count(*) as organisations
    from (select * from {{ ref('int_review__member_status') }}{{ review_periods_rebuilt() }}) as s
    group by 1, 2

),

months as (

    select
        period_key                                                          as month_key,
        case when organisations >= 3 then '3+' else organisations::text end as organisation_count,
        count(*)                                                            as people
    from per_person
    group by 1, 2

)

select pm.period_key, m.organisation_count, m.people
from months as m
join {{ review_period_months() }} as pm using (month_key)
