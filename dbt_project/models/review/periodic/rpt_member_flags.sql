{{ config(indexes=[{'columns': ['period_key', 'org_code', 'flag_kind']}]) }}
-- Ghost-member flags ("hội viên ảo"): one row per record and rule that fired at the end of a review
-- period, with the rule, the evidence and since when. Restricted: names the member for follow-up.
-- The rules are var('review_flags'); their booleans and evidence are int_review__record_flags.
-- weight: the rule's weight in the record's suspicion score (seeds/review_score_weights.csv): its
-- `weight` on a record without a valid ID, its `weight_with_id` on one with (the evidence says
-- more or less beside a missing ID); the score is the logistic of the intercept plus the weights
-- of every rule the record fired (docs/review.md). The intercept is the delivery shape's: where the
-- organisation delivers neither dues nor activities (roll only), no dues or attendance rule can fire,
-- so the absence of those tells is no evidence and the score has its own intercept
-- (`intercept_roll_only`). Where they are delivered, a record no ghost rule reading them fired on
-- (the person paid or attended) adds `seen_in_deliveries` (delivery_weight, negative).
{% set rules = review_flag_rules() %}
{# The ghost rules reading dues or attendance: where they can fire and none did, that absence is evidence. #}
{% set delivery_tells = rules | selectattr('reads', 'defined') | selectattr('reads', 'equalto', 'deliveries')
                              | selectattr('suggests', 'equalto', 'ghost') | map(attribute='kind') | list %}
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
    (f.has_dues is null and f.has_attendance is null)                                  as roll_only,
    -- Dues or activities delivered and no ghost rule reading them fired: the person paid or attended.
    (not (f.has_dues is null and f.has_attendance is null)
     and not ({% for kind in delivery_tells %}coalesce(f.{{ kind }}, false){{ ' or ' if not loop.last }}{% else %}true{% endfor %}))
                                                                                       as seen_in_deliveries,
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
        coalesce(case when fired.lacks_id then w.weight else w.weight_with_id end, 0) as weight,
        coalesce((select weight from weights
                  where term = case when fired.roll_only then 'intercept_roll_only' else 'intercept' end), 0)
                                                                                       as score_intercept,
        case when fired.seen_in_deliveries
             then coalesce((select weight from weights where term = 'seen_in_deliveries'), 0) else 0 end
                                                                                       as delivery_weight
    from fired
    left join weights as w on w.term = fired.flag_kind

)

select
    weighted.*,
    round((1 / (1 + exp(-(score_intercept + delivery_weight
        + sum(weight) over (partition by period_key, source_record_key)))))::numeric, 4)
                                                                                       as suspicion_score
from weighted
