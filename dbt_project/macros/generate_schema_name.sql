{# Use the folder's schema name as is (staging, marts, review), not "<target>_<schema>":
   the schemas are part of the access design, the same in every environment. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
