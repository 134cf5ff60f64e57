-- Deliveries the warehouse is not built from: held for an operator (they looked incomplete, had no
-- rows, or a full roll shrank past the organisation's limit) or rejected (a critical quality check,
-- or an operator). Their day's earlier live batch, if any, stays live meanwhile.
select
    org_code,
    entity,
    delivery_date,
    batch_id,
    status,
    row_count,
    quarantined_count,
    note,
    loaded_at
from {{ ref('stg_landing__batches') }}
where status in ('held', 'rejected')
