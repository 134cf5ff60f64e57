{# No dbt packages are fetched at run time (no network), so this small generic test stands in
   for dbt_utils.unique_combination_of_columns. #}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
