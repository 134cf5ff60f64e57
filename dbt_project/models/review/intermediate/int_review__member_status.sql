{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail',
          pre_hook="{{ delete_review_periods_rebuilt() }}",
          indexes=[{'columns': ['period_key', 'org_code', 'person_id'], 'unique': true}]) }}
{{ review_periods_depends_on() }}
-- Each member on an organisation's roll at the end of each review month (review_month_key(): a
-- quarter's or a year's are its last month's), with how long since they last paid dues and last
-- attended (the last two of the five haves).
{%- set dues_from = "(p.last_month - make_interval(months => " ~ var('review')['no_dues_months'] ~ " - 1))::date" %}
{%- set attendance_from = "(p.last_month - make_interval(months => " ~ var('review')['no_attendance_months'] ~ " - 1))::date" %}
with months as (

    select * from {{ review_months_rebuilt() }} as p

),

-- Each member's month at the end of each review month, with the months of their history up to it:
-- the last month they paid and attended, their first month on the roll.
{% if review_incremental() -%}
-- A night rebuilds one month, or the few a late delivery reopened: each member's months up to it are
-- grouped (hashed) per member and rebuilt month, rather than every member-month of the window sorted
-- for the windows below (400k, one month: 4.8 s of the 8 s query sorting 2.4M rows to disk for 200k).
-- The same figures as the windows (tests/integration/review/test_review_loop.py: a night equals a full build).
member_months as (

    select
        m.org_code,
        m.person_id,
        p.last_month                                                                as month_start,
        bool_or(m.on_roll) filter (where m.month_start = p.last_month)              as on_roll,
        max(m.records_on_roll) filter (where m.month_start = p.last_month)          as records_on_roll,
        bool_or(m.eligible) filter (where m.month_start = p.last_month)             as eligible,
        max(m.month_start) filter (where m.dues_paid)                               as last_dues_month,
        max(m.month_start) filter (where m.attended)                                as last_attended_month,
        min(m.month_start) filter (where m.on_roll)                                 as first_roll_month
    from {{ ref('fct_member_month') }} as m
    join months as p on m.month_start <= p.last_month
    group by m.org_code, m.person_id, p.last_month

),
{%- else -%}
-- A first or full build computes every month: one sort of the member-months, running windows.
member_months as (

    select
        org_code,
        person_id,
        month_start,
        on_roll,
        records_on_roll,
        eligible,
        max(case when dues_paid then month_start end) over by_month                 as last_dues_month,
        max(case when attended then month_start end) over by_month                  as last_attended_month,
        min(case when on_roll then month_start end) over by_month                   as first_roll_month
    from {{ ref('fct_member_month') }}
    window by_month as (partition by org_code, person_id order by month_start)

),
{%- endif %}

-- The first month of the dues / attendance history each organisation delivered (within the
-- snapshot's window); null where it delivered none.
history as (

    select
        org_code,
        min(month_start) filter (where dues_paid)                                   as dues_history_from,
        min(month_start) filter (where attended)                                    as attendance_history_from
    from {{ ref('fct_member_month') }}
    group by org_code

),

-- Members whose roll does not say when they joined and who were on the organisation's first
-- delivered roll: their months on the roll start, as far as the warehouse knows, at that delivery,
-- yet the history delivered beside it covers months before it. A member first seen on a later
-- roll was not on the earlier one, so its first delivery stays its start.
join_date_unknown as (

    select distinct r.org_code, r.person_id
    from {{ ref('int_membership__records') }} as r
    join (
        select org_code, min(delivery_date) as first_delivery
        from {{ ref('stg_landing__batches') }}
        where status = 'loaded' and entity in ('roster', 'roster_changes')
        group by org_code
    ) as f
      on f.org_code = r.org_code and f.first_delivery = r.started_on
    where r.joined_on is null

),

judged as (

    -- The first month dues and attendance are judged from: the first month on the roll, or for a
    -- member whose join date is unknown the first month of the organisation's delivered history of
    -- that entity (never a month before it: months with nothing delivered are not "not paid").
    select
        m.*,
        u.person_id is not null                                                 as join_date_unknown,
        case when u.person_id is not null then least(m.first_roll_month, h.dues_history_from)
             else m.first_roll_month end                                        as dues_checked_from,
        case when u.person_id is not null then least(m.first_roll_month, h.attendance_history_from)
             else m.first_roll_month end                                        as attendance_checked_from
    from member_months as m
    join history as h using (org_code)
    left join join_date_unknown as u using (org_code, person_id)

)

select
    p.period_key,
    p.last_month,
    p.last_day,
    m.org_code,
    m.person_id,
    m.records_on_roll,
    m.eligible,
    m.first_roll_month,
    m.join_date_unknown,
    m.dues_checked_from,
    m.attendance_checked_from,
    m.last_dues_month,
    m.last_attended_month,
    -- Whole months in arrears at period end; members judged on fewer months are not judged.
    case when m.dues_checked_from <= {{ dues_from }}
         then coalesce(m.last_dues_month, '1900-01-01'::date) < {{ dues_from }}
         else false end as no_dues,
    case when m.attendance_checked_from <= {{ attendance_from }}
         then coalesce(m.last_attended_month, '1900-01-01'::date) < {{ attendance_from }}
         else false end as no_attendance
from months as p
join judged as m on m.month_start = p.last_month and m.on_roll
