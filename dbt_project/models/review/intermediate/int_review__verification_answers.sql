{{ config(materialized='table', indexes=[{'columns': ['source_record_key', 'flag_kind']}]) }}
-- The answers units returned on the verification lists, every organisation: the latest answered row
-- per list key (a later delivery, or a corrected file, supersedes an earlier answer to the same key).
-- Rows left unanswered are not answers. Restricted: the verification_outcomes deliveries are raw.
with delivered as (

    {{ union_staging(['verification_outcomes']) }}

)

select distinct on (flag_key)
    org_code,
    batch_id,
    delivery_date,
    source_row_number,
    flag_key,
    period_key,
    flag_kind,
    source_record_key,
    outcome_code,
    removes,
    corrected_id_number,
    corrected_birth_date,
    note,
    verified_by,
    verified_on
from delivered
where outcome_code is not null
order by flag_key, delivery_date desc, batch_id desc, source_row_number desc
