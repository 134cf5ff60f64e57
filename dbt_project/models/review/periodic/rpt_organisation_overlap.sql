-- People on two organisations' rolls at once, per review period (the diagonal: each roll's people).
with people as (

    select distinct period_key, org_code, person_id from {{ ref('int_review__member_status') }}

)

select a.period_key, a.org_code, b.org_code as other_org_code, count(*) as people
from people as a
join people as b using (period_key, person_id)
group by 1, 2, 3
