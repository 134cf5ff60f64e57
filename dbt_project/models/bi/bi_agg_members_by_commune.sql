-- Per organisation and commune: members, distinct people, and how many of them are also on another
-- organisation's roll. Aggregates only, readable by every analyst.
{{ config(schema='bi', alias='agg_members_by_commune', materialized='table') }}

with rolls as (

    select
        person_key,
        org_code,
        coalesce(commune_name, '(không rõ)') as commune_name
    from {{ ref('bi_memberships') }}

),

people as (

    select person_key, organisation_count from {{ ref('bi_persons') }}

)

select
    r.org_code,
    r.commune_name,
    count(*)::bigint                                                     as members,
    count(distinct r.person_key)::bigint                                 as people,
    count(distinct r.person_key) filter (where p.organisation_count > 1)::bigint as people_in_other_organisations
from rolls as r
join people as p using (person_key)
group by r.org_code, r.commune_name
