{{ config(materialized='table') }}
-- How far the monthly member snapshot (fct_member_month) was built before this run, read before it
-- is rebuilt: its live-batch and person-linking watermarks and its last month. One row; nulls when it
-- does not exist yet or is being rebuilt from scratch (--full-refresh). Not a ref(): it is the
-- downstream model's previous state, which is what a night must compare with.
{% set built = adapter.get_relation(database=target.database, schema='marts', identifier='fct_member_month')
               if execute and not flags.FULL_REFRESH else none %}
{% if built is not none %}
select
    coalesce(max(built_through_batch_id), 0)::bigint     as built_through_batch_id,
    coalesce(max(built_through_identity_run), 0)::bigint as built_through_identity_run,
    -- An empty snapshot was built through no month: every month is new.
    coalesce(max(month_start), '-infinity')::date        as built_through_month
from {{ built }}
{% else %}
select null::bigint as built_through_batch_id, null::bigint as built_through_identity_run,
       null::date as built_through_month
{% endif %}
