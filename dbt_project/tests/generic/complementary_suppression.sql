{# No group (the rows sharing `group_by`) has exactly one hidden cell among the rows whose `cell`
   column is not '*' while its margin (the '*' row) is shown: it would be the margin minus the others. #}
{% test complementary_suppression(model, measures, group_by, cell) %}
{% for m in measures %}
select '{{ m }}' as measure, {{ group_by | join(', ') }}
from {{ model }}
group by {{ group_by | join(', ') }}
having count(*) filter (where {{ m }} is null and {{ cell }} <> '*') = 1
   and count(*) filter (where {{ m }} is not null and {{ cell }} = '*') = 1
{% if not loop.last %}union all{% endif %}
{% endfor %}
{% endtest %}
