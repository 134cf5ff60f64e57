{# Data tests on rows that never change once landed (staging views over raw batches, the facts keyed by
   batch) can test only the batches the warehouse has not read yet: a test with
   `config: {where: "__new_batches__"}` reads the rows of batches above the batch watermark the marts
   were built through before this run (int_member_month__built), every row on a first or full build.
   A night then tests its own rows instead of re-reading every raw table (docs/warehouse.md). #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__new_batches__' in where -%}
        {%- set where = where | replace('__new_batches__', new_batches_predicate()) -%}
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
    {%- if built is none or flags.FULL_REFRESH -%}true
    {%- else -%}batch_id > (select coalesce(max(built_through_batch_id), 0) from {{ built }})
    {%- endif -%}
{%- endmacro %}
