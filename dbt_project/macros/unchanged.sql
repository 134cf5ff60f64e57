{# Views and seeds are built again only when what they are built from changed. Every build ran
   every view's DDL and reloaded every seed (40 views and 7 seeds: about 11 node seconds of a demo
   night at load 6, docs/warehouse.md) though a night changes none of them. Each such relation
   carries the md5 of what it was built from (a view's SQL and contract; a seed's CSV and column types) as its
   comment; a build whose md5 is the same leaves it as it is. A relation that an upstream
   replacement dropped (a table or seed recreated drops its old relation with cascade) no longer
   exists and is built again; --full-refresh rebuilds them all. Otherwise dbt's own materialization. #}

{% macro built_from_unchanged(relkind, fingerprint) -%}
    {%- if flags.FULL_REFRESH -%}{{ return(false) }}{%- endif -%}
    {%- set kept = run_query("select obj_description(c.oid, 'pg_class') from pg_class as c join pg_namespace as n"
                             ~ " on n.oid = c.relnamespace where c.relkind = '" ~ relkind ~ "' and n.nspname = '"
                             ~ this.schema ~ "' and c.relname = '" ~ this.identifier ~ "'") -%}
    {{- return(kept.rows | length == 1 and kept.rows[0][0] == fingerprint) -}}
{%- endmacro %}

{% macro keep_unchanged(relation_type) -%}
    {{ run_hooks(pre_hooks) }}
    {%- call noop_statement('main', 'UNCHANGED', 'UNCHANGED', 0) -%} select 1 {%- endcall -%}
    {{ run_hooks(post_hooks) }}
    {{- return({'relations': [this.incorporate(type=relation_type)]}) -}}
{%- endmacro %}

{% macro record_built_from(relation_type, fingerprint) -%}
    {%- call statement('fingerprint', auto_begin=True) -%}
        comment on {{ relation_type }} {{ this }} is '{{ fingerprint }}'
    {%- endcall -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{%- materialization view, adapter='postgres' -%}
  {%- set fingerprint = 'dbt view md5 ' ~ local_md5(sql ~ tojson(model.config.contract) ~ tojson(model.columns)) -%}
  {%- if built_from_unchanged('v', fingerprint) -%}{{ return(keep_unchanged('view')) }}{%- endif -%}
  {%- set built = dbt.materialization_view_default() -%}
  {%- do record_built_from('view', fingerprint) -%}
  {{ return(built) }}
{%- endmaterialization -%}

{%- materialization seed, adapter='postgres' -%}
  {%- set fingerprint = 'dbt seed md5 ' ~ local_md5(model.checksum.checksum ~ tojson(config.get('column_types'))
                                                     ~ config.get('delimiter') ~ config.get('quote_columns')) -%}
  {#- dbt hashes a seed's content up to 1 MiB, above only its path: such a seed is always reloaded. #}
  {%- if model.checksum.name == 'sha256' and built_from_unchanged('r', fingerprint) -%}
    {%- do store_result('agate_table', response='OK', agate_table=load_agate_table()) -%}  {#- dbt's seed task reads it #}
    {{ return(keep_unchanged('table')) }}
  {%- endif -%}
  {%- set built = dbt.materialization_seed_default() -%}
  {%- do record_built_from('table', fingerprint) -%}
  {{ return(built) }}
{%- endmaterialization -%}
