{# dbt-postgres' index statement (its `indexes` config), with `nulls not distinct` on a unique index:
   a null in a key is one value, as a `group by` of the key (unique_combination) counts it, so a
   unique index holds a key exactly as that test did (the unique_key_index test reads it). #}
{% macro postgres__get_create_index_sql(relation, index_dict) -%}
  {%- set index_config = adapter.parse_index(index_dict) -%}
  create {% if index_config.unique %}unique {% endif %}index if not exists
  "{{ index_config.render(relation) }}"
  on {{ relation }} {% if index_config.type %}using {{ index_config.type }} {% endif -%}
  ({{ ", ".join(index_config.columns) }}){% if index_config.unique %} nulls not distinct{% endif %}
{%- endmacro %}
