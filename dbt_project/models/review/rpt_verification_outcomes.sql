-- Every answer returned on a verification list (the latest per list key) and whether it matches a
-- flag: the key's period, rule and record were flagged, and the answer came from the record's own
-- organisation. Answers that match nothing are reported (rpt_verification_unmatched), not dropped.
select
    a.*,
    f.unit_key,
    f.unit_name,
    (f.source_record_key is not null) as matches_flag
from {{ ref('int_review__verification_answers') }} as a
left join {{ ref('rpt_member_flags') }} as f
  on f.period_key = a.period_key and f.flag_kind = a.flag_kind and f.source_record_key = a.source_record_key
 and f.org_code = a.org_code
