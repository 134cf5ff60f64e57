{{ config(indexes=[{'columns': ['period_key', 'org_code', 'flag_kind']}]) }}
-- Ghost-member flags ("hội viên ảo"): one row per record and rule that fired at the end of a review
-- period, with the rule, the evidence and since when. Restricted: names the member for follow-up.
-- The rules are var('review_flags'); their booleans and evidence are int_review__record_flags.
-- weight: the rule's weight in the record's suspicion score (seeds/review_score_weights.csv): its
-- `weight` on a record without a valid ID, its `weight_with_id` on one with (the evidence says
-- more or less beside a missing ID); the score is the logistic of the intercept plus the weights
-- of every rule the record fired (docs/review.md).
{% set rules = review_flag_rules() %}
with fired as (

select
    f.period_key,
    f.org_code,
    f.unit_key,
    f.unit_name,
    f.commune_name,
    f.new_admin_unit_key,
    f.source_record_key,
    f.member_code,
    f.person_id,
    f.full_name,
    coalesce(f.no_identity, false)                                                     as lacks_id,
    r.flag_kind,
    r.flag_label,
    r.rule,
    r.evidence,
    r.since,
    r.flag_order,
    r.severity
from {{ ref('int_review__record_flags') }} as f
cross join lateral (values
    {%- for rule in rules %}
    ({{ sql_text(rule.kind) }}, f.{{ rule.kind }}, {{ sql_text(rule.label) }}, {{ sql_text(rule.rule) }},
     f.{{ rule.kind }}_evidence, f.{{ rule.kind }}_since, {{ rule.order }}, {{ sql_text(rule.severity) }}){{ ',' if not loop.last }}
    {%- endfor %}
) as r(flag_kind, fires, flag_label, rule, evidence, since, flag_order, severity)
where r.fires

),

weights as (

    select term, weight, weight_with_id from {{ ref('review_score_weights') }}

),

weighted as (

    select
        fired.*,
        coalesce(case when fired.lacks_id then w.weight else w.weight_with_id end, 0) as weight
    from fired
    left join weights as w on w.term = fired.flag_kind

)

select
    weighted.*,
    round((1 / (1 + exp(-((select weight from weights where term = 'intercept')
        + sum(weight) over (partition by period_key, source_record_key)))))::numeric, 4)
                                                                                       as suspicion_score
from weighted
