-- Each unit's latest reported total up to the period's end (units report the month just closed)
-- against the people verified on its named roll (an ID of a valid shape or found in another
-- organisation): the inflation ratio.
with reported as (

    select
        t.org_code,
        {{ unit_key('t.org_code', 't.unit_code', 'ac.new_admin_unit_key', 't.commune_name', 't.unit_name') }} as unit_key,
        t.unit_name,
        t.report_month,
        t.reported_count
    from {{ ref('int_reported_totals') }} as t
    left join {{ ref('int_admin__communes') }} as ac
        on ac.commune_raw = t.commune_name and ac.roll_province = {{ roll_province('t.org_code') }}

),

-- The latest report of each unit by each period's end, the larger count where a month has two:
-- each unit's months reported, each with the month its next report starts, joined to the periods
-- whose last month falls in between. Joining every report to every later period and keeping the
-- latest sorted all those pairs and computed the unit key (an md5 of its names) for each: 3 of the
-- model's 4.4 s at demo.
reported_months as (

    select *, lead(report_month) over (partition by unit_key order by report_month) as next_report_month
    from (
        select distinct on (unit_key, report_month) org_code, unit_key, unit_name, report_month, reported_count
        from reported
        order by unit_key, report_month, reported_count desc
    ) as latest_of_month

),

reported_in_period as (

    select p.period_key, r.org_code, r.unit_key, r.unit_name, r.report_month, r.reported_count
    from {{ ref('rpt_review_periods') }} as p
    join reported_months as r
      on r.report_month <= p.last_month and (r.next_report_month is null or r.next_report_month > p.last_month)

),

-- Each unit's records and verified people per period (incremental by period: a night counts the
-- rebuilt periods' records only).
verified as (

    select * from {{ ref('int_review__unit_verified') }}

)

select
    r.period_key,
    r.org_code,
    r.unit_key,
    r.unit_name,
    r.report_month,
    r.reported_count,
    coalesce(v.roll_records, 0)                                              as roll_records,
    coalesce(v.verified_people, 0)                                           as verified_people,
    round(r.reported_count::numeric / nullif(v.verified_people, 0), 3)       as inflation_ratio
from reported_in_period as r
left join verified as v using (period_key, org_code, unit_key)
