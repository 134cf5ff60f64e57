{# The five haves ("5 có") and the flags, counted over review records (int_review__record_flags). Dues
   and attendance counts are null where the organisation does not report them (has_dues null:
   "chưa báo cáo"); all five then judges the haves that are reported. `people` counts the distinct
   people: a model may count them beforehand (distinct rows hashed) and pass that count in. #}
{% macro five_haves_counts(people='count(distinct person_id)') -%}
    count(*)                                                              as roll_records,
    {{ people }}                                                          as people,
    count(*) filter (where has_person)                                    as has_person,
    count(*) filter (where has_name)                                      as has_name,
    count(*) filter (where has_unit)                                      as has_unit,
    case when count(has_dues) > 0 then count(*) filter (where has_dues) end as has_dues,
    case when count(has_attendance) > 0 then count(*) filter (where has_attendance) end as has_attendance,
    count(*) filter (where has_person and has_name and has_unit and coalesce(has_dues, true)
                           and coalesce(has_attendance, true))            as all_five,
    count(*) filter (where {{ any_review_flag() }})                      as flagged_records
{%- endmacro %}

{# The ghost-flag rules (var('review_flags'), in report order), each with its place in that order
   and its rule text with the review thresholds filled in ("{no_dues_months}" -> 6). #}
{% macro review_flag_rules() -%}
    {%- set rules = [] -%}
    {%- for declared in var('review_flags') -%}
        {%- set rule = declared.copy() -%}
        {%- set text = namespace(value=declared.rule) -%}
        {%- for name, value in var('review').items() -%}
            {%- set text.value = text.value | replace('{' ~ name ~ '}', value | string) -%}
        {%- endfor -%}
        {%- do rule.update({'rule': text.value, 'order': loop.index}) -%}
        {%- do rules.append(rule) -%}
    {%- endfor -%}
    {{ return(rules) }}
{%- endmacro %}

{# True when any rule fired, over the boolean columns of int_review__record_flags. #}
{% macro any_review_flag() -%}
    ({% for rule in review_flag_rules() %}coalesce({{ rule.kind }}, false){% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{# A Jinja string as a SQL text literal. #}
{% macro sql_text(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{# Members of a set in each review period and in the previous period of the same kind: those new
   this period (added) and those gone since (removed), per organisation. `periods`: the review periods
   to count (rpt_review_periods or the ones a build recomputes). #}
{% macro period_set_changes(periods, relation, key_column, added, removed) -%}
    select p.period_key, x.org_code,
           count(*) filter (where x.in_current and not x.in_previous) as {{ added }},
           count(*) filter (where x.in_previous and not x.in_current) as {{ removed }}
    from {{ periods }} as p
    join lateral (
        select org_code, {{ key_column }},
               bool_or(period_key = p.period_key) as in_current,
               bool_or(period_key = p.previous_period_key) as in_previous
        from {{ relation }}
        where period_key in (p.period_key, p.previous_period_key)
        group by org_code, {{ key_column }}
    ) as x on true
    where p.previous_period_key is not null
    group by 1, 2
{%- endmacro %}


{# The review's per-record × period models are incremental by period (docs/warehouse.md, "A night's
   review"): a closed period's rows stay as last built while it was open ("as issued"); a night
   recomputes only int_review__rebuilt_periods (the open periods and those a late delivery reopened).
   review_periods_rebuilt(): the filter a model puts on the period rows it reads (nothing on a first
   or --full-refresh build: every period). #}
{% macro review_periods_rebuilt(column='period_key') -%}
    {%- if review_incremental() %} where {{ column }} in (select period_key from {{ ref('int_review__rebuilt_periods') }}){% endif -%}
{%- endmacro %}


{# Pre-hook of those models: delete the periods rebuilt tonight, and those no longer reviewed (a month
   that left fct_member_month's window), in one scan. dbt's delete+insert deletes only the periods the
   new rows hold: a rebuilt period left without rows (a correction clearing a period's last flag) would
   keep its old ones. #}
{% macro delete_review_periods_rebuilt() -%}
    {%- if review_incremental() -%}
    delete from {{ this }}
    where period_key in (select period_key from {{ ref('int_review__rebuilt_periods') }})
       or period_key not in (select period_key from {{ ref('rpt_review_periods') }})
    {%- endif -%}
{%- endmacro %}


{# dbt's is_incremental(), false in a unit test, which has no `this` (is_incremental() fails there). #}
{% macro review_incremental() -%}
    {{- return(this is defined and this is not none and is_incremental()) -}}
{%- endmacro %}


{# The two models those read in their period filter and pre-hook, which only an incremental build
   renders: named at parse time (execute is false) so dbt orders and records them, but not in a unit
   test (never incremental), which would then need them as inputs. #}
{% macro review_periods_depends_on() -%}
    {%- if not execute or review_incremental() %}-- depends_on: {{ ref('int_review__rebuilt_periods') }} {{ ref('rpt_review_periods') }}{% endif -%}
{%- endmacro %}
