{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail',
          pre_hook=["{{ delete_review_periods_rebuilt() }}",
                    "{% if review_incremental() %}delete from {{ this }} where period_key in (select period_key from"
                    ~ " {{ ref('rpt_review_periods') }} where previous_period_key is null){% endif %}"]) }}
{{ review_periods_depends_on() }}
-- What changed since the previous review period of the same kind, per organisation: people who
-- joined or left the roll, transfers between units, flags newly raised and flags resolved.
-- Incremental by period like the tables it compares (a closed period's rows as issued): a period's
-- row reads itself and the period before it, which is rebuilt only when the period is too
-- (int_review__rebuilt_periods reopens a month and every later one); a period whose previous one left
-- the window has no row, as in a full build. Transfers are dated by the
-- snapshot's valid_from, the night that saw them: on or after its deliveries' month, so in a period
-- that night or a later one rebuilds.
with periods as (

    -- With the review months that end the period and the one before it: the member status holds months.
    select p.*, {{ review_month_key('p.last_month') }} as month_key,
           {{ review_month_key('previous.last_month') }} as previous_month_key
    from {{ ref('rpt_review_periods') }} as p
    left join {{ ref('rpt_review_periods') }} as previous on previous.period_key = p.previous_period_key
    {{ review_periods_rebuilt('p.period_key') }}

),

people as (

    {{ period_set_changes('periods', ref('int_review__member_status'), 'person_id', 'joined', 'left_roll',
                          current='p.month_key', previous='p.previous_month_key') }}

),

flags as (

    {{ period_set_changes('periods', ref('rpt_member_flags'), 'source_record_key', 'newly_flagged', 'resolved') }}

),

unit_moves as (

    -- A record whose unit differs from its previous version in the membership history.
    select source_record_key, org_code, valid_from
    from (
        select source_record_key, org_code, valid_from, unit_key,
               lag(unit_key) over (partition by source_record_key order by valid_from) as previous_unit_key
        from {{ ref('fct_membership_history') }}
    ) as h
    where previous_unit_key is not null and previous_unit_key <> unit_key

),

transfers as (

    select p.period_key, m.org_code, count(*) as transferred
    from periods as p
    join unit_moves as m on m.valid_from::date between p.first_month and p.last_day
    group by 1, 2

)

select
    people.period_key,
    people.org_code,
    people.joined,
    people.left_roll,
    coalesce(transfers.transferred, 0)  as transferred,
    coalesce(flags.newly_flagged, 0)    as newly_flagged,
    coalesce(flags.resolved, 0)         as resolved
from people
left join flags using (period_key, org_code)
left join transfers using (period_key, org_code)
