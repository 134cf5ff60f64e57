-- Every answer returned on a verification list (the latest per list key) and whether its key still
-- names something to answer: a record the answering organisation delivered, a rule, a review
-- period. Flags of past periods are not kept as they were (the review recomputes every period from
-- the records' latest state, so a correction clears the earlier flags too); the key's record and
-- rule are what ties an answer to its flag. Answers that match nothing are reported
-- (rpt_verification_unmatched), not dropped.
select
    a.*,
    r.unit_key,
    r.unit_name,
    r.commune_name,
    (r.source_record_key is not null and p.period_key is not null
     and a.flag_kind in (select flag_kind from {{ ref('rpt_member_flag_rules') }})) as matches_flag
from {{ ref('int_review__verification_answers') }} as a
left join {{ ref('int_membership__records') }} as r
  on r.source_record_key = a.source_record_key and r.org_code = a.org_code
left join {{ ref('rpt_review_periods') }} as p on p.period_key = a.period_key and p.period_kind = 'month'
