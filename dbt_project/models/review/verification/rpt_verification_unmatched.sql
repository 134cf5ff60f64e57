-- Returned rows whose hidden key matches no flag (an unknown or altered key, a key of another
-- organisation or of a period with no such flag): where they came from, for the organisation to check.
select org_code, delivery_date, batch_id, source_row_number, flag_key, outcome_code, verified_by
from {{ ref('rpt_verification_outcomes') }}
where not matches_flag
