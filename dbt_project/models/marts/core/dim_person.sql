-- One row per person, with the attributes of the most complete record.
with ranked as (

    select
        *,
        row_number() over (
            partition by person_id order by birth_date is null, id_number is null, source_record_key
        ) as pick
    from {{ ref('int_members__current') }}

)

select
    person_id,
    full_name,
    name_key,
    birth_date,
    birth_year,
    sex,
    commune_name,
    hamlet_name
from ranked
where pick = 1
