{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='period_key',
          on_schema_change='fail', pre_hook="{{ delete_review_periods_rebuilt() }}",
          indexes=[{'columns': ['period_key', 'org_code', 'flag_kind']}]) }}
{{ review_periods_depends_on() }}
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
{#- How a sender of dues or activities but not both is scored (vars.review.partial_deliveries, default
    `full`): as a sender of both; `own`: as a sender of both but with the seed's own terms for that
    shape where it has them (`intercept_partial`, `seen_in_deliveries_partial`, `<rule>_partial` of
    the rules reading dues or attendance; issue #20's eleventh pass), the full shape's otherwise; or
    (`roll_only`, `roll_only_seen`; tried in the tenth pass, not adopted) as a roll-only sender, its
    rules reading dues or attendance weighing 0, with `roll_only_seen` still adding
    seen_in_deliveries where the person paid or attended. #}
{% set partial = var('review').get('partial_deliveries', 'full') %}
{% if partial not in ('full', 'own', 'roll_only', 'roll_only_seen') %}{{ exceptions.raise_compiler_error('vars.review.partial_deliveries: full, own, roll_only or roll_only_seen, not ' ~ partial) }}{% endif %}
{% set as_roll_only = partial in ('roll_only', 'roll_only_seen') %}
{# The ghost rules reading dues or attendance: where they can fire and none did, that absence is evidence. #}
{% set delivery_tells = rules | selectattr('reads', 'defined') | selectattr('reads', 'equalto', 'deliveries')
                              | selectattr('suggests', 'equalto', 'ghost') | map(attribute='kind') | list %}
with

-- The seed as one row: per rule its two weights, the intercepts and the delivery weight (0 where
-- the seed has none), so that a record's weights and score are arithmetic on its own row: no join
-- per fired rule, no subquery per row, no window (sort) over a record's fired rules.
weight_row as (

    select
        {%- for rule in rules %}
        coalesce(max(weight) filter (where term = {{ sql_text(rule.kind) }}), 0)                    as {{ rule.kind }}__weight,
        coalesce(max(weight_with_id) filter (where term = {{ sql_text(rule.kind) }}), 0)            as {{ rule.kind }}__weight_with_id,
        {%- endfor %}
        {%- if partial == 'own' %}
        {%- for rule in rules if rule.get('reads') == 'deliveries' %}
        coalesce(max(weight) filter (where term = {{ sql_text(rule.kind ~ '_partial') }}),
                 max(weight) filter (where term = {{ sql_text(rule.kind) }}), 0)                    as {{ rule.kind }}__weight_partial,
        coalesce(max(weight_with_id) filter (where term = {{ sql_text(rule.kind ~ '_partial') }}),
                 max(weight_with_id) filter (where term = {{ sql_text(rule.kind) }}), 0)            as {{ rule.kind }}__weight_with_id_partial,
        {%- endfor %}
        coalesce(max(weight) filter (where term = 'intercept_partial'),
                 max(weight) filter (where term = 'intercept'), 0)                           as intercept_partial,
        coalesce(max(weight) filter (where term = 'seen_in_deliveries_partial'),
                 max(weight) filter (where term = 'seen_in_deliveries'), 0)                  as seen_in_deliveries_partial,
        {%- endif %}
        coalesce(max(weight) filter (where term = 'intercept'), 0)                           as intercept,
        coalesce(max(weight) filter (where term = 'intercept_roll_only'), 0)                 as intercept_roll_only,
        coalesce(max(weight) filter (where term = 'seen_in_deliveries'), 0)                  as seen_in_deliveries
    from {{ ref('review_score_weights') }}

),

-- The records any rule fired on (a fifth of them at demo), read once and materialized: every
-- rule's branch below reads these, not the whole table. Each review month's records are given to every
-- period that month ends (report_period_key: the output's period_key; f.period_key is the month's).
flagged as materialized (

    select
        pm.period_key                                                                      as report_period_key,
        f.*,
        coalesce(f.no_identity, false)                                                     as lacks_id,
        {%- if not as_roll_only %}
        (f.has_dues is null and f.has_attendance is null)                                  as roll_only,
        -- Exactly one of dues and activities delivered: the partial sender, with its own weights.
        ((f.has_dues is null) <> (f.has_attendance is null))                               as partial_sender,
        {%- else %}
        (f.has_dues is null or f.has_attendance is null)                                   as roll_only,
        {%- endif %}
        -- Dues or activities delivered and no ghost rule reading them fired: the person paid or attended.
        ({% if partial == 'roll_only' %}(f.has_dues is not null and f.has_attendance is not null){% else %}not (f.has_dues is null and f.has_attendance is null){% endif %}
         and not ({% for kind in delivery_tells %}coalesce(f.{{ kind }}, false){{ ' or ' if not loop.last }}{% else %}true{% endfor %}))
                                                                                           as seen_in_deliveries
    from (select * from {{ ref('int_review__record_flags') }}{{ review_periods_rebuilt() }}) as f
    join {{ review_period_months() }} as pm on pm.month_key = f.period_key
    where {{ any_review_flag() }}

),

weighted as (

    select
        f.*,
        {%- for rule in rules %}
        case {% if rule.get('reads') == 'deliveries' %}{% if as_roll_only %}when f.roll_only then 0 {% elif partial == 'own' %}when f.partial_sender and f.lacks_id then w.{{ rule.kind }}__weight_partial when f.partial_sender then w.{{ rule.kind }}__weight_with_id_partial {% endif %}{% endif %}when f.lacks_id then w.{{ rule.kind }}__weight else w.{{ rule.kind }}__weight_with_id end
                                                                                           as {{ rule.kind }}__weight,
        {%- endfor %}
        case when f.roll_only then w.intercept_roll_only {% if partial == 'own' %}when f.partial_sender then w.intercept_partial {% endif %}else w.intercept end
                                                                                           as score_intercept,
        case when not f.seen_in_deliveries then 0 {% if partial == 'own' %}when f.partial_sender then w.seen_in_deliveries_partial {% endif %}else w.seen_in_deliveries end
                                                                                           as delivery_weight
    from flagged as f
    cross join weight_row as w

),

-- Not materialized: inlined into each rule's branch below, so that a branch scores only the records
-- its rule fired on.
scored as not materialized (

    select
        weighted.*,
        round((1 / (1 + exp(-(score_intercept + delivery_weight
            -- The weights of every rule the record fired.
            {%- for rule in rules %}
            + case when {{ rule.kind }} then {{ rule.kind }}__weight else 0 end
            {%- endfor %}
        ))))::numeric, 4)                                                                  as suspicion_score
    from weighted

)

-- One branch per rule over the records it fired on (a lateral VALUES unpivot built every rule's
-- row for every record: 7 s of the query's 8.5 s at demo).
{%- for rule in rules %}

select
    report_period_key                                                                  as period_key,
    org_code,
    unit_key,
    unit_name,
    commune_name,
    new_admin_unit_key,
    source_record_key,
    member_code,
    person_id,
    full_name,
    lacks_id,
    roll_only,
    seen_in_deliveries,
    {{ sql_text(rule.kind) }}::text                                                       as flag_kind,
    {{ sql_text(rule.label) }}::text                                                      as flag_label,
    {{ sql_text(rule.rule) }}::text                                                       as rule,
    {{ rule.kind }}_evidence                                                           as evidence,
    {{ rule.kind }}_since                                                              as since,
    {{ rule.order }}                                                                   as flag_order,
    {{ sql_text(rule.severity) }}::text                                                   as severity,
    {{ rule.kind }}__weight                                                            as weight,
    score_intercept,
    delivery_weight,
    suspicion_score
from scored
where {{ rule.kind }}
{%- if not loop.last %}

union all
{%- endif %}
{%- endfor %}
