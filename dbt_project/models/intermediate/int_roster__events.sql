{{ config(materialized='incremental', unique_key='batch_id', incremental_strategy='delete+insert', on_schema_change='fail',
          indexes=[{'columns': ['batch_id']}],
          post_hook=["{{ delete_batches_not_live() }}",
                     "create index if not exists int_roster__events_record on {{ this }} (source_record_key)",
                     "create index if not exists int_roster__events_transfer on {{ this }} (org_code, member_key)
                      where change_kind = 'transfer'"]) }}
-- depends_on: {{ ref('stg_landing__batches') }}
-- The post-hooks index the rows int_membership__states rebuilds a night from (a record's events, the
-- transfers naming its member): index probes, not scans. Hooks, not `indexes`, so a warehouse built
-- before them gains them on its next night.
-- A table, not a view: the current roll reads it three times, and at province scale it is millions of rows.
-- Every live roster row of every organisation: full snapshots and changes, one shape.
-- source_record_key = the stable record key, with #n on the 2nd.. identical record of one snapshot
-- (the same person entered twice in the same unit is a finding, not a row to merge).
-- Incremental by batch, as the facts: a landed row never changes, so a night stages only the batches
-- landed since the last build; rows of batches no longer live (replaced by a rerun) are removed.
with events as (

    {{ union_staging(['roster', 'roster_changes']) }}

)

select
    *,
    record_key || case
        when change_kind = 'snapshot' and row_number() over (
            partition by batch_id, record_key order by source_row_number) > 1
        then '#' || row_number() over (partition by batch_id, record_key order by source_row_number)
        else ''
    end as source_record_key
from events
{% if is_incremental() %}
where batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
{% endif %}
