{{ config(materialized='table') }}
-- The review periods this build recomputes; the review's per-record × period models
-- (review_periods_rebuilt()) keep every other period's rows as last built: a closed period's review
-- stays as issued (docs/warehouse.md, "A night's review"). Rebuilt:
--  - every period on a first build or --full-refresh (no review watermark then);
--  - the open periods: those ending in the latest month of fct_member_month (its month, quarter, year);
--  - every period ending in or after the month of a batch landed since the review was last built
--    whole (int_review__built's previous state: a late delivery, a backfilled or replaced day, a held
--    batch released), as a roll's change holds until the next and dues and attendance are judged over
--    months. The review's own watermark, not the member snapshot's: a night whose review failed after
--    fct_member_month was built leaves it behind, and the next night reopens that night's months too.
-- A night's batches are dated in the current month, so a night rebuilds the 3 open periods of 19.
-- through_batch_id: the batches this build's review reads (fct_member_month's watermark, now), which
-- int_review__built records once every review model of the build has succeeded.
{% set built = adapter.get_relation(database=target.database, schema=this.schema, identifier='int_review__built')
               if execute and not flags.FULL_REFRESH else none %}
with periods as (

    select period_key, last_month from {{ ref('rpt_review_periods') }}

),

built as (

    {% if built is not none -%}
    select max(built_through_batch_id) as built_through_batch_id from {{ built }}
    {%- else -%}
    select null::bigint as built_through_batch_id
    {%- endif %}

),

rebuilt_from as (

    select least(
        (select max(last_month) from periods),
        (select date_trunc('month', min(b.delivery_date))::date
         from {{ ref('stg_landing__batches') }} as b, built
         where b.status = 'loaded' and b.batch_id > built.built_through_batch_id)
    ) as first_month

)

select
    p.period_key,
    (select max(built_through_batch_id) from {{ ref('fct_member_month') }})::bigint as through_batch_id
from periods as p, built, rebuilt_from as r
where built.built_through_batch_id is null or p.last_month >= r.first_month
