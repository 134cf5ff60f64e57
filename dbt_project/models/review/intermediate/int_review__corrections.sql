-- Corrections units returned (a corrected ID number or birth date), as evidence for person linking:
-- a side table next to linking's input, never written over what the organisation delivered. The
-- latest correction per record.
select distinct on (source_record_key)
    source_record_key,
    org_code,
    corrected_id_number,
    corrected_birth_date,
    verified_by,
    coalesce(verified_on, delivery_date) as verified_on,
    batch_id
from {{ ref('int_review__verification_answers') }}
where outcome_code = 'corrected' and (corrected_id_number is not null or corrected_birth_date is not null)
order by source_record_key, delivery_date desc, batch_id desc
