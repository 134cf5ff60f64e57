{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
-- People on two organisations' rolls at once, per review period (the diagonal: each roll's people):
-- counted per review month, then given to every period that month ends.
-- The member status has one row per month, organisation and person (its unique_combination test),
-- so it is joined to itself as it is: a distinct copy of it was materialized and, its size guessed
-- at a tenth, both sides were sorted for a merge join instead of hashed.
with months as (

    select a.period_key as month_key, a.org_code, b.org_code as other_org_code, count(*) as people
    from (select * from {{ ref('int_review__member_status') }}{{ review_periods_rebuilt() }}) as a
    join (select * from {{ ref('int_review__member_status') }}{{ review_periods_rebuilt() }}) as b using (period_key, person_id)
    group by 1, 2, 3

)

select pm.period_key, m.org_code, m.other_org_code, m.people
from months as m
join {{ review_period_months() }} as pm using (month_key)
