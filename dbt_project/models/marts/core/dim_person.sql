-- One row per person on any roll, with the attributes of the most complete record (a full birth
-- date and an ID win), and the organisations whose current roll holds them.
with records as (

    select * from {{ ref('int_members__current') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id order by birth_date is null, id_number is null, source_record_key
        ) as pick
    from records

),

orgs as (

    select person_id, count(distinct org_code)::int as organisation_count,
           array_agg(distinct org_code order by org_code) as organisations
    from records group by person_id

)

select
    r.person_id,
    r.full_name,
    r.name_key,
    r.birth_date,
    r.birth_year,
    r.sex,
    r.commune_name,
    r.hamlet_name,
    r.new_admin_unit_key,
    r.person_is_linked,
    o.organisation_count,
    o.organisations
from ranked as r
join orgs as o using (person_id)
where r.pick = 1
