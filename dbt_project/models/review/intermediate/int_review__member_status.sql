{{ config(materialized='table', indexes=[{'columns': ['period_key', 'org_code', 'person_id']}]) }}
-- Each member on an organisation's roll at the end of each review period, with how long since
-- they last paid dues and last attended (the last two of the five haves).
with member_months as (

    select
        *,
        max(case when dues_paid then month_start end)
            over (partition by org_code, person_id order by month_start) as last_dues_month,
        max(case when attended then month_start end)
            over (partition by org_code, person_id order by month_start) as last_attended_month,
        min(case when on_roll then month_start end)
            over (partition by org_code, person_id order by month_start) as first_roll_month
    from {{ ref('fct_member_month') }}

)

select
    p.period_key,
    p.period_kind,
    p.last_month,
    p.last_day,
    m.org_code,
    m.person_id,
    m.records_on_roll,
    m.eligible,
    m.first_roll_month,
    m.last_dues_month,
    m.last_attended_month,
    -- Whole months in arrears at period end; members on the roll for fewer months are not judged.
    case when m.first_roll_month <= (p.last_month - make_interval(months => {{ var('review')['no_dues_months'] }} - 1))::date
         then coalesce(m.last_dues_month, '1900-01-01'::date) < (p.last_month - make_interval(months => {{ var('review')['no_dues_months'] }} - 1))::date
         else false end as no_dues,
    case when m.first_roll_month <= (p.last_month - make_interval(months => {{ var('review')['no_attendance_months'] }} - 1))::date
         then coalesce(m.last_attended_month, '1900-01-01'::date) < (p.last_month - make_interval(months => {{ var('review')['no_attendance_months'] }} - 1))::date
         else false end as no_attendance
from {{ ref('rpt_review_periods') }} as p
join member_months as m on m.month_start = p.last_month and m.on_roll
