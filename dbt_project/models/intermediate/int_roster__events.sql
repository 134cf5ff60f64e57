{{ config(materialized='table') }}
-- A table, not a view: the current roll reads it three times, and at province scale it is millions of rows.
-- Every live roster row of every organisation: full snapshots and changes, one shape.
-- source_record_key = the stable record key, with #n on the 2nd.. identical record of one snapshot
-- (the same person entered twice in the same unit is a finding, not a row to merge).
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
