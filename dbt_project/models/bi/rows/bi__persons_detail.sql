-- One row per person, pseudonymised, before k-anonymisation (ephemeral, never stored): what bi_persons
-- releases row by row and what the aggregates count.
{{ config(materialized='ephemeral') }}

with memberships as (

    select person_id, count(distinct org_code) as organisation_count
    from {{ ref('fct_membership') }}
    group by person_id

),

people as (

    select
        keys.person_key,
        p.birth_year,
        extract(year from current_date)::int - p.birth_year as age,
        p.sex,
        p.commune_name,
        coalesce(m.organisation_count, 0)::int as organisation_count
    from {{ ref('dim_person') }} as p
    join {{ ref('bi__person_keys') }} as keys using (person_id)
    left join memberships as m using (person_id)

)

select
    person_key,
    birth_year,
    case
        when age is null then null
        when age < 16 then '00-15'
        when age <= 30 then '16-30'
        when age <= 45 then '31-45'
        when age <= 60 then '46-60'
        when age <= 75 then '61-75'
        else '76+'
    end::text as age_band,
    sex,
    commune_name,
    organisation_count
from people
