{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}") }}
{{ review_periods_depends_on() }}
-- People on two organisations' rolls at once, per review period (the diagonal: each roll's people).
-- The member status has one row per period, organisation and person (its unique_combination test),
-- so it is joined to itself as it is: a distinct copy of it was materialized and, its size guessed
-- at a tenth, both sides were sorted for a merge join instead of hashed.
select a.period_key, a.org_code, b.org_code as other_org_code, count(*) as people
from (select * from {{ ref('int_review__member_status') }}{{ review_periods_rebuilt() }}) as a
join (select * from {{ ref('int_review__member_status') }}{{ review_periods_rebuilt() }}) as b using (period_key, person_id)
group by 1, 2, 3
