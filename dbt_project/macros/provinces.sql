{# The new province (2025 code) of the roll of the organisation in org_column, from its config's
   province:, else '' (a roll of several provinces, or of the only one): where an address names no
   province, its commune is looked for in the roll's (int_admin__communes). #}
{% macro roll_province(org_column) -%}
    {%- set homes = [] -%}
    {%- for code, org in org_config().items() if org.province_code -%}
        {%- do homes.append((code, org.province_code)) -%}
    {%- endfor -%}
    {%- if homes -%}
        case {{ org_column }}{% for code, province in homes %} when '{{ code }}' then '{{ province }}'{% endfor %} else '' end
    {%- else -%}
        ''::text
    {%- endif -%}
{%- endmacro %}
