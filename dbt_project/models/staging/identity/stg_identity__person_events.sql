-- Person linking's person events (created | merged | split), with the run that made them: a merge or
-- a split names the person the records came from (other_person_id). Empty until linking has first run.
-- depends_on: {{ source('identity', 'person_events') }}
{% if identity_ready() %}
select run_id, event, person_id, other_person_id
from {{ source('identity', 'person_events') }}
{% else %}
select null::bigint as run_id, null::text as event, null::text as person_id, null::text as other_person_id
where false
{% endif %}
