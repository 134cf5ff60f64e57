-- People on two organisations' rolls at once, per review period (the diagonal: each roll's people).
-- The member status has one row per period, organisation and person (its unique_combination test),
-- so it is joined to itself as it is: a distinct copy of it was materialized and, its size guessed
-- at a tenth, both sides were sorted for a merge join instead of hashed.
select a.period_key, a.org_code, b.org_code as other_org_code, count(*) as people
from {{ ref('int_review__member_status') }} as a
join {{ ref('int_review__member_status') }} as b using (period_key, person_id)
group by 1, 2, 3
