-- The ghost-flag rules as the review reads them (var('review_flags') in dbt_project.yml): kind,
-- Vietnamese label and rule text, report order, severity and what the flag suggests.
{% set rules = review_flag_rules() %}
select * from (values
    {%- for rule in rules %}
    ({{ sql_text(rule.kind) }}, {{ rule.order }}, {{ sql_text(rule.label) }}, {{ sql_text(rule.rule) }},
     {{ sql_text(rule.severity) }}, {{ sql_text(rule.suggests) }}){{ ',' if not loop.last }}
    {%- endfor %}
) as rules(flag_kind, flag_order, flag_label, rule, severity, suggests)
