{# The deployment's new provinces (var provinces, 2025 codes) as an SQL list: '80', '82'. #}
{% macro provinces_sql() -%}
    {{ "'" ~ var('provinces') | join("', '") ~ "'" }}
{%- endmacro %}
