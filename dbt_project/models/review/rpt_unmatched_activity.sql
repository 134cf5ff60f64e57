-- Dues and attendance rows whose member is on no roll of their organisation (no record of its roll,
-- now or before, has the row's member key): they count for no one in the five haves, and the
-- members they were meant for look as if they never paid or attended. Per organisation and kind,
-- over the live deliveries: a sender whose dues or activity list keys its members otherwise than its
-- roll (another member-code format, names written otherwise where there are no codes) shows here.
with members as (

    select distinct org_code, member_key from {{ ref('int_membership__records') }}

),

delivered as (

    select org_code, 'dues' as entity, member_key, delivery_date, batch_id, source_row_number
    from {{ ref('int_dues__payments') }}
    union all
    select org_code, 'activities', member_key, delivery_date, batch_id, source_row_number
    from {{ ref('int_activities__attendance') }}

)

select
    d.org_code,
    d.entity,
    count(*)::int                                                           as delivered_rows,
    count(*) filter (where m.member_key is null)::int                       as unmatched_rows,
    round(avg((m.member_key is null)::int), 4)                              as unmatched_share,
    count(distinct d.member_key) filter (where m.member_key is null)::int   as unmatched_members,
    max(d.delivery_date) filter (where m.member_key is null)                as last_unmatched_delivery
from delivered as d
left join members as m using (org_code, member_key)
group by d.org_code, d.entity
