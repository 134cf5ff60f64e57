-- Which person each source record belongs to (person linking's output), with the linking run that
-- last set it. Empty, with the same columns, until linking has first run (identity_ready()).
-- depends_on: {{ source('identity', 'record_person') }}
{% if identity_ready() %}
select org_code, source_record_key, person_id, run_id
from {{ source('identity', 'record_person') }}
{% else %}
select null::text as org_code, null::text as source_record_key, null::text as person_id, null::bigint as run_id
where false
{% endif %}
