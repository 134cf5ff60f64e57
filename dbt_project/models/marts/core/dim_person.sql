-- One row per person on any roll, now or earlier in the history (the monthly snapshot still counts
-- members who left), with the attributes of the most complete record (current records first, then
-- a full birth date and an ID win), and the organisations whose current roll holds them.
with records as (

    select * from {{ ref('int_membership__records') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by person_id order by not on_current_roll, birth_date is null, id_number is null, source_record_key
        ) as pick
    from records

),

orgs as (

    select person_id,
           count(distinct org_code) filter (where on_current_roll)::int as organisation_count,
           coalesce(array_agg(distinct org_code order by org_code) filter (where on_current_roll), '{}') as organisations,
           bool_or(on_current_roll) as on_current_roll
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
    o.organisations,
    o.on_current_roll
from ranked as r
join orgs as o using (person_id)
where r.pick = 1
