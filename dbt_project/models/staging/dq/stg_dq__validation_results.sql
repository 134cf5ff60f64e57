-- Great Expectations results, one row per expectation per validation run (lienthong.quality).
-- Empty until the first validation has created dq.validation_results.
-- depends_on: {{ source('dq', 'validation_results') }}
{% set results = adapter.get_relation(database=target.database, schema='dq', identifier='validation_results') if execute else none %}
{% if results is not none %}
select run_id, suite, table_name, validated_at, expectation, severity, success, org_code, entity, batch_id
from {{ source('dq', 'validation_results') }}
{% else %}
select null::text as run_id, null::text as suite, null::text as table_name, null::timestamptz as validated_at,
       null::text as expectation, null::text as severity, null::boolean as success, null::text as org_code,
       null::text as entity, null::bigint as batch_id
where false
{% endif %}
