-- One row per membership, pseudonymised and k-anonymous within each organisation's roll: the
-- quasi-identifiers (unit, commune, age band, sex, year joined) are released only where at least
-- var('bi_k_anonymity') members of the organisation share them, coarser otherwise
-- (macros/anonymity.sql): a unit name only where k members of that unit look alike. Per-organisation
-- rows, so `lienthong access sync` puts it under row-level security (each organisation's analysts
-- see their own members only). as_of_date is the date of the organisation's roll, one per
-- organisation: a record's own last delivery would tell which members a night's changes (joins,
-- transfers) named, and would split the roll into groups of a few rows, too small to show anything.
{{ config(alias='memberships') }}

with memberships as (

    select person_key, org_code, max(as_of_date) over (partition by org_code) as as_of_date,
           unit_name, commune_name, age_band, sex, joined_year
    from {{ ref('bi__memberships_detail') }}

),

{{ k_anonymise(
    'memberships', key='person_key', partition_by=['org_code'],
    keep=['person_key', 'org_code', 'as_of_date'],
    levels=[['unit_name', 'commune_name', 'age_band', 'sex', 'joined_year'],
            ['unit_name', 'commune_name', 'age_band', 'sex'],
            ['unit_name', 'commune_name', 'sex'],
            ['commune_name', 'age_band', 'sex'],
            ['age_band', 'sex', 'joined_year'],
            ['age_band', 'sex'],
            ['sex'],
            []],
    k=var('bi_k_anonymity')) }}
