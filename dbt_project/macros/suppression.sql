{# Complementary suppression for the aggregates every analyst reads, one pass along one dimension.

   `source` holds cells and their margins: rows whose `cell` column is '*' are the totals over that
   dimension (within `group_by`). After suppress_small() hid the small cells, a group with exactly
   one hidden cell would give it away (margin minus the visible cells), so this pass also hides the
   group's smallest visible non-zero cell, or the margin when every other cell is zero. Each measure `m` comes with a boolean `m_hidden`; values
   stay in place (the final select nulls the hidden ones). Run the passes for each dimension in
   turn, a few rounds (a cell hidden in one dimension can leave another group with one hidden
   cell); `carry` measures pass through unchanged. The model's `complementary_suppression` test checks that no such group is left. #}
{% macro complementary_pass(source, keys, measures, group_by, cell, carry=[]) -%}
select
    {{ keys | join(', ') }},
    {%- for m in carry %}
    {{ m }}, {{ m }}_hidden,
    {%- endfor %}
    {%- for m in measures %}
    {{ m }},
    {{ m }}_hidden or (
        count(*) filter (where {{ m }}_hidden and {{ cell }} <> '*') over (partition by {{ group_by | join(', ') }}) = 1
        and case when {{ cell }} <> '*'
            -- the group's smallest visible non-zero cell
            then not {{ m }}_hidden and {{ m }} > 0
                 and row_number() over (
                     partition by {{ group_by | join(', ') }}, (not {{ m }}_hidden and {{ m }} > 0 and {{ cell }} <> '*')
                     order by {{ m }}, {{ cell }}) = 1
            -- or, when every other cell is zero, the margin itself (it equals the hidden cell)
            else count(*) filter (where not {{ m }}_hidden and {{ m }} > 0 and {{ cell }} <> '*')
                     over (partition by {{ group_by | join(', ') }}) = 0
            end
    ) as {{ m }}_hidden{{ ',' if not loop.last }}
    {%- endfor %}
from {{ source }}
{%- endmacro %}


{# True when the count is small enough to single people out (what suppress_small() nulls). #}
{% macro is_small(count) -%}
    ({{ count }} between 1 and {{ var('bi_min_cell_count') }} - 1)
{%- endmacro %}
