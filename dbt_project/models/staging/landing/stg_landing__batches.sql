-- Landing bookkeeping: one row per delivered batch (every status; live rows are status 'loaded').
select
    batch_id,
    org_code,
    entity,
    delivery_date,
    status,
    row_count,
    quarantined_count,
    note,
    loaded_at
from {{ source('landing', 'batches') }}
