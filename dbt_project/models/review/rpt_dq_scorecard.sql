-- Data-quality scorecard per organisation and unit on the current roll, for the review: how
-- complete and valid the named records are, duplicates, and the organisation's failed batch
-- expectations (Great Expectations, dq schema) over the last 30 days.
with members as (

    select *, count(*) over (partition by org_code, person_id) as records_of_person
    from {{ ref('int_members__current') }}

),

units as (

    select
        m.org_code,
        m.unit_key,
        max(m.unit_name)                                                        as unit_name,
        max(m.new_admin_unit_key)                                               as new_admin_unit_key,
        count(*)::int                                                           as records,
        avg((m.id_number is null)::int)                                         as missing_id_rate,
        avg((m.id_number is not null and m.id_number !~ '^(\d{9}|\d{12})$')::int) as invalid_id_rate,
        avg((m.birth_year is null)::int)                                        as missing_birth_rate,
        avg((m.birth_year is not null and m.birth_date is null)::int)           as year_only_birth_rate,
        avg((m.phone is null)::int)                                             as missing_phone_rate,
        avg((m.sex is null)::int)                                               as unknown_sex_rate,
        avg((m.new_admin_unit_key is null)::int)                                as unresolved_commune_rate,
        avg((m.records_of_person > 1)::int)                                     as duplicate_rate
    from members as m
    group by m.org_code, m.unit_key

),

batch_checks as (

    select org_code,
           count(*) filter (where not success and severity = 'critical')::int as failed_critical_30d,
           count(*) filter (where not success and severity <> 'critical')::int as failed_warning_30d
    from {{ ref('stg_dq__validation_results') }}
    where batch_id is not null and validated_at >= now() - interval '30 days'
    group by org_code

)

select
    u.org_code,
    u.unit_key,
    u.unit_name,
    u.new_admin_unit_key,
    u.records,
    round(u.missing_id_rate, 4)          as missing_id_rate,
    round(u.invalid_id_rate, 4)          as invalid_id_rate,
    round(u.missing_birth_rate, 4)       as missing_birth_rate,
    round(u.year_only_birth_rate, 4)     as year_only_birth_rate,
    round(u.missing_phone_rate, 4)       as missing_phone_rate,
    round(u.unknown_sex_rate, 4)         as unknown_sex_rate,
    round(u.unresolved_commune_rate, 4)  as unresolved_commune_rate,
    round(u.duplicate_rate, 4)           as duplicate_rate,
    coalesce(b.failed_critical_30d, 0)   as org_failed_critical_30d,
    coalesce(b.failed_warning_30d, 0)    as org_failed_warning_30d,
    -- 100 = every record complete and valid; each defect rate weighs the same.
    round(100 * (1 - (u.missing_id_rate + u.invalid_id_rate + u.missing_birth_rate + u.year_only_birth_rate
                      + u.missing_phone_rate + u.unknown_sex_rate + u.unresolved_commune_rate + u.duplicate_rate) / 8), 1)
                                         as quality_score,
    (select max(delivery_date) from {{ ref('stg_landing__batches') }} where status = 'loaded') as as_of_date
from units as u
left join batch_checks as b using (org_code)
