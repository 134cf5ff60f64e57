{# The deployment's new provinces (2025 codes) as an SQL list: '80', '82'. They are the organisation
   configs' (deployed_provinces(), rendered from them); var provinces is for dbt unit tests only. #}
{% macro provinces_sql() -%}
    {{ "'" ~ var('provinces', deployed_provinces()) | join("', '") ~ "'" }}
{%- endmacro %}
