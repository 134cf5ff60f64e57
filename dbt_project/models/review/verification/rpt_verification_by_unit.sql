-- The review loop per unit and monthly period: flags raised, listed, answered, verified and kept,
-- resolved (records removed, details corrected), promised but not done, overdue; and the answer
-- rate: of the flags on the previous period's list, the share answered by this period's end.
with this_period as (

    select
        period_key, month_no, org_code, unit_key,
        min(unit_name)                                                                   as unit_name,
        min(commune_name)                                                                as commune_name,
        count(*) filter (where raised)                                                   as raised,
        count(*) filter (where listed)                                                   as listed,
        count(*) filter (where answered_this_period)                                     as answered,
        count(*) filter (where status = 'verified_kept')                                 as verified_kept,
        count(*) filter (where status = 'resolved')                                      as resolved,
        count(*) filter (where status = 'resolved' and resolution = 'left_roll'
                               and outcome_code is not null and outcome_code <> 'verified_active')
                                                                                         as removed,
        count(*) filter (where status = 'resolved' and outcome_code = 'corrected')       as corrected,
        count(*) filter (where status = 'promised_not_done')                             as promised_not_done,
        count(*) filter (where status = 'overdue')                                       as overdue
    from {{ ref('rpt_flag_lifecycle') }}
    group by period_key, month_no, org_code, unit_key

),

previous_list as (

    select now.period_key, before.org_code, before.unit_key,
           count(*)                                            as listed_previous,
           count(*) filter (where now.answered_on is not null) as answered_of_previous
    from {{ ref('rpt_flag_lifecycle') }} as before
    join {{ ref('rpt_flag_lifecycle') }} as now
      on now.month_no = before.month_no + 1 and now.source_record_key = before.source_record_key
     and now.flag_kind = before.flag_kind
    where before.listed
    group by now.period_key, before.org_code, before.unit_key

)

select
    t.period_key,
    t.org_code,
    t.unit_key,
    t.unit_name,
    t.commune_name,
    t.raised,
    t.listed,
    t.answered,
    t.verified_kept,
    t.resolved,
    t.removed,
    t.corrected,
    t.promised_not_done,
    t.overdue,
    coalesce(p.listed_previous, 0)      as listed_previous,
    coalesce(p.answered_of_previous, 0) as answered_of_previous,
    round(p.answered_of_previous::numeric / nullif(p.listed_previous, 0), 3) as answer_rate
from this_period as t
left join previous_list as p using (period_key, org_code, unit_key)
