-- Organisational units with history (from the snp_org_units snapshot): a unit renamed or moved to
-- another commune gets a new version; territorial units (hamlet chi hội/chi đoàn) and institutional
-- ones (agency, school, enterprise) hang under their commune.
-- A version is one unit on one day: several builds on a day (a backfill, a rerun after a late
-- delivery) may each snapshot a change, and the day's last version stands for that day.
with versions as (

    select
        *,
        row_number() over (partition by unit_key, dbt_valid_from::date order by dbt_valid_from desc) as nth_of_day
    from {{ ref('snp_org_units') }}

)

select
    unit_key,
    org_code,
    unit_code,
    unit_name,
    unit_kind,
    case when unit_kind in ('hamlet', 'commune') then 'territorial' else 'institutional' end as unit_type,
    new_admin_unit_key                        as parent_admin_unit_key,
    dbt_valid_from::date                      as valid_from,
    dbt_valid_to::date                        as valid_to,
    dbt_valid_to is null                      as is_current
from versions
where nth_of_day = 1
