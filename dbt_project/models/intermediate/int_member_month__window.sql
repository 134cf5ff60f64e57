{{ config(materialized='table') }}
-- The months the monthly member snapshot covers: the last var('member_month_window') months up to
-- the month of the latest live delivery. A table with statistics, not a view: the planner then knows
-- it is 12 rows (generate_series reads as 1,000), so fct_member_month's aggregate is hashed, not sorted.
with latest as (

    select date_trunc('month', max(delivery_date))::date as last_month
    from {{ ref('stg_landing__batches') }} where status = 'loaded'

)

select
    m::date                                            as month_start,
    (m + interval '1 month - 1 day')::date             as month_end
from latest,
     generate_series(last_month - make_interval(months => {{ var('member_month_window') }} - 1),
                     last_month, interval '1 month') as m
