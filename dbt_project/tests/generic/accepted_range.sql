{# Values within [min_value, max_value] (nulls pass): dbt_utils.accepted_range without the package. #}
{% test accepted_range(model, column_name, min_value, max_value) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
