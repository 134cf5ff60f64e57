{# The five haves ("5 có") and the flags, counted over review records (int_review__record_flags). Dues
   and attendance counts are null where the organisation does not report them (has_dues null:
   "chưa báo cáo"); all five then judges the haves that are reported. `people` counts the distinct
   people: a model may count them beforehand (distinct rows hashed) and pass that count in. #}
{% macro five_haves_counts(people='count(distinct person_id)') -%}
    {%- for name, expression in five_haves_measures(people) %}
    {{ expression }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{# five_haves_counts()'s columns, as (name, expression), in its order: one list for the counts and for
   the reports that read them back (five_haves_columns). #}
{% macro five_haves_measures(people='count(distinct person_id)') -%}
    {{- return([
        ('roll_records', 'count(*)'),
        ('people', people),
        ('has_person', 'count(*) filter (where has_person)'),
        ('has_name', 'count(*) filter (where has_name)'),
        ('has_unit', 'count(*) filter (where has_unit)'),
        ('has_dues', 'case when count(has_dues) > 0 then count(*) filter (where has_dues) end'),
        ('has_attendance', 'case when count(has_attendance) > 0 then count(*) filter (where has_attendance) end'),
        ('all_five', 'count(*) filter (where has_person and has_name and has_unit and coalesce(has_dues, true)'
                     ' and coalesce(has_attendance, true))'),
        ('flagged_records', 'count(*) filter (where ' ~ any_review_flag() ~ ')'),
    ]) -}}
{%- endmacro %}

{# The columns five_haves_counts() makes, in its order, read from `alias` (a report counting per review
   month gives them to each period that month ends). #}
{% macro five_haves_columns(alias) -%}
    {%- for name, _expression in five_haves_measures() %}{{ alias }}.{{ name }}{{ ', ' if not loop.last }}{% endfor -%}
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
   to count (rpt_review_periods or the ones a build recomputes). `current` and `previous`: the keys of
   `relation`'s rows that hold the period and the one before it: the periods' own keys, or for a table
   of review months the months that end them (review_month_key()). #}
{% macro period_set_changes(periods, relation, key_column, added, removed,
                            current='p.period_key', previous='p.previous_period_key') -%}
    select p.period_key, x.org_code,
           count(*) filter (where x.in_current and not x.in_previous) as {{ added }},
           count(*) filter (where x.in_previous and not x.in_current) as {{ removed }}
    from {{ periods }} as p
    join lateral (
        select org_code, {{ key_column }},
               bool_or(period_key = {{ current }}) as in_current,
               bool_or(period_key = {{ previous }}) as in_previous
        from {{ relation }}
        where period_key in ({{ current }}, {{ previous }})
        group by org_code, {{ key_column }}
    ) as x on true
    where p.previous_period_key is not null
    group by 1, 2
{%- endmacro %}


{# A review period is judged as of its last month, and nothing in the per-record review depends on
   more of the period than that: a quarter's or a year's records, flags and member status are those
   of the month that ends it. So the per-record models (int_review__member_status, int_review__records,
   int_review__record_flags) hold review months only (the month periods), and the reports fan them
   out to every period ending in that month: 12 of 19 periods computed on a first build, 1 of the 3
   open ones on a night. review_month_key(): the month period's key of a month's first day, as
   rpt_review_periods writes it. #}
{% macro review_month_key(month) -%}
    to_char({{ month }}, 'YYYY-MM')
{%- endmacro %}


{# The review months a build recomputes (rpt_review_periods' month rows; all on a first or full build):
   what the per-record models compute. #}
{% macro review_months_rebuilt() -%}
    (select * from {{ ref('rpt_review_periods') }} where period_kind = 'month'
     {%- if review_incremental() %} and period_key in (select period_key from {{ ref('int_review__rebuilt_periods') }}){% endif %})
{%- endmacro %}


{# Each period a build recomputes with the review month that ends it (period_key, month_key): a report
   computes per review month, then joins this to give each period its month's figures. #}
{% macro review_period_months() -%}
    (select period_key, {{ review_month_key('last_month') }} as month_key
     from {{ ref('rpt_review_periods') }}{{ review_periods_rebuilt() }})
{%- endmacro %}


{# The review's per-record × month models and the reports over them are incremental by period (docs/warehouse.md, "A night's
   review"): a closed period's rows stay as last built while it was open ("as issued"); a night
   recomputes only int_review__rebuilt_periods (the open periods and those a late delivery reopened).
   review_periods_rebuilt(): the filter a model puts on the period rows it reads (nothing on a first
   or --full-refresh build: every period). The keys are constants, read as the model is compiled (after
   int_review__rebuilt_periods has run): against a subquery the planner scans the whole table (at the
   province 12 months, 7 GB, for one); against constants it reads the month by the per-record tables'
   period index (docs/warehouse.md, "Province, 2026-12-07"). #}
{% macro review_periods_rebuilt(column='period_key') -%}
    {%- if review_incremental() %} where {{ column }} in (
        {%- for key in run_query('select period_key from ' ~ ref('int_review__rebuilt_periods') ~ ' order by 1').columns[0].values() -%}
            {{ sql_text(key) }}{{ ', ' if not loop.last }}
        {%- else -%}
            null
        {%- endfor -%}
    ){% endif -%}
{%- endmacro %}


{# Pre-hook of those models: delete the periods rebuilt tonight, and those no longer reviewed (a month
   that left fct_member_month's window). dbt's delete+insert deletes only the periods the new rows
   hold: a rebuilt period left without rows (a correction clearing a period's last flag) would keep its
   old ones. A table with an index led by period_key finds both sets of keys first (the stored ones by
   skipping through the index, a descent per period: a loose index scan) and deletes them by the index:
   `not in` would read the whole table, 12 months for the one a night rebuilds (at the province 7 GB a
   table, docs/warehouse.md). A table without such an index (or one built before its index was declared)
   is read once, as it must be anyway. #}
{% macro delete_review_periods_rebuilt() -%}
    {%- if review_incremental() -%}
    do $$ begin
        if exists (select 1 from pg_index as i
                   join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                   where i.indrelid = '{{ this.include(database=false) }}'::regclass and a.attname = 'period_key') then
            delete from {{ this }}
            where period_key = any(array(
                select period_key from {{ ref('int_review__rebuilt_periods') }}
                union all
                select s.period_key
                from (
                    with recursive stored as (
                        (select period_key from {{ this }} order by period_key limit 1)
                        union all
                        select (select t.period_key from {{ this }} as t where t.period_key > stored.period_key
                                order by t.period_key limit 1)
                        from stored
                        where stored.period_key is not null
                    )
                    select period_key from stored where period_key is not null
                ) as s
                where s.period_key not in (select period_key from {{ ref('rpt_review_periods') }})
            ));
        else
            delete from {{ this }}
            where period_key in (select period_key from {{ ref('int_review__rebuilt_periods') }})
               or period_key not in (select period_key from {{ ref('rpt_review_periods') }});
        end if;
    end $$
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
