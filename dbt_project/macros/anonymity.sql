{#
  k-anonymity by local suppression, for the row-level bi tables.

  Rows of `relation` are released level by level: at each level a row keeps the quasi-identifiers
  listed for that level (the others become null) if at least k rows not released at an earlier
  level share those values within their `partition_by` group; the last level releases none. So a
  row's released values are shared by at least k rows, except the rows left for the last level,
  which show nothing but the partition columns: when they are fewer than k, as many rows of the
  group's largest class join them as needed if that class keeps k, else the whole group shows
  nothing. So every group of at least k rows is k-anonymous; a smaller one cannot be.

  Yields the `keep` columns as they are, the quasi-identifiers (levels[0]) replaced by their
  released values, and `released_level` (0 = everything released, len(levels) - 1 = nothing).
  Used inside a WITH: `with rows as (...), {{ k_anonymise('rows', ...) }}`.
#}
{% macro k_anonymise(relation, key, partition_by, keep, levels, k) -%}
{%- set qis = levels[0] -%}
{%- set last = levels | length - 1 -%}
{%- set part = (partition_by or ['true']) | join(', ') -%}
level_0 as (
    select *,
           case when count(*) over (partition by {{ (partition_by + levels[0]) | join(', ') }}) >= {{ k }}
                then 0 end as kept_at_0
    from {{ relation }}
),
{%- for n in range(1, last) %}
{%- set earlier -%}coalesce({% for m in range(n) %}kept_at_{{ m }}, {% endfor %}null){%- endset %}
level_{{ n }} as (
    select *,
           case when {{ earlier }} is null
                 and count(*) filter (where {{ earlier }} is null)
                     over (partition by {{ (partition_by + levels[n]) | join(', ') }}) >= {{ k }}
                then {{ n }} end as kept_at_{{ n }}
    from level_{{ n - 1 }}
),
{%- endfor %}
assigned as (
    select *,
           coalesce({% for m in range(last) %}kept_at_{{ m }}, {% endfor %}{{ last }}) as first_level
    from level_{{ last - 1 }}
),
classes as (
    select *,
           row(first_level{% for qi in qis %}, {{ k_released(qi, 'first_level', levels) }}{% endfor %})::text as class_key
    from assigned
),
sized as (
    select *,
           count(*) over (partition by {{ part }}, class_key) as class_size,
           count(*) filter (where first_level = {{ last }}) over (partition by {{ part }}) as residual,
           row_number() over (partition by {{ part }}, class_key order by {{ key }}) as nth_in_class
    from classes
),
donors as (
    select *,
           first_value(class_key) over (
               partition by {{ part }}
               order by (first_level = {{ last }}), class_size desc, class_key
           ) as donor_key,
           max(class_size) filter (where first_level < {{ last }}) over (partition by {{ part }}) as donor_size
    from sized
),
released_rows as (
    select *,
           case when residual not between 1 and {{ k }} - 1 then first_level
                when coalesce(donor_size, 0) < 2 * {{ k }} - residual then {{ last }}
                when class_key = donor_key and nth_in_class <= {{ k }} - residual then {{ last }}
                else first_level end as released_level
    from donors
)
select
    {%- for column in keep %}
    {{ column }},
    {%- endfor %}
    {%- for qi in qis %}
    {{ k_released(qi, 'released_level', levels) }} as {{ qi }},
    {%- endfor %}
    released_level
from released_rows
{%- endmacro %}


{# A quasi-identifier's released value: the column at the levels that release it, else null. #}
{% macro k_released(column, level_column, levels) -%}
    case when {{ level_column }} in ({% for level in levels %}{% if column in level %}{{ loop.index0 }}, {% endif %}{% endfor %}-1) then {{ column }} end
{%- endmacro %}
