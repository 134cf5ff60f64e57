-- Person-linking runs (full or incremental). Empty until linking has first run.
-- depends_on: {{ source('identity', 'runs') }}
{% if identity_ready() %}
select run_id from {{ source('identity', 'runs') }}
{% else %}
select null::bigint as run_id where false
{% endif %}
