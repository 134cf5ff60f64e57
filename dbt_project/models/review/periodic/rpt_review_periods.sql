-- Analysed as soon as built, as every review table is (dbt_project.yml): every review model joins
-- records to these 19 rows, and without statistics the planner takes them for 600 (int_review__records
-- then merged the member status on organisation and person alone and filtered 8.3 million pairs by
-- period: 5-6 s, not 3 s, at demo).
-- Review periods over the months the member snapshot covers: every month, quarter and year, each
-- reviewed as of its last month present (so the current period reads "to date").
with months as (

    select distinct month_start from {{ ref('fct_member_month') }}

),

periods as (

    select {{ review_month_key('month_start') }} as period_key, 'month' as period_kind,
           month_start as first_month, month_start as last_month
    from months
    union all
    select to_char(month_start, 'YYYY-"Q"Q'), 'quarter',
           date_trunc('quarter', month_start)::date, max(month_start)
    from months group by 1, 3
    union all
    select to_char(month_start, 'YYYY'), 'year',
           date_trunc('year', month_start)::date, max(month_start)
    from months group by 1, 3

)

select
    period_key,
    period_kind,
    first_month,
    last_month,
    (last_month + interval '1 month - 1 day')::date as last_day,
    lag(period_key) over (partition by period_kind order by first_month) as previous_period_key
from periods
