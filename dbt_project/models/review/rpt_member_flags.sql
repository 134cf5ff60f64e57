{{ config(indexes=[{'columns': ['period_key', 'org_code', 'flag_kind']}]) }}
-- Ghost-member flags ("hội viên ảo"): one row per record and rule that fired at the end of a review
-- period, with the rule, the evidence and since when. Restricted: names the member for follow-up.
-- The rules are var('review_flags'); their booleans and evidence are int_review__record_flags.
{% set rules = review_flag_rules() %}
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
