{{ config(materialized='table') }}
-- The review periods this build recomputes; the review's per-record × period models
-- (review_periods_rebuilt()) keep every other period's rows as last built: a closed period's review
-- stays as issued (docs/warehouse.md, "A night's review"). Rebuilt:
--  - every period on a first build or --full-refresh (int_member_month__built has no watermark then);
--  - the open periods: those ending in the latest month of fct_member_month (its month, quarter, year);
--  - every period ending in or after the month of a batch landed since the last build
--    (int_member_month__built's watermark: a late delivery, a backfilled or replaced day, a held batch
--    released), as a roll's change holds until the next and dues and attendance are judged over months.
-- A night's batches are dated in the current month, so a night rebuilds the 3 open periods of 19.
with periods as (

    select period_key, last_month from {{ ref('rpt_review_periods') }}

),

built as (

    select built_through_batch_id from {{ ref('int_member_month__built') }}

),

rebuilt_from as (

    select least(
        (select max(last_month) from periods),
        (select date_trunc('month', min(b.delivery_date))::date
         from {{ ref('stg_landing__batches') }} as b, built
         where b.status = 'loaded' and b.batch_id > built.built_through_batch_id)
    ) as first_month

)

select p.period_key
from periods as p, built, rebuilt_from as r
where {{ flags.FULL_REFRESH }} or built.built_through_batch_id is null or p.last_month >= r.first_month
