-- One row per person, pseudonymised and k-anonymous: no name, ID, birth date or birth year, phone,
-- hamlet, religion or ethnicity; the quasi-identifiers (age band, sex, commune, organisation count)
-- are released only where at least var('bi_k_anonymity') people share them, coarser otherwise
-- (macros/anonymity.sql). bi and reviewer only.
{{ config(alias='persons') }}

with people as (

    select person_key, age_band, sex, commune_name, organisation_count
    from {{ ref('bi__persons_detail') }}

),

{{ k_anonymise(
    'people', key='person_key', partition_by=[], keep=['person_key'],
    levels=[['age_band', 'sex', 'commune_name', 'organisation_count'],
            ['age_band', 'sex', 'organisation_count'],
            ['sex', 'organisation_count'],
            ['organisation_count'],
            []],
    k=var('bi_k_anonymity')) }}
