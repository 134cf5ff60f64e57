{{ config(tags=["weekly"]) }}
-- A missing ID alone must not make a real member suspected: the score of a record that fired only
-- no_identity stays below the threshold, whatever the organisation delivers (the intercept of full
-- deliveries, of roll-only ones and of a sender of dues or activities but not both; fails with the
-- offending weights otherwise).
select flag_kind, weight, score_intercept, score_intercept_roll_only, score_intercept_partial, suspicion_threshold
from {{ ref('rpt_member_flag_rules') }}
where flag_kind = 'no_identity'
  and 1 / (1 + exp(-(greatest(score_intercept, score_intercept_roll_only, score_intercept_partial) + weight))) >= suspicion_threshold
