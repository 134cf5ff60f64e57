{# Data tests on rows that never change once landed (staging views over raw batches, the facts keyed by
   batch) can test only the batches the warehouse has not read yet: a test with
   `config: {where: "__new_batches__"}` reads the rows of batches above the batch watermark the marts
   were built through before this run (int_member_month__built), every row on a first or full build.
   A night then tests its own rows instead of re-reading every raw table (docs/warehouse.md).
   `--vars '{data_tests: full}'` (the weekly night, or on demand) tests every row. #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__new_batches__' in where -%}
        {%- set where = where | replace('__new_batches__', new_batches_predicate()) -%}
    {%- endif -%}
    {%- if where and '__member_month_rebuilt__' in where -%}
        {%- set where = where | replace('__member_month_rebuilt__', member_month_rebuilt_predicate()) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{# batch_id above the marts' batch watermark; true when there is none yet (first or full build). #}
{% macro new_batches_predicate() -%}
    {%- set built = adapter.get_relation(database=target.database, schema='intermediate',
                                         identifier='int_member_month__built') if execute else none -%}
    {%- if built is none or full_data_tests() -%}true
    {%- else -%}batch_id > (select coalesce(max(built_through_batch_id), 0) from {{ built }})
    {%- endif -%}
{%- endmacro %}

{# fct_member_month's rows a night rebuilt: the touched people's (int_member_month__touched) and the
   months the window gained (after int_member_month__built's month); every row on a first or full
   build. Other rows are as the last night tested them, so a night tests 19M rows no more. #}
{% macro member_month_rebuilt_predicate() -%}
    {%- set built = adapter.get_relation(database=target.database, schema='intermediate',
                                         identifier='int_member_month__built') if execute else none -%}
    {%- set touched = adapter.get_relation(database=target.database, schema='intermediate',
                                           identifier='int_member_month__touched') if execute else none -%}
    {%- if built is none or touched is none or full_data_tests() -%}true
    {%- else -%}(person_id in (select person_id from {{ touched }})
        or month_start > (select coalesce(max(built_through_month), '-infinity') from {{ built }}))
    {%- endif -%}
{%- endmacro %}

{# Every row, not a night's: on --full-refresh, and with var data_tests = full (the weekly night, on demand). #}
{% macro full_data_tests() -%}
    {%- set choice = var('data_tests', 'night') -%}
    {%- if choice not in ('night', 'full') -%}
        {{ exceptions.raise_compiler_error("var data_tests=" ~ choice ~ " is not night or full: full tests every row, night (the default) a night's rows") }}
    {%- endif -%}
    {%- do return(flags.FULL_REFRESH or choice == 'full') -%}
{%- endmacro %}
