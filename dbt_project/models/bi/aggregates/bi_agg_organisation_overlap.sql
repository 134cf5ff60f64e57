-- Cross-organisation figures for every analyst: people on both rolls, per pair of organisations
-- (the diagonal is each organisation's distinct people). Aggregates only: no person_key.
{{ config(alias='agg_organisation_overlap') }}

with rolls as (

    select distinct person_key, org_code from {{ ref('bi__memberships_detail') }}

),

counted as (

    select
        a.org_code,
        b.org_code       as other_org_code,
        count(*)::bigint as people
    from rolls as a
    join rolls as b using (person_key)
    group by a.org_code, b.org_code

)

select
    org_code,
    other_org_code,
    {{ suppress_small('people') }}   as people,
    {{ any_suppressed(['people']) }} as suppressed
from counted
