-- Who is on which organisation's current roll, in which unit.
select
    source_record_key,
    person_id,
    org_code,
    unit_name,
    commune_name,
    joined_on,
    delivery_date as as_of_date
from {{ ref('int_members__current') }}
