-- Who is on which organisation's current roll, in which unit: one row per membership record.
select
    source_record_key,
    person_id,
    org_code,
    unit_key,
    unit_name,
    commune_name,
    new_admin_unit_key,
    commune_resolution,
    joined_on,
    last_delivery_date as as_of_date
from {{ ref('int_members__current') }}
