-- One row per membership, pseudonymised; per-organisation rows, so `lienthong access sync` puts it
-- under row-level security (each organisation's analysts see their own members only).
{{ config(schema='bi', alias='memberships', materialized='table') }}

select
    keys.person_key,
    m.org_code,
    m.unit_name,
    m.commune_name,
    m.joined_on,
    m.as_of_date,
    p.birth_year,
    p.age_band,
    p.sex
from {{ ref('fct_membership') }} as m
join {{ ref('bi__person_keys') }} as keys using (person_id)
join {{ ref('bi_persons') }} as p using (person_key)
