-- One row per membership, pseudonymised, before k-anonymisation (ephemeral, never stored): what
-- bi_memberships releases row by row and what the aggregates count.
{{ config(materialized='ephemeral') }}

select
    keys.person_key,
    m.org_code,
    m.unit_name,
    m.commune_name,
    m.joined_on,
    extract(year from m.joined_on)::int as joined_year,
    m.as_of_date,
    p.birth_year,
    p.age_band,
    p.sex
from {{ ref('fct_membership') }} as m
join {{ ref('bi__person_keys') }} as keys using (person_id)
join {{ ref('bi__persons_detail') }} as p using (person_key)
