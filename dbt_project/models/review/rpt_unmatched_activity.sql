-- Dues and attendance rows whose member is on no roll of their organisation (no record of its roll,
-- now or before, has the row's member key): they count for no one in the five haves. Split by the
-- row's day against the organisation's first roll: a row from before it is most often a member who
-- had left by then (a dues list covers a year, the first roll only who is on it that day); a row from
-- the first roll on is for someone on no roll the warehouse has: a sender whose dues or activity list
-- keys its members otherwise than its roll (another member-code format, names written otherwise where
-- there are no codes), or a member missing from the roll.
with first_roll as (

    select org_code, min(delivery_date) as first_roll_on from {{ ref('int_roster__events') }} group by org_code

),

-- member_on_a_roll is kept by int_deliveries__member_rows (indexed): the unmatched rows are read by
-- index, the counts by one scan.
unmatched as (

    select d.org_code, d.entity, d.member_key, d.delivery_date, d.row_on < f.first_roll_on as before_first_roll
    from {{ ref('int_deliveries__member_rows') }} as d
    left join first_roll as f using (org_code)
    where not d.member_on_a_roll

),

counted as (

    select org_code, entity, count(*)::int as delivered_rows
    from {{ ref('int_deliveries__member_rows') }}
    group by org_code, entity

)

select
    c.org_code,
    c.entity,
    c.delivered_rows,
    count(u.org_code)::int                                                      as unmatched_rows,
    round(count(u.org_code)::numeric / c.delivered_rows, 4)                     as unmatched_share,
    count(distinct u.member_key)::int                                           as unmatched_members,
    count(u.org_code) filter (where u.before_first_roll)::int                   as unmatched_before_first_roll,
    count(u.org_code) filter (where u.before_first_roll is not true)::int       as unmatched_since_first_roll,
    count(distinct u.member_key) filter (where u.before_first_roll is not true)::int
                                                                                as unmatched_members_since_first_roll,
    max(u.delivery_date)                                                        as last_unmatched_delivery
from counted as c
left join unmatched as u using (org_code, entity)
group by c.org_code, c.entity, c.delivered_rows
