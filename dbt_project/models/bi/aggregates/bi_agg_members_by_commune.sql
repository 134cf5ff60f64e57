-- Per organisation and commune: members, distinct people, and how many of them are also on another
-- organisation's roll. Aggregates only, readable by every analyst.
{{ config(alias='agg_members_by_commune') }}

with rolls as (

    select
        person_key,
        org_code,
        coalesce(commune_name, '(không rõ)') as commune_name
    from {{ ref('bi__memberships_detail') }}

),

people as (

    select person_key, organisation_count from {{ ref('bi__persons_detail') }}

),

counted as (

    select
        r.org_code,
        r.commune_name,
        count(*)::bigint                                                              as members,
        count(distinct r.person_key)::bigint                                          as people,
        count(distinct r.person_key) filter (where p.organisation_count > 1)::bigint as people_in_other_organisations
    from rolls as r
    join people as p using (person_key)
    group by r.org_code, r.commune_name

)

-- Small cells are suppressed: a commune with two members of an organisation names them to anyone
-- who knows the commune.
select
    org_code,
    commune_name,
    {{ suppress_small('members') }}                       as members,
    {{ suppress_small('people') }}                        as people,
    {{ suppress_small('people_in_other_organisations') }} as people_in_other_organisations,
    {{ any_suppressed(['members', 'people', 'people_in_other_organisations']) }} as suppressed
from counted
