{{ config(indexes=[{'columns': ['period_key', 'org_code', 'unit_key']}]) }}
-- The life of each flag (record × rule) over the monthly review periods since the warehouse received
-- its first roll (no list went out before): open, overdue (no answer var('review').overdue_after_periods
-- periods after it was first listed), answered (awaiting the organisation's next roll),
-- verified_kept (the unit checked: a real, active member; not listed again unless the evidence
-- changes), promised_not_done (the answer says removed or corrected, a later roll still has it
-- flagged or on the roll), resolved (the record left the roll, or no longer fires the rule).
-- A case is a flag raised in a review month, or an answer to one (a correction may have cleared the
-- flag since: the review recomputes past periods from the records' latest state). One row per period
-- while the case is not resolved, and one for the period it is resolved. Answers count from the day
-- they were delivered.
with first_roll as (

    select date_trunc('month', min(delivery_date))::date as first_month
    from {{ ref('stg_landing__batches') }}
    where status in ('loaded', 'duplicate') and entity in ('roster', 'roster_changes')

),

months as (

    select p.period_key, p.first_month, p.last_day, row_number() over (order by p.first_month)::int as month_no
    from {{ ref('rpt_review_periods') }} as p
    cross join first_roll
    where p.period_kind = 'month' and p.first_month >= first_roll.first_month

),

flagged as (

    select m.month_no, f.org_code, f.unit_key, f.unit_name, f.commune_name, f.source_record_key, f.flag_kind,
           f.flag_label, f.evidence
    from {{ ref('rpt_member_flags') }} as f
    join months as m using (period_key)

),

answers as (

    select * from {{ ref('rpt_verification_outcomes') }} where matches_flag

),

cases as (

    -- Flagged in a review month, or answered (a correction may have cleared the flag since). Reported
    -- under the unit where the case was flagged last, else the record's unit.
    select distinct on (org_code, source_record_key, flag_kind)
        org_code, source_record_key, flag_kind, flag_label, unit_key, unit_name, commune_name,
        min(month_no) over (partition by org_code, source_record_key, flag_kind) as first_month_no
    from (
        select month_no, org_code, source_record_key, flag_kind, flag_label, unit_key, unit_name, commune_name,
               1 as preference
        from flagged
        union all
        select m.month_no, a.org_code, a.source_record_key, a.flag_kind, null, a.unit_key, a.unit_name, a.commune_name,
               2
        from answers as a
        join months as m using (period_key)
    ) as seen
    order by org_code, source_record_key, flag_kind, preference, month_no desc

),

rolls as (

    -- Deliveries that carry the roll (a full roll or its changes): a removal shows in a later one.
    select distinct org_code, delivery_date
    from {{ ref('stg_landing__batches') }}
    where status in ('loaded', 'duplicate') and entity in ('roster', 'roster_changes')

),

grid as (

    select c.*, m.period_key, m.month_no, m.first_month, m.last_day,
           (f.source_record_key is not null) as flagged, f.evidence,
           (r.source_record_key is not null) as on_roll
    from cases as c
    join months as m on m.month_no >= c.first_month_no
    left join flagged as f
      on f.month_no = m.month_no and f.org_code = c.org_code and f.source_record_key = c.source_record_key
     and f.flag_kind = c.flag_kind
    left join {{ ref('int_review__records') }} as r
      on r.period_key = m.period_key and r.source_record_key = c.source_record_key

),

answered as (

    -- The latest matching answer delivered by the period's end.
    select distinct on (g.period_key, g.source_record_key, g.flag_kind)
        g.period_key, g.source_record_key, g.flag_kind, a.outcome_code, a.removes, a.delivery_date as answered_on,
        a.period_key as answered_for, a.verified_by, a.note, f.evidence as answered_evidence
    from grid as g
    join answers as a
      on a.source_record_key = g.source_record_key and a.flag_kind = g.flag_kind
     and a.delivery_date <= g.last_day
    left join months as am on am.period_key = a.period_key
    left join flagged as f
      on f.month_no = am.month_no and f.source_record_key = a.source_record_key and f.flag_kind = a.flag_kind
    order by g.period_key, g.source_record_key, g.flag_kind, a.delivery_date desc, a.batch_id desc

),

judged as (

    select
        g.*,
        a.outcome_code, a.removes, a.answered_on, a.answered_for, a.verified_by, a.note, a.answered_evidence,
        exists (select from rolls where rolls.org_code = g.org_code and rolls.delivery_date > a.answered_on
                                    and rolls.delivery_date <= g.last_day) as later_roll
    from grid as g
    left join answered as a using (period_key, source_record_key, flag_kind)

),

statuses as (

    select
        *,
        case
            when outcome_code = 'verified_active' then
                case when not flagged then 'resolved'
                     when evidence is distinct from answered_evidence then 'open'
                     else 'verified_kept' end
            when removes then
                case when not on_roll then 'resolved' when later_roll then 'promised_not_done' else 'answered' end
            when outcome_code = 'corrected' then
                case when not flagged then 'resolved' when later_roll then 'promised_not_done' else 'answered' end
            when not flagged then 'resolved'
            when month_no - first_month_no >= {{ var('review')['overdue_after_periods'] }} then 'overdue'
            else 'open'
        end as status
    from judged

),

resolved_once as (

    select *,
           case when status = 'resolved' then
               case when not on_roll then 'left_roll'
                    when outcome_code = 'corrected' then 'corrected'
                    else 'no_longer_flagged' end
           end as resolution
    from statuses

),

changes as (

    select *, lag(status) over case_months as status_before, lag(resolution) over case_months as resolution_before
    from resolved_once
    window case_months as (partition by org_code, source_record_key, flag_kind order by month_no)

)

select
    period_key,
    month_no,
    org_code,
    unit_key,
    unit_name,
    commune_name,
    source_record_key,
    flag_kind,
    flag_label,
    status,
    flagged,
    on_roll,
    (flagged and month_no = first_month_no)                               as raised,
    -- On this period's verification list: flagged and waiting for an answer or for the removal.
    (flagged and status in ('open', 'overdue', 'promised_not_done'))      as listed,
    (month_no > first_month_no)                                           as listed_before,
    resolution,
    -- A verified record flagged again: the evidence now, which differs from what the unit saw.
    case when outcome_code = 'verified_active' and flagged and evidence is distinct from answered_evidence
         then evidence end                                                as new_evidence,
    evidence,
    outcome_code,
    answered_on,
    answered_for,
    (answered_on between first_month and last_day)                        as answered_this_period,
    verified_by,
    note
from changes
-- A case is looked at while it is not resolved, and in the period it is resolved (again, or another
-- way: a removal answered for a flag that had stopped); a resolved case is not counted twice.
-- An answered case whose flag a correction cleared is not shown as resolved before the answer came.
where (status <> 'resolved' or status_before is distinct from 'resolved'
       or resolution_before is distinct from resolution)
  and not (status = 'resolved' and status_before is null and not flagged and outcome_code is null)
