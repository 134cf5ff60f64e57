-- A missing ID alone must not make a real member suspected: the score of a record that fired only
-- no_identity stays below the threshold (fails with the offending weights otherwise).
select flag_kind, weight, score_intercept, suspicion_threshold
from {{ ref('rpt_member_flag_rules') }}
where flag_kind = 'no_identity'
  and 1 / (1 + exp(-(score_intercept + weight))) >= suspicion_threshold
