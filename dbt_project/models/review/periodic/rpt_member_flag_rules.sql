-- The ghost-flag rules as the review reads them (var('review_flags') in dbt_project.yml): kind,
-- Vietnamese label and rule text, report order, severity, what the flag suggests, and the rule's
-- weights in the suspicion score (on a record without / with a valid ID) with the score's intercepts
-- (where dues or activities are delivered, and where only the roll is) and threshold (seeds/review_score_weights.csv, var('review').suspicion_threshold), so the report
-- shows the weights next to the score.
{% set rules = review_flag_rules() %}
with rules as (

    select * from (values
        {%- for rule in rules %}
        ({{ sql_text(rule.kind) }}, {{ rule.order }}, {{ sql_text(rule.label) }}, {{ sql_text(rule.rule) }},
         {{ sql_text(rule.severity) }}, {{ sql_text(rule.suggests) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as declared(flag_kind, flag_order, flag_label, rule, severity, suggests)

),

weights as (

    select term, weight, weight_with_id from {{ ref('review_score_weights') }}

)

select
    r.*,
    coalesce(w.weight, 0)                                                    as weight,
    coalesce(w.weight_with_id, 0)                                            as weight_with_id,
    coalesce((select weight from weights where term = 'intercept'), 0)       as score_intercept,
    coalesce((select weight from weights where term = 'intercept_roll_only'), 0) as score_intercept_roll_only,
    -- The intercept of a sender of dues or activities but not both, as vars.review.partial_deliveries
    -- scores it (rpt_member_flags): `own` its own where the seed has one, `full` the full shape's,
    -- `roll_only*` the roll-only one.
    {%- set partial = var('review').get('partial_deliveries', 'full') %}
    coalesce({% if partial == 'own' %}(select weight from weights where term = 'intercept_partial'), {% endif %}
             (select weight from weights where term = {{ "'intercept_roll_only'" if partial.startswith('roll_only') else "'intercept'" }}), 0)
                                                                             as score_intercept_partial,
    coalesce((select weight from weights where term = 'seen_in_deliveries'), 0) as score_seen_in_deliveries,
    {{ var('review')['suspicion_threshold'] }}::numeric                      as suspicion_threshold
from rules as r
left join weights as w on w.term = r.flag_kind
